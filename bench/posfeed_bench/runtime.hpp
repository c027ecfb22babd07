#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace posfeed_bench {

namespace asio = boost::asio;

/// Nanoseconds on the steady clock: every timestamp the tool compares.
[[nodiscard]] inline std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// One single-threaded io_context per thread. Context 0 runs on the calling thread and hosts
/// the controller and the publishers; subscribers are spread over all contexts.
class runtime {
  public:
    explicit runtime(int threads);
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;
    ~runtime();

    [[nodiscard]] std::size_t size() const { return contexts_.size(); }
    [[nodiscard]] asio::io_context& context(std::size_t i) { return *contexts_[i % size()]; }

    /// Runs `controller` on context 0 and every other context on its own thread until the
    /// controller returns; then stops and joins them all. Rethrows the controller's exception.
    void run(std::function<asio::awaitable<void>()> controller);

  private:
    std::vector<std::unique_ptr<asio::io_context>> contexts_;
};

/// Waits `seconds` on the current coroutine's executor.
asio::awaitable<void> sleep_for(double seconds);

} // namespace posfeed_bench
