#pragma once

#include "http/context.hpp"

#include <utility>

namespace posfeed::http {

/// The one owner of a TCP connection's counts in the context: `connections` for as long as the
/// slot lives, and `active_requests` while a request is being handled (between begin_request
/// and end_request). Movable: the event source hands the slot from the connection's coroutine
/// to its live_stream, which then holds it until the stream ends; a moved-from slot counts
/// nothing. Use on the connection's shard.
class connection_slot {
  public:
    explicit connection_slot(context& ctx) : ctx_(&ctx) { ++ctx_->connections; }
    connection_slot(connection_slot&& other) noexcept
        : ctx_(std::exchange(other.ctx_, nullptr)), active_(std::exchange(other.active_, false)) {}
    connection_slot& operator=(connection_slot&&) = delete;
    connection_slot(const connection_slot&) = delete;
    ~connection_slot() {
        if (ctx_ != nullptr) {
            end_request();
            --ctx_->connections;
        }
    }

    /// Counts a request in `active_requests` (which the shutdown gate waits for).
    void begin_request() {
        if (ctx_ != nullptr && !active_) {
            active_ = true;
            ++ctx_->active_requests;
        }
    }

    /// The request was answered (an idle keep-alive connection is not active).
    void end_request() {
        if (ctx_ != nullptr && active_) {
            active_ = false;
            --ctx_->active_requests;
        }
    }

  private:
    context* ctx_;
    bool active_ = false;
};

/// begin_request for a scope: end_request at its end, whatever happens (a slot moved away in
/// the meantime counts nothing).
class request_scope {
  public:
    explicit request_scope(connection_slot& slot) : slot_(slot) { slot_.begin_request(); }
    ~request_scope() { slot_.end_request(); }
    request_scope(const request_scope&) = delete;
    request_scope& operator=(const request_scope&) = delete;

  private:
    connection_slot& slot_;
};

} // namespace posfeed::http
