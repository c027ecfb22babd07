#pragma once

#include "feed/encoded_group.hpp"
#include "feed/subscriber.hpp"
#include "store/store.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace posfeed::feed {

/// Fans committed groups out to subscribers. Subscribers are partitioned by shard (one per
/// worker thread, each with its own event loop); a shard's subscriber list is touched only on
/// that shard's thread, so delivery takes no lock. A group is encoded once, by the first shard
/// that needs it, and the same immutable buffers go to every subscriber.
class hub {
  public:
    /// One executor per shard; shard i's subscribers must run on executors[i].
    explicit hub(std::vector<boost::asio::any_io_executor> executors);

    std::size_t shard_count() const { return shards_.size(); }

    /// Encodes `g` and delivers it to every attached subscriber of its RmSystem. Thread-safe;
    /// groups of one RmSystem must be published in RVE order (the store's commit listener
    /// guarantees that), and are delivered in that order.
    void publish(const store::group_ptr& g);

    /// Attaches `s`, which then receives every group published after this call returns. Call
    /// on s's shard.
    void attach(subscriber& s);

    /// Detaches `s`; call on s's shard before destroying it.
    void detach(subscriber& s);

    /// The RVE of the last group of `rmsystem` published while this hub has had subscribers of
    /// it without a break; nullopt when none was (then ask the store). Every group of the
    /// RmSystem published after it reaches a subscriber attached now, through its queue, so a
    /// stream that starts live (no resume) may take it as its `ready` RVE without reading the
    /// store. (The store publishes a group before it answers the write, so it also covers
    /// every write already acknowledged on this node.) Thread-safe.
    std::optional<core::rve> newest_published(const std::string& rmsystem) const;

    /// Closes every stream (shutdown). Thread-safe.
    void close_all(const std::string& reason);

    /// Closes every stream opened with `credential` (logout, revoked key). Thread-safe.
    void close_credential(const std::string& credential, const std::string& reason);

    /// Subscribers of session `session_key` that want `barcode` now (SPEC 4 Owner): this
    /// process's own, plus those other nodes last reported (set_remote_watchers).
    int barcode_watchers(const std::string& session_key);

    /// This process's subscribers that want `barcode`, per session key (for other nodes).
    std::unordered_map<std::string, int> local_barcode_watchers();

    /// The same counts of every other node (store::exchange_presence), replacing the last.
    void set_remote_watchers(std::unordered_map<std::string, int> remote);

    /// Counts an open stream against `credential`'s limit; false when `limit` are open.
    bool try_open_stream(const std::string& credential, int limit);
    void close_stream(const std::string& credential);

    /// Credentials with open streams now (to keep their sessions alive). Thread-safe.
    std::vector<std::string> stream_credentials();

    /// Streams attached now, over all shards.
    std::size_t subscriber_count() const { return subscribers_.load(); }
    std::uint64_t groups_published() const { return published_.load(); }
    /// Bytes queued for all subscribers and not yet written.
    std::int64_t queued_bytes() const { return queued_bytes_.load(std::memory_order_relaxed); }

  private:
    struct shard {
        boost::asio::any_io_executor ex;
        std::unordered_map<std::string, std::vector<subscriber*>> by_rmsystem;
    };
    /// An RmSystem with subscribers on some shard (erased when its last one detaches).
    struct room {
        int subscribers = 0;
        std::optional<core::rve> newest; ///< see newest_published
    };

    std::vector<shard> shards_;
    std::atomic<std::size_t> subscribers_{0};
    std::atomic<std::uint64_t> published_{0};
    std::atomic<std::int64_t> queued_bytes_{0};
    std::mutex streams_mu_;
    std::unordered_map<std::string, int> streams_;
    mutable std::mutex rooms_mu_;
    std::unordered_map<std::string, room> rooms_;
    std::mutex watchers_mu_;
    std::unordered_map<std::string, int> barcode_watchers_;
    std::unordered_map<std::string, int> remote_watchers_; ///< other nodes' (under watchers_mu_)
};

} // namespace posfeed::feed
