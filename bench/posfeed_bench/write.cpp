#include "latency.hpp"
#include "publisher.hpp"
#include "runtime.hpp"
#include "workloads.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <iostream>
#include <stdexcept>

namespace posfeed_bench {
namespace {

struct write_tally {
    std::int64_t deadline_ns = 0;
    std::int64_t next_seq = 0;
    std::int64_t commits = 0;
    std::int64_t errors = 0;
    std::string first_error;
    std::vector<float> ack_ms;
    int running = 0;
};

asio::awaitable<void> write_loop(asio::io_context& ctx, const publish_template& tmpl,
                                 write_tally& tally) {
    publisher pub(ctx, tmpl);
    while (now_ns() < tally.deadline_ns) {
        const std::int64_t seq = tally.next_seq++;
        const std::int64_t sent = now_ns();
        const publish_result result = co_await pub.send(seq);
        tally.ack_ms.push_back(static_cast<float>(static_cast<double>(now_ns() - sent) / 1e6));
        if (result.ok()) {
            ++tally.commits;
        } else {
            ++tally.errors;
            if (tally.first_error.empty()) {
                tally.first_error =
                    result.status ? "status " + std::to_string(result.status) : result.error;
                std::cerr << "posfeed-bench: write " << seq << ": " << tally.first_error << "\n";
            }
        }
    }
    --tally.running;
}

} // namespace

boost::json::object run_write(const bench_options& options) {
    const auto templates = publish_template::from(options);
    if (options.writers <= 0 || options.seconds <= 0) {
        throw std::runtime_error("--writers and --seconds must be positive");
    }
    runtime rt(1);
    write_tally tally;
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    rt.run([&]() -> asio::awaitable<void> {
        start_ns = now_ns();
        tally.deadline_ns = start_ns + static_cast<std::int64_t>(options.seconds * 1e9);
        tally.running = options.writers;
        // Writer i to publish URL i % n: round-robin over the servers.
        for (int i = 0; i < options.writers; ++i) {
            const auto& tmpl = templates[static_cast<std::size_t>(i) % templates.size()];
            asio::co_spawn(rt.context(0), write_loop(rt.context(0), tmpl, tally), asio::detached);
        }
        while (tally.running > 0) {
            co_await sleep_for(0.005);
        }
        end_ns = now_ns();
    });
    const double elapsed = static_cast<double>(end_ns - start_ns) / 1e9;
    const auto lat = latency_summary::of(tally.ack_ms);
    boost::json::object r = result_base("write", options);
    r["writers"] = options.writers;
    r["seconds"] = elapsed;
    r["commits"] = tally.commits;
    r["errors"] = tally.errors;
    r["commits_per_s"] = elapsed > 0 ? static_cast<double>(tally.commits) / elapsed : 0.0;
    r["ack_latency_ms"] = {
        {"p50", lat.p50}, {"p99", lat.p99}, {"max", lat.max}, {"mean", lat.mean}};
    if (!tally.first_error.empty()) {
        r["first_error"] = tally.first_error;
    }
    return r;
}

} // namespace posfeed_bench
