#pragma once

#include "auth/credential.hpp"
#include "http/context.hpp"
#include "http/request.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace posfeed::http {

/// Establishes who is asking from the request's credentials (`X-Api-Key` for now);
/// unauthenticated when there is none or it is not valid. Reads the store on the pool.
boost::asio::awaitable<core::result<auth::credential>> authenticate(context& ctx,
                                                                    const request& req);

/// Whether `path` is an event-source URL (`/eventsource` or `/eventsource_<RmSystem>`).
bool is_eventsource_path(std::string_view path);

/// Serves one event stream on `stream` until the client leaves, the stream is closed (shutdown,
/// slow consumer) or an error; errors before the stream starts are JSON responses. Runs on the
/// connection's shard `shard`.
boost::asio::awaitable<void> serve_eventsource(context& ctx, boost::beast::tcp_stream& stream,
                                               const request& req, const target& t,
                                               std::size_t shard);

/// Answers one non-streaming request: the JSON API, /healthz.
boost::asio::awaitable<response> handle_request(context& ctx, const request& req, const target& t);

} // namespace posfeed::http
