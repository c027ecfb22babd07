#include "groups.hpp"
#include "latency.hpp"
#include "process_stats.hpp"
#include "publish_run.hpp"
#include "runtime.hpp"
#include "stream_pool.hpp"
#include "workloads.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <iostream>
#include <stdexcept>

namespace posfeed_bench {
namespace {

/// Per-subscriber receipts: one bit per sequence number.
struct receipt_table {
    receipt_table(std::size_t subscribers, std::int64_t total)
        : words(static_cast<std::size_t>((total + 63) / 64)), seen(subscribers) {}
    std::size_t words;
    std::vector<std::vector<std::uint64_t>> seen; ///< [subscriber] -> bits, filled lazily
};

/// The receipts of one thread's streams.
class fanout_sink final : public stream_sink {
  public:
    fanout_sink(receipt_table& table, const publish_log& log, std::uint32_t groups,
                std::size_t reserve)
        : table_(table), log_(log), groups_(groups) {
        latency_ms.reserve(reserve);
    }

    void on_event(std::uint32_t index, std::int64_t seq, std::size_t data_bytes) override {
        const std::int64_t t = now_ns();
        if (seq < 0 || seq >= log_.total) {
            ++foreign;
            return;
        }
        const std::int64_t sent = log_.sent_ns[seq].load(std::memory_order_acquire);
        if (sent == 0) {
            ++foreign; // an event of an earlier run, not sent by this one
            return;
        }
        if (group_of(seq, groups_) != index % groups_) {
            ++misrouted; // published to another group (channel, RmSystem) than this stream's
            return;
        }
        auto& bits = table_.seen[index];
        if (bits.empty()) {
            bits.assign(table_.words, 0);
        }
        const std::uint64_t mask = std::uint64_t{1} << (seq % 64);
        auto& word = bits[static_cast<std::size_t>(seq / 64)];
        if (word & mask) {
            ++duplicates;
            return;
        }
        word |= mask;
        latency_ms.push_back(static_cast<float>(static_cast<double>(t - sent) / 1e6));
        unique.fetch_add(1, std::memory_order_relaxed);
        last_ns.store(t, std::memory_order_relaxed);
        if (data_bytes_seen == 0) {
            data_bytes_seen = data_bytes;
        }
    }

    void on_end(std::uint32_t, const std::string& reason) override {
        if (ended++ == 0) {
            first_end = reason;
        }
    }

    std::vector<float> latency_ms;
    std::atomic<std::uint64_t> unique{0};
    std::atomic<std::int64_t> last_ns{0};
    std::uint64_t duplicates = 0;
    std::uint64_t foreign = 0;
    std::uint64_t misrouted = 0;
    std::uint64_t ended = 0;
    std::size_t data_bytes_seen = 0;
    std::string first_end;

  private:
    receipt_table& table_;
    const publish_log& log_;
    std::uint32_t groups_;
};

/// Deliveries the acknowledged publishes owe: each one to every live stream of its group.
std::uint64_t owed(const publish_log& log, const std::vector<std::uint64_t>& live_in_group) {
    const auto groups = static_cast<std::uint32_t>(live_in_group.size());
    std::uint64_t sum = 0;
    for (std::int64_t seq = 0; seq < log.total; ++seq) {
        if (log.acked[static_cast<std::size_t>(seq)]) {
            sum += live_in_group[group_of(seq, groups)];
        }
    }
    return sum;
}

/// Points of the latency distribution for a CDF chart: [fraction, ms] pairs, finer in the
/// tail. Sorts `samples`.
boost::json::array cdf_points(std::vector<float>& samples) {
    boost::json::array points;
    if (samples.empty()) {
        return points;
    }
    std::sort(samples.begin(), samples.end());
    std::vector<double> fractions;
    for (int i = 0; i <= 95; i += 5) {
        fractions.push_back(i / 100.0);
    }
    for (const double q : {0.01, 0.02, 0.97, 0.98, 0.99, 0.995, 0.999, 0.9999, 1.0}) {
        fractions.push_back(q);
    }
    std::sort(fractions.begin(), fractions.end());
    for (const double q : fractions) {
        const auto k = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1));
        points.push_back(boost::json::array{q, static_cast<double>(samples[k])});
    }
    return points;
}

} // namespace

