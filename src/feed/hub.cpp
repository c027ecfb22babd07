#include "feed/hub.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace posfeed::feed {

void subscriber::offer(const encoded_ptr& g) {
    if (closed_) {
        return;
    }
    const std::size_t n = g->bytes_for(filter_);
    if (n == 0) {
        return;
    }
    if (overflowed_) {
        return;
    }
    if (queued_bytes_ + n > queue_limit_ && !queue_.empty()) {
        drop_queue();
        overflowed_ = true;
        if (on_overflow_) {
            on_overflow_();
        }
    } else {
        queue_.push_back(g);
        queued_bytes_ += n;
        account(static_cast<std::int64_t>(n));
    }
    if (on_wake_) {
        on_wake_();
    }
}

void subscriber::account(std::int64_t delta) {
    if (total_ != nullptr) {
        total_->fetch_add(delta, std::memory_order_relaxed);
    }
}

void subscriber::take(std::vector<encoded_ptr>& out) {
    account(-static_cast<std::int64_t>(queued_bytes_));
    queued_bytes_ = 0;
    if (out.empty()) {
        out.swap(queue_);
    } else {
        out.insert(out.end(), queue_.begin(), queue_.end());
        queue_.clear();
    }
}

void subscriber::drop_queue() {
    account(-static_cast<std::int64_t>(queued_bytes_));
    queued_bytes_ = 0;
    queue_.clear();
    queue_.shrink_to_fit();
}

void subscriber::close(std::string reason) {
    if (!closed_) {
        closed_ = true;
        close_reason_ = std::move(reason);
    }
    if (on_wake_) {
        on_wake_();
    }
}

hub::hub(std::vector<boost::asio::any_io_executor> executors) {
    for (auto& ex : executors) {
        shards_.push_back(shard{std::move(ex), {}});
    }
}

void hub::publish(const store::group_ptr& g) {
    // Encoded by the first shard that offers it to a subscriber, not on the store's writer
    // thread; never when nobody of the RmSystem is subscribed.
    auto encoded = std::make_shared<const encoded_group>(
        g, [this](const std::string& session) { return barcode_watchers(session); });
    published_.fetch_add(1, std::memory_order_relaxed);
    {
        // Before the group goes to the shards: a stream that reads it attached earlier, so
        // the group reaches its queue.
        const std::lock_guard lock(rooms_mu_);
        if (const auto it = rooms_.find(g->rmsystem); it != rooms_.end()) {
            it->second.newest = g->rve;
        }
    }
    for (auto& sh : shards_) {
        boost::asio::post(sh.ex, [&sh, encoded] {
            const auto it = sh.by_rmsystem.find(encoded->rmsystem());
            if (it == sh.by_rmsystem.end()) {
                return;
            }
            for (subscriber* s : it->second) {
                s->offer(encoded);
            }
        });
    }
}

namespace {

bool watches_barcodes(const subscriber& s) {
    return !s.filter().session.empty() &&
           (s.filter().want & core::bit(core::event_type::barcode)) != 0;
}

} // namespace

void hub::attach(subscriber& s) {
    s.count_queue_in(&queued_bytes_);
    {
        const std::lock_guard lock(rooms_mu_);
        ++rooms_[s.rmsystem()].subscribers;
    }
    shards_[s.shard()].by_rmsystem[s.rmsystem()].push_back(&s);
    subscribers_.fetch_add(1);
    if (watches_barcodes(s)) {
        const std::lock_guard lock(watchers_mu_);
        ++barcode_watchers_[s.filter().session];
    }
}

int hub::barcode_watchers(const std::string& session_key) {
    const std::lock_guard lock(watchers_mu_);
    const auto it = barcode_watchers_.find(session_key);
    const auto remote = remote_watchers_.find(session_key);
    return (it == barcode_watchers_.end() ? 0 : it->second) +
           (remote == remote_watchers_.end() ? 0 : remote->second);
}

std::unordered_map<std::string, int> hub::local_barcode_watchers() {
    const std::lock_guard lock(watchers_mu_);
    return barcode_watchers_;
}

void hub::set_remote_watchers(std::unordered_map<std::string, int> remote) {
    const std::lock_guard lock(watchers_mu_);
    remote_watchers_ = std::move(remote);
}

void hub::close_credential(const std::string& credential, const std::string& reason) {
    for (auto& sh : shards_) {
        boost::asio::post(sh.ex, [&sh, credential, reason] {
            for (auto& [_, list] : sh.by_rmsystem) {
                for (subscriber* s : list) {
                    if (s->credential() == credential) {
                        s->close(reason);
                    }
                }
            }
        });
    }
}

void hub::detach(subscriber& s) {
    auto& map = shards_[s.shard()].by_rmsystem;
    const auto it = map.find(s.rmsystem());
    if (it == map.end()) {
        return;
    }
    auto& list = it->second;
    const auto pos = std::find(list.begin(), list.end(), &s);
    if (pos != list.end()) {
        *pos = list.back();
        list.pop_back();
        {
            const std::lock_guard lock(rooms_mu_);
            if (const auto r = rooms_.find(s.rmsystem());
                r != rooms_.end() && --r->second.subscribers <= 0) {
                rooms_.erase(r);
            }
        }
        subscribers_.fetch_sub(1);
        s.drop_queue();
        s.count_queue_in(nullptr);
        if (watches_barcodes(s)) {
            const std::lock_guard lock(watchers_mu_);
            if (--barcode_watchers_[s.filter().session] <= 0) {
                barcode_watchers_.erase(s.filter().session);
            }
        }
    }
    if (list.empty()) {
        map.erase(it);
    }
}

std::optional<core::rve> hub::newest_published(const std::string& rmsystem) const {
    const std::lock_guard lock(rooms_mu_);
    const auto it = rooms_.find(rmsystem);
    return it == rooms_.end() ? std::nullopt : it->second.newest;
}

void hub::close_all(const std::string& reason) {
    for (auto& sh : shards_) {
        boost::asio::post(sh.ex, [&sh, reason] {
            for (auto& [_, list] : sh.by_rmsystem) {
                for (subscriber* s : list) {
                    s->close(reason);
                }
            }
        });
    }
}

bool hub::try_open_stream(const std::string& credential, int limit) {
    const std::lock_guard lock(streams_mu_);
    int& n = streams_[credential];
    if (n >= limit) {
        return false;
    }
    ++n;
    return true;
}

std::vector<std::string> hub::stream_credentials() {
    const std::lock_guard lock(streams_mu_);
    std::vector<std::string> out;
    out.reserve(streams_.size());
    for (const auto& [id, _] : streams_) {
        out.push_back(id);
    }
    return out;
}

void hub::close_stream(const std::string& credential) {
    const std::lock_guard lock(streams_mu_);
    const auto it = streams_.find(credential);
    if (it != streams_.end() && --it->second <= 0) {
        streams_.erase(it);
    }
}

} // namespace posfeed::feed
