#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace posfeed::http {

/// When each worker's event loop last ran a beat: a worker that stops running its loop (a
/// handler that blocks, a deadlock) stops beating, and the watchdog pings stop with it.
/// beat() is called on the worker's own thread, fresh() on any.
class worker_heartbeats {
  public:
    using clock = std::chrono::steady_clock;

    explicit worker_heartbeats(std::size_t workers);

    /// Worker `i` ran a beat at `now`.
    void beat(std::size_t i, clock::time_point now);

    /// The first worker whose last beat is older than `max_age` at `now`, or nullopt when all
    /// are fresh.
    std::optional<std::size_t> stale(clock::time_point now, clock::duration max_age) const;

  private:
    std::unique_ptr<std::atomic<std::int64_t>[]> last_;
    std::size_t count_;
};

/// The service manager (systemd) protocol, through libsystemd's sd_notify: all calls do
/// nothing unless the process runs with NOTIFY_SOCKET set (Type=notify).
class service_manager {
  public:
    /// Whether the manager asked for watchdog pings, and how often it expects them
    /// (WATCHDOG_USEC, for this process: WATCHDOG_PID when set).
    static std::optional<std::chrono::microseconds> watchdog_interval();

    /// READY=1 with a status line: the server listens.
    static void ready(std::string_view status);
    /// STOPPING=1: shutdown has begun.
    static void stopping();
    /// WATCHDOG=1: every worker is alive.
    static void watchdog();
};

} // namespace posfeed::http
