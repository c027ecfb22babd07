#include "runtime.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <thread>

namespace posfeed_bench {

runtime::runtime(int threads) {
    const int n = threads < 1 ? 1 : threads;
    for (int i = 0; i < n; ++i) {
        contexts_.push_back(std::make_unique<asio::io_context>(1));
    }
}

runtime::~runtime() = default;

void runtime::run(std::function<asio::awaitable<void>()> controller) {
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < contexts_.size(); ++i) {
        guards.push_back(asio::make_work_guard(*contexts_[i]));
        threads.emplace_back([ctx = contexts_[i].get()] { ctx->run(); });
    }
    std::exception_ptr failure;
    asio::co_spawn(*contexts_[0], std::move(controller), [&](std::exception_ptr e) {
        failure = e;
        for (auto& ctx : contexts_) {
            ctx->stop();
        }
    });
    contexts_[0]->run();
    for (auto& t : threads) {
        t.join();
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

asio::awaitable<void> sleep_for(double seconds) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(seconds)));
    co_await timer.async_wait(asio::use_awaitable);
}

} // namespace posfeed_bench
