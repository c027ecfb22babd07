#pragma once

#include "auth/credential.hpp"
#include "http/connection_slot.hpp"
#include "http/context.hpp"
#include "http/request.hpp"
#include "http/stream_request.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace posfeed::http {

/// The session cookie's name.
inline constexpr std::string_view session_cookie = "posfeed_session";

/// The value of cookie `name`, or nullopt.
std::optional<std::string_view> cookie_value(const request& req, std::string_view name);

/// The session id the request presents: `session=` or the session cookie.
std::optional<std::string> presented_session_id(const request& req, const target& t);

/// Establishes who is asking, in this order: `X-Api-Key`, `token=` (a UrlToken), `session=`,
/// the session cookie. unauthenticated when there is none or it is not valid (unknown,
/// revoked, ended, expired). Reads the store on the pool.
boost::asio::awaitable<core::result<auth::credential>>
authenticate(context& ctx, const request& req, const target& t);

/// Serves one event stream on `stream` until the client leaves, the stream is closed (shutdown,
/// slow consumer) or an error; errors before the stream starts are JSON responses. Runs on the
/// connection's shard `shard`. Once the stream is live it takes over the connection's `slot`
/// (its counts then last as long as the stream).
boost::asio::awaitable<void> serve_eventsource(context& ctx, boost::beast::tcp_stream& stream,
                                               const request& req, const target& t,
                                               std::size_t shard, connection_slot& slot);

/// Answers one non-streaming request: the JSON API, /healthz, /metrics (whose access depends on
/// `peer`, the client's address), static files.
boost::asio::awaitable<response> handle_request(context& ctx, const request& req, const target& t,
                                                const boost::asio::ip::address& peer);

} // namespace posfeed::http
