#pragma once

#include "store/store.hpp"

#include "core/event_type.hpp"
#include "http/http_error.hpp"

#include <boost/asio/ip/address.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posfeed::http {

/// Counters for GET /metrics (Prometheus text format). Per-shard counters are written only by
/// their shard's thread (relaxed atomics on their own cache lines, so delivery never contends);
/// the rest are rare events.
class metrics {
  public:
    explicit metrics(std::size_t shards) : shards_(shards) {}

    /// Per-shard delivery counters; `shard` must be the caller's own shard.
    void delivered(std::size_t shard, core::event_type type, std::uint64_t n = 1) {
        shards_[shard].delivered[static_cast<int>(type)].fetch_add(n, std::memory_order_relaxed);
    }
    void replayed(std::size_t shard, std::uint64_t n) {
        shards_[shard].replayed.fetch_add(n, std::memory_order_relaxed);
    }

    void published(core::event_type type) {
        published_[static_cast<int>(type)].fetch_add(1, std::memory_order_relaxed);
    }
    void request(int status) {
        if (status >= 100 && status < 600) {
            requests_[status - 100].fetch_add(1, std::memory_order_relaxed);
        }
    }
    void slow_consumer() { slow_consumers_.fetch_add(1, std::memory_order_relaxed); }
    std::uint64_t slow_consumers() const { return slow_consumers_.load(); }
    /// A `conflate=1` stream that fell behind was caught up from the store instead of cut.
    void conflation() { conflations_.fetch_add(1, std::memory_order_relaxed); }
    void stream_opened() { streams_opened_.fetch_add(1, std::memory_order_relaxed); }
    /// One acknowledged write's latency from submit to durable commit.
    void commit_latency(double seconds);

    /// The figures of the moment that the counters do not hold, passed in by the caller.
    struct gauges {
        int connections = 0;     ///< open TCP connections
        int max_connections = 0; ///< limits.max_connections
        std::size_t streams = 0;
        std::int64_t queued_bytes = 0;
        bool database_up = false; ///< the store answered a trivial query (as /healthz asks)
    };

    /// The Prometheus text exposition (format 0.0.4).
    std::string render(const gauges& now, const store::store_stats& store) const;

  private:
    struct alignas(64) shard_counters {
        std::array<std::atomic<std::uint64_t>, core::event_type_count> delivered{};
        std::atomic<std::uint64_t> replayed{0};
    };
    static constexpr std::array<double, 10> buckets_ = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                        0.025,  0.05,  0.1,    0.25,  1.0};

    std::vector<shard_counters> shards_;
    std::array<std::atomic<std::uint64_t>, core::event_type_count> published_{};
    std::array<std::atomic<std::uint64_t>, 500> requests_{};
    std::atomic<std::uint64_t> slow_consumers_{0};
    std::atomic<std::uint64_t> conflations_{0};
    std::atomic<std::uint64_t> streams_opened_{0};
    std::array<std::atomic<std::uint64_t>, 11> commit_buckets_{}; ///< last: +Inf
    std::atomic<std::uint64_t> commit_count_{0};
    std::atomic<std::uint64_t> commit_micros_{0};
};

/// Whether `peer` is a loopback address: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x
/// (`::ffff:127.0.0.1`, what a dual-stack listener sees of an IPv4 loopback peer).
bool is_loopback(const boost::asio::ip::address& peer);

/// Who may read GET /metrics (docs/decisions.md). With `token` empty (metrics.token unset) only
/// a loopback peer whose request was not `forwarded` (it carries no `X-Forwarded-For` or
/// `Forwarded` header: a proxy on the same host makes every client loopback, and such proxies
/// add one): anyone else gets permission_denied (403). With a token, every peer,
/// loopback included (a proxy in front makes every peer loopback), must present it as
/// `authorization` = `Bearer <token>` (scheme case-insensitive), compared in constant time:
/// unauthenticated (401) otherwise. nullopt when the request may read. Messages never hold
/// the presented or the configured token.
std::optional<http_error> metrics_access(std::string_view token,
                                         std::optional<std::string_view> authorization,
                                         const boost::asio::ip::address& peer,
                                         bool forwarded = false);

} // namespace posfeed::http
