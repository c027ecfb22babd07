#include "store/postgres/pg_pool.hpp"

namespace posfeed::store::postgres {

pool::pool(std::string conninfo, std::size_t max) : conninfo_(std::move(conninfo)), max_(max) {}

pool::lease::~lease() {
    if (c_) {
        owner_->give_back(std::move(c_));
    }
}

pool::lease pool::acquire() {
    {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !idle_.empty() || open_ < max_; });
        while (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            // A server that restarted closed its idle connections: reading what it sent (a
            // non-blocking read) shows it, so the request gets a working connection instead
            // of failing on a dead one.
            if (PQconsumeInput(c->handle()) != 0 && c->ok()) {
                return lease(*this, std::move(c));
            }
            --open_;
        }
        ++open_;
    }
    try {
        return lease(*this, std::make_unique<connection>(conninfo_));
    } catch (...) {
        const std::lock_guard lock(mu_);
        --open_;
        cv_.notify_one();
        throw;
    }
}

void pool::give_back(std::unique_ptr<connection> c) {
    const std::lock_guard lock(mu_);
    if (c->ok() && PQtransactionStatus(c->handle()) == PQTRANS_IDLE) {
        idle_.push_back(std::move(c));
    } else {
        --open_; // broken, or left inside a transaction: closed, not reused
    }
    cv_.notify_one();
}

} // namespace posfeed::store::postgres
