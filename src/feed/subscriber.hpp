#pragma once

#include "feed/encoded_group.hpp"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace posfeed::feed {

/// One open event stream as the hub sees it: its filter and a bounded queue of groups not yet
/// written. Lives on one shard (worker thread); every member function must be called on that
/// shard's executor. Owned by the stream's coroutine, which detaches it from the hub before
/// destroying it.
class subscriber {
  public:
    subscriber(std::size_t shard, std::string rmsystem, subscription_filter filter,
               std::size_t queue_limit, std::string credential)
        : shard_(shard), rmsystem_(std::move(rmsystem)), filter_(std::move(filter)),
          queue_limit_(queue_limit), credential_(std::move(credential)) {}

    std::size_t shard() const { return shard_; }
    const std::string& rmsystem() const { return rmsystem_; }
    const subscription_filter& filter() const { return filter_; }
    /// The credential that opened the stream (key id or session key).
    const std::string& credential() const { return credential_; }

    /// Queues `g` if the filter selects anything of it and wakes the writer. Past the queue
    /// limit the queue is dropped and overflowed() turns true (the stream then re-reads from
    /// the store, or disconnects a slow consumer).
    void offer(const encoded_ptr& g);

    /// Moves everything queued to the end of `out` (whose capacity the caller keeps, so a busy
    /// stream does not allocate per delivery).
    void take(std::vector<encoded_ptr>& out);
    /// Drops everything queued.
    void drop_queue();

    bool overflowed() const { return overflowed_; }
    void clear_overflow() { overflowed_ = false; }
    std::size_t queued_bytes() const { return queued_bytes_; }

    /// Ends the stream: the writer sees closed() when woken.
    void close(std::string reason);
    bool closed() const { return closed_; }
    const std::string& close_reason() const { return close_reason_; }

    /// Called (on the shard) when the queue overflows from now on; the stream uses it to cut a
    /// slow consumer at once even while a write to it is stuck. The same rule as on_wake: it
    /// must not attach or detach a subscriber.
    void on_overflow(std::function<void()> fn) { on_overflow_ = std::move(fn); }

    /// Adds this subscriber's queued bytes to `total` from now on (the hub's gauge).
    void count_queue_in(std::atomic<std::int64_t>* total) { total_ = total; }

    /// Called (on the shard) when offer() queued something or overflowed the queue, or close()
    /// was called: the writer wakes up. Not called while unset. Runs while the hub walks the
    /// shard's subscriber list: it must not attach or detach a subscriber (post instead).
    void on_wake(std::function<void()> fn) { on_wake_ = std::move(fn); }

  private:
    void account(std::int64_t delta);

    std::size_t shard_;
    std::string rmsystem_;
    subscription_filter filter_;
    std::size_t queue_limit_;
    std::string credential_;
    std::vector<encoded_ptr> queue_;
    std::size_t queued_bytes_ = 0;
    std::atomic<std::int64_t>* total_ = nullptr;
    std::function<void()> on_overflow_;
    bool overflowed_ = false;
    bool closed_ = false;
    std::string close_reason_;
    std::function<void()> on_wake_;
};

} // namespace posfeed::feed
