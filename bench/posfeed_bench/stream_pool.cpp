#include "stream_pool.hpp"

#include "process_stats.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <iostream>

namespace posfeed_bench {

stream_pool::stream_pool(runtime& rt, std::span<const stream_request> requests,
                         const bench_options& options, std::vector<stream_sink*> sinks)
    : runtime_(rt), requests_(requests), options_(options), sinks_(std::move(sinks)) {}

std::string stream_pool::first_error() const {
    std::lock_guard lock(error_mutex_);
    return first_error_;
}

asio::awaitable<void> stream_pool::open(std::uint32_t count) {
    subscribers_.resize(count);
    live_flags_.assign(count, 0);
    first_connect_ns_ = now_ns();
    const int launchers = std::max(1, std::min<int>(options_.concurrency, static_cast<int>(count)));
    launchers_running_ = launchers;
    for (int i = 0; i < launchers; ++i) {
        const std::size_t thread = static_cast<std::size_t>(i) % runtime_.size();
        asio::co_spawn(runtime_.context(thread), launcher(thread, count), asio::detached);
    }
    const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(options_.timeout_s * 1e9);
    std::uint64_t reported = 0;
    while (launchers_running_.load() > 0 && now_ns() < deadline) {
        co_await sleep_for(0.02);
        const std::uint64_t done = live() + failed();
        if (done >= reported + 5000 || (done == count && reported != done)) {
            std::cerr << "posfeed-bench: " << live() << " live, " << failed() << " failed of "
                      << count << "\n";
            reported = done;
        }
    }
}

asio::awaitable<void> stream_pool::launcher(std::size_t thread, std::uint32_t count) {
    auto& ctx = runtime_.context(thread);
    for (std::uint32_t i = next_++; i < count; i = next_++) {
        auto sub = std::make_unique<subscriber>(ctx, requests_[i % requests_.size()], i,
                                                source_address(i, options_.source_addresses),
                                                *sinks_[thread]);
        subscriber& s = *sub;
        subscribers_[i] = std::move(sub);
        const std::string error = co_await s.open();
        if (error.empty()) {
            live_flags_[i] = 1;
            ++live_;
            std::int64_t t = now_ns();
            std::int64_t prev = last_live_ns_.load();
            while (prev < t && !last_live_ns_.compare_exchange_weak(prev, t)) {
            }
            asio::co_spawn(ctx, s.follow(), asio::detached);
        } else {
            ++failed_;
            std::lock_guard lock(error_mutex_);
            if (first_error_.empty()) {
                first_error_ = "stream " + std::to_string(i) + ": " + error;
            }
        }
    }
    --launchers_running_;
}

} // namespace posfeed_bench
