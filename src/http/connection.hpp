#pragma once

#include "http/context.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace posfeed::http {

/// Serves one TCP connection: reads requests with the configured header and body limits and
/// header timeout, answers them (keep-alive), or hands the connection to the event source.
/// Any exception is caught here, logged, and closes only this connection. Runs on shard
/// `shard`'s executor.
boost::asio::awaitable<void> run_connection(context& ctx, boost::asio::ip::tcp::socket socket,
                                            std::size_t shard);

} // namespace posfeed::http
