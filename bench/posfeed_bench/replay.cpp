#include "latency.hpp"
#include "publish_run.hpp"
#include "runtime.hpp"
#include "stream_pool.hpp"
#include "workloads.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <iostream>
#include <stdexcept>

namespace posfeed_bench {
namespace {

/// The receipts of the one resuming stream.
class replay_sink final : public stream_sink {
  public:
    explicit replay_sink(std::int64_t total) : seen_(static_cast<std::size_t>(total), false) {}

    void on_event(std::uint32_t, std::int64_t seq, std::size_t) override {
        if (seq < 0 || seq >= static_cast<std::int64_t>(seen_.size())) {
            ++foreign;
            return;
        }
        if (seen_[static_cast<std::size_t>(seq)]) {
            ++duplicates;
            return;
        }
        seen_[static_cast<std::size_t>(seq)] = true;
        ++unique;
        last_ns = now_ns();
    }
    void on_end(std::uint32_t, const std::string& reason) override { end = reason; }

    [[nodiscard]] bool seen(std::size_t seq) const { return seen_[seq]; }

    std::int64_t unique = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t foreign = 0;
    std::int64_t last_ns = 0;
    std::string end;

  private:
    std::vector<bool> seen_;
};

} // namespace

boost::json::object run_replay(const bench_options& options) {
    const auto requests = stream_request::from(options);
    const auto templates = publish_template::from(options);
    if (options.events <= 0) {
        throw std::runtime_error("--events must be positive");
    }
    // Everything on one thread: one stream cannot use more.
    bench_options one = options;
    one.threads = 1;
    one.concurrency = 1;
    runtime rt(1);
    publish_log log(options.events);
    replay_sink sink(options.events);
    stream_pool pool(rt, requests, one, {&sink});
    std::int64_t connect_ns = 0;
    std::int64_t publish_end_ns = 0;
    bool complete = false;
    bool stalled = false;
    rt.run([&]() -> asio::awaitable<void> {
        std::cerr << "posfeed-bench: publishing " << options.events << " events\n";
        co_await publish_all(rt.context(0), templates, options.publishers, options.replay_rate,
                             log);
        publish_end_ns = now_ns();
        std::cerr << "posfeed-bench: published " << log.published << " in "
                  << static_cast<double>(publish_end_ns - log.first_send_ns) / 1e9
                  << " s; resuming\n";
        co_await sleep_for(0.5); // let the server settle (group commit, fan-out)
        connect_ns = now_ns();
        asio::co_spawn(rt.context(0), pool.open(1), asio::detached);
        const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(options.timeout_s * 1e9);
        while (now_ns() < deadline) {
            if (sink.unique >= log.published) {
                complete = true;
                break;
            }
            if (!sink.end.empty() || pool.failed() > 0) {
                break;
            }
            const std::int64_t news = std::max(connect_ns, sink.last_ns);
            if (now_ns() - news > static_cast<std::int64_t>(options.stall_s * 1e9)) {
                stalled = true;
                std::cerr << "posfeed-bench: the stream brought nothing new for " << options.stall_s
                          << " s after " << sink.unique << " events\n";
                break;
            }
            co_await sleep_for(0.002);
        }
        co_await sleep_for(0.2);
    });

    std::int64_t received = 0;
    for (std::size_t i = 0; i < log.acked.size(); ++i) {
        if (log.acked[i] && sink.seen(i)) {
            ++received;
        }
    }
    const double replay_s =
        sink.last_ns > connect_ns ? static_cast<double>(sink.last_ns - connect_ns) / 1e9 : 0;
    const double publish_s = static_cast<double>(publish_end_ns - log.first_send_ns) / 1e9;
    auto ack = latency_summary::of(log.ack_ms);

    boost::json::object r = result_base("replay", options);
    r["events"] = options.events;
    r["published"] = log.published;
    r["publish_errors"] = log.errors;
    r["publish_s"] = publish_s;
    r["publish_per_s"] = publish_s > 0 ? static_cast<double>(log.published) / publish_s : 0.0;
    r["publish_ack_ms"] = {{"p50", ack.p50}, {"p99", ack.p99}, {"max", ack.max}};
    r["received"] = received;
    r["lost"] = log.published - received;
    r["duplicates"] = sink.duplicates;
    r["foreign"] = sink.foreign;
    r["complete"] = complete;
    r["stalled"] = stalled;
    r["publish_rate_limit"] = options.replay_rate;
    r["replay_s"] = replay_s;
    r["events_per_s"] = replay_s > 0 ? static_cast<double>(received) / replay_s : 0.0;
    if (!log.first_error.empty()) {
        r["first_publish_error"] = log.first_error;
    }
    if (!pool.first_error().empty()) {
        r["first_error"] = pool.first_error();
    }
    if (!sink.end.empty()) {
        r["first_close"] = sink.end;
    }
    return r;
}

} // namespace posfeed_bench
