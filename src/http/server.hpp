#pragma once

#include "core/config.hpp"
#include "feed/hub.hpp"
#include "http/blocking.hpp"
#include "http/context.hpp"
#include "http/service_manager.hpp"
#include "store/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace posfeed::http {

/// The HTTP server: one worker thread per core, each with its own io_context (a shard of the
/// hub); the acceptor hands connections out round-robin.
class server {
  public:
    server(const core::config& cfg, store::store& db);
    ~server();

    /// Binds and listens on cfg.listen; throws std::runtime_error when it cannot. Returns the
    /// bound port (useful with port 0).
    unsigned short bind();

    /// Serves until SIGINT or SIGTERM, then shuts down through one gate: stop accepting, close
    /// streams, finish queued writes, wait for in-flight responses (up to the grace period),
    /// stop. Returns the process exit code.
    int run();

    feed::hub& hub() { return *hub_; }

  private:
    void accept_next();
    /// Deletes events older than the configured history, every prune interval.
    boost::asio::awaitable<void> prune_history();
    /// Closes the streams of credentials revoked or ended (by this process or another, e.g.
    /// `posfeed apikey revoke`), polling the store every second.
    boost::asio::awaitable<void> watch_revocations();
    /// Every second, tells the other nodes of the database how many of this node's streams
    /// want each session's barcodes, and learns theirs (store::exchange_presence), so that a
    /// scan's Owner counts the session's subscribers on every node.
    boost::asio::awaitable<void> share_presence();
    /// Beats for worker `worker` every `period` on its own loop (the watchdog's evidence).
    boost::asio::awaitable<void> heartbeat(worker_heartbeats& beats, std::size_t worker,
                                           std::chrono::steady_clock::duration period);
    /// On the main thread: WATCHDOG=1 every `period` while every worker beats.
    void ping_watchdog(boost::asio::steady_timer& timer, worker_heartbeats& beats,
                       std::chrono::steady_clock::duration period);

    const core::config& cfg_;
    store::store& db_;
    std::vector<std::unique_ptr<boost::asio::io_context>> workers_;
    std::unique_ptr<feed::hub> hub_;
    blocking_pool pool_;
    std::unique_ptr<metrics> stats_;
    std::unique_ptr<rate_limit> writes_;
    std::unique_ptr<context> ctx_;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
    std::size_t next_worker_ = 0;
    std::string node_id_; ///< random per process: this node among the database's nodes
    std::chrono::steady_clock::time_point last_watchdog_warning_{};
    std::chrono::steady_clock::time_point last_accept_warning_{}; ///< accept-failure log throttle
};

} // namespace posfeed::http