boost::json::object run_fanout(const bench_options& options) {
    const auto requests = stream_request::from(options);
    const auto templates = publish_template::from(options);
    if (options.rate <= 0 || options.seconds <= 0) {
        throw std::runtime_error("--rate and --seconds must be positive");
    }
    const auto total = static_cast<std::int64_t>(std::llround(options.rate * options.seconds));
    const std::uint32_t groups = std::max<std::uint32_t>(1, options.groups);
    if (groups > 1 && options.group_headers.empty() &&
        options.stream_url.find("{group}") == std::string::npos) {
        throw std::runtime_error("--groups needs {group} in --stream-url or a --group-headers "
                                 "file, or every stream would read the same channel");
    }
    runtime rt(options.threads);
    publish_log log(total);
    receipt_table table(static_cast<std::size_t>(options.subscribers), total);
    const std::size_t per_thread_reserve = static_cast<std::size_t>(total) *
                                           static_cast<std::size_t>(options.subscribers) / groups /
                                           rt.size();
    std::vector<std::unique_ptr<fanout_sink>> sinks;
    std::vector<stream_sink*> sink_ptrs;
    for (std::size_t i = 0; i < rt.size(); ++i) {
        sinks.push_back(std::make_unique<fanout_sink>(table, log, groups, per_thread_reserve));
        sink_ptrs.push_back(sinks.back().get());
    }
    stream_pool pool(rt, requests, options, sink_ptrs);
    std::uint64_t live = 0;
    bool drained = false;
    std::int64_t publish_end_ns = 0;
    std::vector<std::uint64_t> live_in_group(groups, 0);
    double cpu_start = -1;
    double cpu_end = -1;
    rt.run([&]() -> asio::awaitable<void> {
        co_await pool.open(static_cast<std::uint32_t>(options.subscribers));
        live = pool.live();
        std::cerr << "posfeed-bench: publishing " << total << " events at " << options.rate
                  << "/s to " << live << " streams";
        if (groups > 1) {
            std::cerr << " in " << groups << " groups";
        }
        std::cerr << "\n";
        cpu_start = cpu_seconds(options.server_pids);
        co_await publish_all(rt.context(0), templates, options.publishers, options.rate, log);
        publish_end_ns = now_ns();
        // The launchers are done (open() returned), so their flags may be read here.
        const auto& flags = pool.live_flags();
        for (std::size_t i = 0; i < flags.size(); ++i) {
            live_in_group[i % groups] += flags[i];
        }
        const auto expected = owed(log, live_in_group);
        const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(options.drain_s * 1e9);
        while (now_ns() < deadline) {
            std::uint64_t got = 0;
            for (const auto& s : sinks) {
                got += s->unique.load(std::memory_order_relaxed);
            }
            if (got >= expected) {
                drained = true;
                break;
            }
            co_await sleep_for(0.01);
        }
        cpu_end = cpu_seconds(options.server_pids);
        // Let duplicates, if any, arrive too.
        co_await sleep_for(0.2);
    });

    // Every thread is joined: the tables may be read directly.
    std::uint64_t received = 0;
    std::uint64_t unacked_received = 0;
    for (const auto& bits : table.seen) {
        for (std::size_t w = 0; w < bits.size(); ++w) {
            std::uint64_t acked_mask = 0;
            for (std::size_t b = 0; b < 64; ++b) {
                const std::size_t seq = w * 64 + b;
                if (seq < log.acked.size() && log.acked[seq]) {
                    acked_mask |= std::uint64_t{1} << b;
                }
            }
            received += static_cast<std::uint64_t>(std::popcount(bits[w] & acked_mask));
            unacked_received += static_cast<std::uint64_t>(std::popcount(bits[w] & ~acked_mask));
        }
    }
    std::vector<float> latencies;
    std::uint64_t duplicates = 0;
    std::uint64_t foreign = 0;
    std::uint64_t misrouted = 0;
    std::uint64_t ended = 0;
    std::int64_t last_ns = 0;
    std::size_t data_bytes = 0;
    std::string first_end;
    for (auto& s : sinks) {
        latencies.insert(latencies.end(), s->latency_ms.begin(), s->latency_ms.end());
        std::vector<float>().swap(s->latency_ms);
        duplicates += s->duplicates;
        foreign += s->foreign;
        misrouted += s->misrouted;
        ended += s->ended;
        last_ns = std::max(last_ns, s->last_ns.load());
        data_bytes = std::max(data_bytes, s->data_bytes_seen);
        if (first_end.empty()) {
            first_end = s->first_end;
        }
    }
    const auto lat = latency_summary::of(latencies);
    const auto expected = owed(log, live_in_group);
    const double window_s =
        last_ns > log.first_send_ns ? static_cast<double>(last_ns - log.first_send_ns) / 1e9 : 0;
    const double publish_s = static_cast<double>(publish_end_ns - log.first_send_ns) / 1e9;

    boost::json::object r = result_base("fanout", options);
    r["subscribers"] = options.subscribers;
    r["groups"] = groups;
    r["live"] = live;
    r["failed"] = pool.failed();
    r["rate"] = options.rate;
    r["seconds"] = options.seconds;
    r["published"] = log.published;
    r["publish_errors"] = log.errors;
    r["publish_s"] = publish_s;
    r["expected"] = expected;
    r["received"] = received;
    r["lost"] = static_cast<std::int64_t>(expected) - static_cast<std::int64_t>(received);
    r["duplicates"] = duplicates;
    r["received_unacknowledged"] = unacked_received;
    r["foreign"] = foreign;
    r["misrouted"] = misrouted;
    r["closed_after_live"] = ended;
    r["drained"] = drained;
    r["deliveries_per_s"] = window_s > 0 ? static_cast<double>(received) / window_s : 0.0;
    r["latency_ms"] = {{"p50", lat.p50}, {"p99", lat.p99}, {"max", lat.max}, {"mean", lat.mean}};
    r["latency_cdf_ms"] = cdf_points(latencies);
    if (cpu_start >= 0 && cpu_end >= cpu_start) {
        // From the first publish to the last delivery (or the end of the drain wait).
        r["server_cpu_s"] = cpu_end - cpu_start;
        r["server_cpu_us_per_publish"] =
            log.published > 0 ? (cpu_end - cpu_start) * 1e6 / static_cast<double>(log.published)
                              : 0.0;
    }
    r["data_bytes"] = data_bytes;
    if (!log.first_error.empty()) {
        r["first_publish_error"] = log.first_error;
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
