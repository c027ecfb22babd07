#pragma once

#include "store/store.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <type_traits>

namespace posfeed::http {

/// Threads for blocking work (store reads), so that I/O threads never wait on the disk.
class blocking_pool {
  public:
    explicit blocking_pool(std::size_t threads) : pool_(threads) {}

    /// Runs `f` on the pool and resumes the awaiting coroutine on its own executor with the
    /// result, or rethrows what `f` threw. (Written with async_initiate rather than as a
    /// coroutine: GCC 12 destroys some temporaries of a co_await twice when they are passed
    /// by value into another coroutine.)
    template <class F> auto run(F f) {
        using result_type = std::invoke_result_t<F>;
        return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                           void(std::exception_ptr, result_type)>(
            [this](auto handler, F fn) {
                boost::asio::post(pool_, [h = std::move(handler), fn = std::move(fn)]() mutable {
                    std::exception_ptr ep;
                    result_type r{};
                    try {
                        r = fn();
                    } catch (...) {
                        ep = std::current_exception();
                    }
                    auto ex = boost::asio::get_associated_executor(h);
                    boost::asio::dispatch(ex, [h = std::move(h), ep, r = std::move(r)]() mutable {
                        std::move(h)(ep, std::move(r));
                    });
                });
            },
            boost::asio::use_awaitable, std::move(f));
    }

    void stop() {
        pool_.stop();
        pool_.join();
    }

  private:
    boost::asio::thread_pool pool_;
};

/// Submits a write to the store (re-checking `guard` in its transaction) and completes, on the
/// caller's executor, once it is durable or has failed.
template <class Token>
auto async_write(store::store& db, std::string rmsystem, store::write_fn fn,
                 store::write_guard guard, Token&& token) {
    return boost::asio::async_initiate<Token, void(store::write_result)>(
        [&db](auto handler, std::string rm, store::write_fn f, store::write_guard g) {
            auto h = std::make_shared<decltype(handler)>(std::move(handler));
            db.submit(
                std::move(rm), std::move(f),
                [h](store::write_result r) {
                    auto ex = boost::asio::get_associated_executor(*h);
                    boost::asio::dispatch(ex,
                                          [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
                },
                std::move(g));
        },
        token, std::move(rmsystem), std::move(fn), std::move(guard));
}

/// store::follow as an asynchronous operation: completes, on the caller's executor (always
/// through a post, never inside the call), once the store follows `rmsystem` or could not.
template <class Token> auto async_follow(store::store& db, std::string rmsystem, Token&& token) {
    return boost::asio::async_initiate<Token, void(core::status)>(
        [&db](auto handler, std::string rm) {
            auto h = std::make_shared<decltype(handler)>(std::move(handler));
            db.follow(rm, [h](core::status s) {
                auto ex = boost::asio::get_associated_executor(*h);
                boost::asio::post(ex, [h, s = std::move(s)]() mutable { (*h)(std::move(s)); });
            });
        },
        token, std::move(rmsystem));
}

} // namespace posfeed::http
