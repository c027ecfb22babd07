#include "http/metrics.hpp"

#include <cstdio>

namespace posfeed::http {

void metrics::commit_latency(double seconds) {
    std::size_t i = 0;
    while (i < buckets_.size() && seconds > buckets_[i]) {
        ++i;
    }
    commit_buckets_[i].fetch_add(1, std::memory_order_relaxed);
    commit_count_.fetch_add(1, std::memory_order_relaxed);
    commit_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string metrics::render(int connections, std::size_t streams, std::int64_t queued_bytes,
                            const store::store_stats& store) const {
    std::string out;
    const auto line = [&out](const std::string& text) {
        out += text;
        out += '\n';
    };
    line("# HELP posfeed_connections Open TCP connections.");
    line("# TYPE posfeed_connections gauge");
    line("posfeed_connections " + std::to_string(connections));
    line("# HELP posfeed_streams Open event streams.");
    line("# TYPE posfeed_streams gauge");
    line("posfeed_streams " + std::to_string(streams));
    line("# HELP posfeed_streams_opened_total Event streams opened.");
    line("# TYPE posfeed_streams_opened_total counter");
    line("posfeed_streams_opened_total " + std::to_string(streams_opened_.load()));
    line("# HELP posfeed_queue_bytes Bytes queued for subscribers and not yet written.");
    line("# TYPE posfeed_queue_bytes gauge");
    line("posfeed_queue_bytes " + std::to_string(queued_bytes));
    line("# HELP posfeed_events_published_total Events committed and handed to the hub, by type.");
    line("# TYPE posfeed_events_published_total counter");
    for (int t = 0; t < core::event_type_count; ++t) {
        line("posfeed_events_published_total{type=\"" +
             std::string(core::to_string(static_cast<core::event_type>(t))) + "\"} " +
             std::to_string(published_[t].load()));
    }
    line("# HELP posfeed_events_delivered_total Events written to subscribers (live and replayed), "
         "by type.");
    line("# TYPE posfeed_events_delivered_total counter");
    for (int t = 0; t < core::event_type_count; ++t) {
        std::uint64_t n = 0;
        for (const auto& s : shards_) {
            n += s.delivered[t].load(std::memory_order_relaxed);
        }
        line("posfeed_events_delivered_total{type=\"" +
             std::string(core::to_string(static_cast<core::event_type>(t))) + "\"} " +
             std::to_string(n));
    }
    std::uint64_t replayed = 0;
    for (const auto& s : shards_) {
        replayed += s.replayed.load(std::memory_order_relaxed);
    }
    line("# HELP posfeed_events_replayed_total Events replayed from the log to resuming "
         "subscribers.");
    line("# TYPE posfeed_events_replayed_total counter");
    line("posfeed_events_replayed_total " + std::to_string(replayed));
    line("# HELP posfeed_slow_consumer_disconnects_total Streams closed for passing the "
         "unsent-bytes limit.");
    line("# TYPE posfeed_slow_consumer_disconnects_total counter");
    line("posfeed_slow_consumer_disconnects_total " + std::to_string(slow_consumers_.load()));
    line("# HELP posfeed_conflations_total Times a conflate=1 stream passed the unsent-bytes "
         "limit and was caught up with the latest state per record instead of disconnected.");
    line("# TYPE posfeed_conflations_total counter");
    line("posfeed_conflations_total " + std::to_string(conflations_.load()));
    line("# HELP posfeed_http_requests_total Responses by status (event-source errors included).");
    line("# TYPE posfeed_http_requests_total counter");
    for (int s = 0; s < 500; ++s) {
        if (const auto n = requests_[s].load(); n > 0) {
            line("posfeed_http_requests_total{status=\"" + std::to_string(s + 100) + "\"} " +
                 std::to_string(n));
        }
    }
    line("# HELP posfeed_commit_latency_seconds Time from a write's submission to its durable "
         "commit.");
    line("# TYPE posfeed_commit_latency_seconds histogram");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < commit_buckets_.size(); ++i) {
        cumulative += commit_buckets_[i].load();
        char le[32];
        if (i < buckets_.size()) {
            std::snprintf(le, sizeof le, "%g", buckets_[i]);
        } else {
            std::snprintf(le, sizeof le, "+Inf");
        }
        line(std::string("posfeed_commit_latency_seconds_bucket{le=\"") + le + "\"} " +
             std::to_string(cumulative));
    }
    char sum[32];
    std::snprintf(sum, sizeof sum, "%.6f", static_cast<double>(commit_micros_.load()) / 1e6);
    line(std::string("posfeed_commit_latency_seconds_sum ") + sum);
    line("posfeed_commit_latency_seconds_count " + std::to_string(commit_count_.load()));
    const auto counter = [&line](std::string_view name, std::string_view help, std::uint64_t v,
                                 std::string_view type = "counter") {
        line("# HELP " + std::string(name) + " " + std::string(help));
        line("# TYPE " + std::string(name) + " " + std::string(type));
        line(std::string(name) + " " + std::to_string(v));
    };
    counter("posfeed_store_followed_rmsystems",
            "RmSystems this node follows for its subscribers (PostgreSQL; 0 on SQLite).",
            store.followed, "gauge");
    counter("posfeed_store_notifications_total",
            "Commit announcements (NOTIFY) received from PostgreSQL.", store.notifications);
    counter("posfeed_store_poll_catches_total",
            "Safety polls that found commits no announcement had told of (lost NOTIFYs).",
            store.polls_found);
    counter("posfeed_store_listen_reconnects_total",
            "Times the LISTEN connection to PostgreSQL was made again.", store.reconnects);
    counter("posfeed_store_stale_groups_total",
            "Groups that arrived at or below an RmSystem's last delivered RVE: counted, logged, "
            "never sent.",
            store.stale_groups);
    return out;
}

} // namespace posfeed::http
