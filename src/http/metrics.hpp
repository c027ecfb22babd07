#pragma once

#include "store/store.hpp"

#include "core/event_type.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
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

    /// The Prometheus text exposition; the gauges and the store's counts are passed in by the
    /// caller.
    std::string render(int connections, std::size_t streams, std::int64_t queued_bytes,
                       const store::store_stats& store) const;

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

} // namespace posfeed::http
