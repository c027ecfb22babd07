#include "latency.hpp"
#include "publish_run.hpp"
#include "runtime.hpp"
#include "stream_pool.hpp"
#include "workloads.hpp"

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
    fanout_sink(receipt_table& table, const publish_log& log, std::size_t reserve)
        : table_(table), log_(log) {
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
    std::uint64_t ended = 0;
    std::size_t data_bytes_seen = 0;
    std::string first_end;

  private:
    receipt_table& table_;
    const publish_log& log_;
};

} // namespace

boost::json::object run_fanout(const bench_options& options) {
    const auto requests = stream_request::from(options);
    const auto templates = publish_template::from(options);
    if (options.rate <= 0 || options.seconds <= 0) {
        throw std::runtime_error("--rate and --seconds must be positive");
    }
    const auto total = static_cast<std::int64_t>(std::llround(options.rate * options.seconds));
    runtime rt(options.threads);
    publish_log log(total);
    receipt_table table(static_cast<std::size_t>(options.subscribers), total);
    const std::size_t per_thread_reserve =
        static_cast<std::size_t>(total) * static_cast<std::size_t>(options.subscribers) / rt.size();
    std::vector<std::unique_ptr<fanout_sink>> sinks;
    std::vector<stream_sink*> sink_ptrs;
    for (std::size_t i = 0; i < rt.size(); ++i) {
        sinks.push_back(std::make_unique<fanout_sink>(table, log, per_thread_reserve));
        sink_ptrs.push_back(sinks.back().get());
    }
    stream_pool pool(rt, requests, options, sink_ptrs);
    std::uint64_t live = 0;
    bool drained = false;
    std::int64_t publish_end_ns = 0;
    rt.run([&]() -> asio::awaitable<void> {
        co_await pool.open(static_cast<std::uint32_t>(options.subscribers));
        live = pool.live();
        std::cerr << "posfeed-bench: publishing " << total << " events at " << options.rate
                  << "/s to " << live << " streams\n";
        co_await publish_all(rt.context(0), templates, options.publishers, options.rate, log);
        publish_end_ns = now_ns();
        const auto expected = static_cast<std::uint64_t>(log.published) * live;
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
    std::uint64_t ended = 0;
    std::int64_t last_ns = 0;
    std::size_t data_bytes = 0;
    std::string first_end;
    for (auto& s : sinks) {
        latencies.insert(latencies.end(), s->latency_ms.begin(), s->latency_ms.end());
        std::vector<float>().swap(s->latency_ms);
        duplicates += s->duplicates;
        foreign += s->foreign;
        ended += s->ended;
        last_ns = std::max(last_ns, s->last_ns.load());
        data_bytes = std::max(data_bytes, s->data_bytes_seen);
        if (first_end.empty()) {
            first_end = s->first_end;
        }
    }
    const auto lat = latency_summary::of(latencies);
    const auto expected = static_cast<std::uint64_t>(log.published) * live;
    const double window_s =
        last_ns > log.first_send_ns ? static_cast<double>(last_ns - log.first_send_ns) / 1e9 : 0;
    const double publish_s = static_cast<double>(publish_end_ns - log.first_send_ns) / 1e9;

    boost::json::object r = result_base("fanout", options);
    r["subscribers"] = options.subscribers;
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
    r["closed_after_live"] = ended;
    r["drained"] = drained;
    r["deliveries_per_s"] = window_s > 0 ? static_cast<double>(received) / window_s : 0.0;
    r["latency_ms"] = {{"p50", lat.p50}, {"p99", lat.p99}, {"max", lat.max}, {"mean", lat.mean}};
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
