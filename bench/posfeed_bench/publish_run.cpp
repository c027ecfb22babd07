#include "publish_run.hpp"

#include "runtime.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <iostream>

namespace posfeed_bench {

publish_log::publish_log(std::int64_t n)
    : total(n), sent_ns(new std::atomic<std::int64_t>[static_cast<std::size_t>(n)]),
      acked(static_cast<std::size_t>(n), 0) {
    for (std::int64_t i = 0; i < n; ++i) {
        sent_ns[i].store(0, std::memory_order_relaxed);
    }
    ack_ms.reserve(static_cast<std::size_t>(n));
}

namespace {

struct pacing {
    std::int64_t start_ns;
    double period_ns; ///< 0: as fast as possible
    std::int64_t next = 0;
    int running = 0;
};

asio::awaitable<void> publish_loop(asio::io_context& ctx, const publish_template& tmpl,
                                   pacing& pace, publish_log& log) {
    publisher pub(ctx, tmpl);
    asio::steady_timer timer(ctx);
    while (pace.next < log.total) {
        const std::int64_t seq = pace.next++;
        if (pace.period_ns > 0) {
            const auto due = pace.start_ns +
                             static_cast<std::int64_t>(static_cast<double>(seq) * pace.period_ns);
            const std::int64_t wait = due - now_ns();
            if (wait > 0) {
                timer.expires_after(std::chrono::nanoseconds(wait));
                co_await timer.async_wait(asio::use_awaitable);
            }
        }
        const std::int64_t sent = now_ns();
        log.sent_ns[seq].store(sent, std::memory_order_release);
        const publish_result result = co_await pub.send(seq);
        const std::int64_t answered = now_ns();
        log.ack_ms.push_back(static_cast<float>(static_cast<double>(answered - sent) / 1e6));
        if (result.ok()) {
            log.acked[static_cast<std::size_t>(seq)] = 1;
            ++log.published;
            log.last_ack_ns = answered;
        } else {
            ++log.errors;
            if (log.first_error.empty()) {
                log.first_error =
                    "publish " + std::to_string(seq) + ": " +
                    (result.status ? "status " + std::to_string(result.status) : result.error);
                std::cerr << "posfeed-bench: " << log.first_error << "\n";
            }
        }
    }
    --pace.running;
}

} // namespace

asio::awaitable<void> publish_all(asio::io_context& ctx,
                                  std::span<const publish_template> templates, int connections,
                                  double rate, publish_log& log) {
    pacing pace{.start_ns = now_ns(), .period_ns = rate > 0 ? 1e9 / rate : 0.0};
    log.first_send_ns = pace.start_ns;
    pace.running = std::max(1, connections);
    for (int i = 0; i < pace.running; ++i) {
        const auto& tmpl = templates[static_cast<std::size_t>(i) % templates.size()];
        asio::co_spawn(ctx, publish_loop(ctx, tmpl, pace, log), asio::detached);
    }
    while (pace.running > 0) {
        co_await sleep_for(0.005);
    }
}

} // namespace posfeed_bench
