#include "http/metrics.hpp"

#include "auth/api_key.hpp"

#include <cstdio>

namespace posfeed::http {

bool is_loopback(const boost::asio::ip::address& peer) {
    if (peer.is_v4()) {
        return peer.to_v4().is_loopback(); // 127.0.0.0/8
    }
    const auto v6 = peer.to_v6();
    if (v6.is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
    }
    return v6.is_loopback(); // ::1
}

std::optional<http_error> metrics_access(std::string_view token,
                                         std::optional<std::string_view> authorization,
                                         const boost::asio::ip::address& peer, bool forwarded) {
    if (token.empty()) {
        if (is_loopback(peer) && forwarded) {
            return core::error{core::error_code::permission_denied,
                               "/metrics does not answer requests forwarded by a proxy while "
                               "metrics.token is not set; scrape the node directly, or set "
                               "metrics.token and send 'Authorization: Bearer <token>'"};
        }
        if (is_loopback(peer)) {
            return std::nullopt;
        }
        return core::error{core::error_code::permission_denied,
                           "/metrics answers loopback peers only while metrics.token is not set; "
                           "scrape from this host, or set metrics.token in the config file and "
                           "send it as 'Authorization: Bearer <token>'"};
    }
    constexpr std::string_view scheme = "bearer ";
    std::string_view presented;
    if (authorization && authorization->size() > scheme.size()) {
        std::string head(authorization->substr(0, scheme.size()));
        for (auto& c : head) {
            c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        if (head == scheme) {
            presented = authorization->substr(scheme.size());
            while (!presented.empty() && presented.front() == ' ') {
                presented.remove_prefix(1);
            }
            while (!presented.empty() && presented.back() == ' ') {
                presented.remove_suffix(1);
            }
        }
    }
    // Hashed first, so that the comparison takes the same time whatever the presented length.
    if (!presented.empty() &&
        auth::equal_secret(auth::sha256_hex(presented), auth::sha256_hex(token))) {
        return std::nullopt;
    }
    return core::error{core::error_code::unauthenticated,
                       authorization ? "/metrics needs 'Authorization: Bearer <token>' with the "
                                       "token set as metrics.token; the Authorization header "
                                       "sent does not hold it"
                                     : "/metrics needs 'Authorization: Bearer <token>' with the "
                                       "token set as metrics.token in the server's config file"};
}

void metrics::commit_latency(double seconds) {
    std::size_t i = 0;
    while (i < buckets_.size() && seconds > buckets_[i]) {
        ++i;
    }
    commit_buckets_[i].fetch_add(1, std::memory_order_relaxed);
    commit_count_.fetch_add(1, std::memory_order_relaxed);
    commit_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string metrics::render(const gauges& now, const store::store_stats& store) const {
    std::string out;
    const auto line = [&out](const std::string& text) {
        out += text;
        out += '\n';
    };
    line("# HELP posfeed_connections Open TCP connections.");
    line("# TYPE posfeed_connections gauge");
    line("posfeed_connections " + std::to_string(now.connections));
    line("# HELP posfeed_connections_max The limit of open TCP connections "
         "(limits.max_connections); past it new ones get 503.");
    line("# TYPE posfeed_connections_max gauge");
    line("posfeed_connections_max " + std::to_string(now.max_connections));
    line("# HELP posfeed_database_up Whether the database answered a trivial query during this "
         "scrape (1) or not (0), as /healthz reports it.");
    line("# TYPE posfeed_database_up gauge");
    line(std::string("posfeed_database_up ") + (now.database_up ? "1" : "0"));
    line("# HELP posfeed_streams Open event streams.");
    line("# TYPE posfeed_streams gauge");
    line("posfeed_streams " + std::to_string(now.streams));
    line("# HELP posfeed_streams_opened_total Event streams opened.");
    line("# TYPE posfeed_streams_opened_total counter");
    line("posfeed_streams_opened_total " + std::to_string(streams_opened_.load()));
    line("# HELP posfeed_queue_bytes Bytes queued for subscribers and not yet written.");
    line("# TYPE posfeed_queue_bytes gauge");
    line("posfeed_queue_bytes " + std::to_string(now.queued_bytes));
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
