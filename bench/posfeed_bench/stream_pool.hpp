#pragma once

#include "options.hpp"
#include "runtime.hpp"
#include "subscriber.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace posfeed_bench {

/// N event streams opened with bounded concurrency over the runtime's threads; subscriber i
/// sends `requests[i % requests.size()]` (round-robin over the servers), lives on the thread
/// that opened it and reports to that thread's sink.
class stream_pool {
  public:
    /// `requests` (at least one) must outlive the pool; `sinks[t]` receives the events of
    /// thread t (one per runtime context).
    stream_pool(runtime& rt, std::span<const stream_request> requests, const bench_options& options,
                std::vector<stream_sink*> sinks);

    /// Opens `count` streams, `options.concurrency` at a time, and returns when each is live
    /// or has failed (or after `options.timeout_s`). Live streams keep being followed.
    asio::awaitable<void> open(std::uint32_t count);

    [[nodiscard]] std::uint64_t live() const { return live_.load(); }
    [[nodiscard]] std::uint64_t failed() const { return failed_.load(); }
    [[nodiscard]] std::int64_t first_connect_ns() const { return first_connect_ns_; }
    [[nodiscard]] std::int64_t last_live_ns() const { return last_live_ns_.load(); }
    /// live_flags()[i] is 1 when stream i opened; read it only once the runtime is joined.
    [[nodiscard]] const std::vector<std::uint8_t>& live_flags() const { return live_flags_; }
    /// What went wrong for the first stream that failed to open; empty when none did.
    [[nodiscard]] std::string first_error() const;

  private:
    asio::awaitable<void> launcher(std::size_t thread, std::uint32_t count);

    runtime& runtime_;
    std::span<const stream_request> requests_;
    const bench_options& options_;
    std::vector<stream_sink*> sinks_;
    std::vector<std::unique_ptr<subscriber>> subscribers_;
    std::vector<std::uint8_t> live_flags_; ///< each written by the one launcher of its stream
    std::atomic<std::uint32_t> next_{0};
    std::atomic<std::uint64_t> live_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<int> launchers_running_{0};
    std::int64_t first_connect_ns_ = 0;
    std::atomic<std::int64_t> last_live_ns_{0};
    mutable std::mutex error_mutex_;
    std::string first_error_;
};

} // namespace posfeed_bench
