#include "process_stats.hpp"
#include "runtime.hpp"
#include "stream_pool.hpp"
#include "workloads.hpp"

#include <iostream>

namespace posfeed_bench {
namespace {

/// Idle streams only need to stay open; events (keepalives carry none) are counted.
class idle_sink final : public stream_sink {
  public:
    void on_event(std::uint32_t, std::int64_t, std::size_t) override { ++events; }
    void on_end(std::uint32_t, const std::string& reason) override {
        if (ended++ == 0) {
            first_end = reason;
        }
    }
    std::uint64_t events = 0;
    std::uint64_t ended = 0;
    std::string first_end;
};

} // namespace

boost::json::object run_idle(const bench_options& options) {
    const auto requests = stream_request::from(options);
    runtime rt(options.threads);
    std::vector<idle_sink> sinks(rt.size());
    std::vector<stream_sink*> sink_ptrs;
    for (auto& s : sinks) {
        sink_ptrs.push_back(&s);
    }
    stream_pool pool(rt, requests, options, sink_ptrs);
    memory_sample before;
    memory_sample after;
    memory_sample after_settle;
    rt.run([&]() -> asio::awaitable<void> {
        before = sample_memory(options.server_pids);
        co_await pool.open(static_cast<std::uint32_t>(options.subscribers));
        after = sample_memory(options.server_pids);
        co_await sleep_for(options.settle_s);
        after_settle = sample_memory(options.server_pids);
    });

    boost::json::object r = result_base("idle", options);
    const auto live = pool.live();
    std::uint64_t ended = 0;
    std::string first_end;
    for (const auto& s : sinks) {
        ended += s.ended;
        if (first_end.empty()) {
            first_end = s.first_end;
        }
    }
    const double connect_s =
        live ? static_cast<double>(pool.last_live_ns() - pool.first_connect_ns()) / 1e9 : 0.0;
    r["subscribers"] = options.subscribers;
    r["live"] = live;
    r["failed"] = pool.failed();
    r["closed_after_live"] = ended;
    r["connect_s"] = connect_s;
    r["connects_per_s"] = connect_s > 0 ? static_cast<double>(live) / connect_s : 0.0;
    r["rss_before_kib"] = before.rss_kib;
    r["rss_live_kib"] = after.rss_kib;
    r["rss_after_kib"] = after_settle.rss_kib;
    r["anon_before_kib"] = before.anon_kib;
    r["anon_after_kib"] = after_settle.anon_kib;
    if (live > 0 && before.rss_kib >= 0 && after_settle.rss_kib >= 0) {
        r["rss_per_subscriber_bytes"] = static_cast<double>(after_settle.rss_kib - before.rss_kib) *
                                        1024.0 / static_cast<double>(live);
        r["anon_per_subscriber_bytes"] =
            static_cast<double>(after_settle.anon_kib - before.anon_kib) * 1024.0 /
            static_cast<double>(live);
    } else {
        r["rss_per_subscriber_bytes"] = nullptr;
        r["anon_per_subscriber_bytes"] = nullptr;
    }
    if (!pool.first_error().empty()) {
        r["first_error"] = pool.first_error();
    }
    if (!first_end.empty()) {
        r["first_close"] = first_end;
    }
    return r;
}

} // namespace posfeed_bench
