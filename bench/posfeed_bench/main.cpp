// posfeed-bench: the load tool of SPEC 11. One workload per run, one JSON line on stdout,
// progress on stderr. bench/README.md describes the workloads and every flag.

#include "options.hpp"
#include "process_stats.hpp"
#include "workloads.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace posfeed_bench {

boost::json::object result_base(const char* workload, const bench_options& options) {
    boost::json::object r;
    r["workload"] = workload;
    r["label"] = options.label;
    return r;
}

} // namespace posfeed_bench

namespace {

using posfeed_bench::bench_options;

/// Every subcommand takes every common flag, so one set of server flags serves all workloads;
/// a workload ignores the flags it does not use and checks the URLs it needs.
void add_common(CLI::App& cmd, bench_options& o) {
    cmd.add_option("--label", o.label, "text copied into the result line");
    cmd.add_option("--header", o.headers,
                   "'Name: value' sent on streams and publishes (repeatable)");
    cmd.add_option("--threads", o.threads, "io threads of the tool (default 1)")
        ->check(CLI::Range(1, 64));
    cmd.add_option("--stream-url", o.stream_url,
                   "http URL of the subscription, e.g. "
                   "http://127.0.0.1:8080/eventsource?want=products; or a comma-separated list "
                   "(stream i uses URL i % n)");
    cmd.add_option("--live-on", o.live_on,
                   "when a stream counts as live: 'ready' (posfeed's event: ready) or "
                   "'headers' (the 200 head, for Nchan)")
        ->check(CLI::IsMember({"ready", "headers"}));
    cmd.add_option("--source-addresses", o.source_addresses,
                   "streams bind to this many source addresses from 127.0.0.2 upwards")
        ->check(CLI::Range(1U, 253U * 256U));
    cmd.add_option("--concurrency", o.concurrency, "streams connecting at once")
        ->check(CLI::Range(1, 100000));
    cmd.add_option("--server-pid", o.server_pids,
                   "server process(es) whose VmRSS is sampled and summed (repeatable)");
    cmd.add_option("--timeout-s", o.timeout_s, "give up connecting (or replaying) after it");
    cmd.add_option("--publish-url", o.publish_url,
                   "http URL publishes are sent to, e.g. "
                   "http://127.0.0.1:8080/openapi/Products; or a comma-separated list "
                   "(publish connection or writer j uses URL j % n)");
    cmd.add_option("--publish-method", o.publish_method, "POST (default), PATCH or PUT")
        ->check(CLI::IsMember({"POST", "PATCH", "PUT"}));
    cmd.add_option("--publish-body", o.publish_body,
                   "body template: {seq} is the sequence number, {pad} the filler; the "
                   "data of the event must carry 'bench-{seq}-'");
    cmd.add_option("--content-type", o.content_type, "Content-Type of publishes");
    cmd.add_option("--pad", o.pad, "characters of filler in {pad}")->check(CLI::Range(0, 1 << 20));
    cmd.add_option("--publishers", o.publishers, "keep-alive publish connections")
        ->check(CLI::Range(1, 10000));
}

} // namespace

int main(int argc, char** argv) {
    bench_options o;
    CLI::App app{"posfeed-bench: load tool for posfeed and Nchan (SSE fan-out servers)"};
    app.require_subcommand(1);

    auto* idle = app.add_subcommand("idle", "open N streams, report server RSS per stream");
    add_common(*idle, o);
    idle->add_option("--subscribers", o.subscribers, "streams to open")
        ->required()
        ->check(CLI::Range(1, 10'000'000));
    idle->add_option("--settle-s", o.settle_s, "wait after all are live before sampling RSS");

    auto* fanout = app.add_subcommand("fanout", "publish at R/s to N streams");
    add_common(*fanout, o);
    fanout->add_option("--subscribers", o.subscribers, "streams to open")
        ->required()
        ->check(CLI::Range(1, 10'000'000));
    fanout->add_option("--rate", o.rate, "publishes per second")->required();
    fanout->add_option("--seconds", o.seconds, "publishing time")->required();
    fanout->add_option("--drain-s", o.drain_s, "wait for stragglers after publishing");
    fanout
        ->add_option("--groups", o.groups,
                     "spread streams over G channels (stream i in group i % G) and publish "
                     "each event to one pseudo-random group; {group} in --stream-url, "
                     "--publish-url and --publish-body is the group's number")
        ->check(CLI::Range(1U, 1'000'000U));
    fanout
        ->add_option("--group-headers", o.group_headers,
                     "file whose line g ('Name: value') is sent on the streams and publishes "
                     "of group g, e.g. one RmSystem's API key per line")
        ->check(CLI::ExistingFile);

    auto* replay = app.add_subcommand("replay", "publish N events, then time a resuming stream");
    add_common(*replay, o);
    replay->add_option("--events", o.events, "events to publish and replay")->required();
    replay->add_option("--rate", o.replay_rate,
                       "publish at most this many per second (0: as fast as answered)");
    replay->add_option("--stall-s", o.stall_s,
                       "give up when the stream brings nothing new for this long");

    auto* write = app.add_subcommand("write", "W connections writing back to back");
    add_common(*write, o);
    write->add_option("--writers", o.writers, "concurrent connections")->required();
    write->add_option("--seconds", o.seconds, "duration")->required();

    CLI11_PARSE(app, argc, argv);

    const std::uint64_t fd_limit = posfeed_bench::raise_fd_limit();
    if (idle->parsed() || fanout->parsed()) {
        const std::uint64_t needed = static_cast<std::uint64_t>(o.subscribers) +
                                     static_cast<std::uint64_t>(o.publishers) + 64;
        if (needed > fd_limit) {
            std::cerr << "posfeed-bench: " << o.subscribers << " streams need about " << needed
                      << " file descriptors, but this process may open only " << fd_limit
                      << " (RLIMIT_NOFILE hard limit; raising it needs CAP_SYS_RESOURCE). Run "
                         "several posfeed-bench processes with fewer --subscribers each.\n";
            return 2;
        }
    }

    boost::json::object result;
    try {
        if (idle->parsed()) {
            result = posfeed_bench::run_idle(o);
        } else if (fanout->parsed()) {
            result = posfeed_bench::run_fanout(o);
        } else if (replay->parsed()) {
            result = posfeed_bench::run_replay(o);
        } else {
            result = posfeed_bench::run_write(o);
        }
    } catch (const std::exception& e) {
        std::cerr << "posfeed-bench: " << e.what() << "\n";
        return 1;
    }
    std::cout << boost::json::serialize(result) << std::endl;
    std::fflush(stdout);
    // Thousands of sockets and coroutine frames: let the kernel close them.
    std::_Exit(0);
}
