#include "http/live_stream.hpp"

#include "core/log.hpp"
#include "feed/debug_packets.hpp"
#include "feed/sse.hpp"
#include "http/replay.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <span>

namespace posfeed::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using clock = std::chrono::steady_clock;

/// The keepalive comment, the same bytes for every stream.
const std::string& keepalive_comment() {
    static const std::string text = feed::comment("keepalive");
    return text;
}

/// Numbers the streams of this process in their log lines, so that a stream's opened and
/// closed lines can be paired.
std::atomic<std::uint64_t> next_stream_id{1};

/// Why a failed read or write of the socket ended a stream: the usual ways a client goes away
/// are `client_closed`, anything else is an `error`.
stream_end end_of(boost::system::error_code ec) {
    if (!ec || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
        ec == asio::error::shut_down || ec == asio::error::not_connected) {
        return stream_end::client_closed;
    }
    return stream_end::error;
}

} // namespace

std::string_view to_string(stream_end why) {
    switch (why) {
    case stream_end::client_closed:
        return "client_closed";
    case stream_end::slow_consumer:
        return "slow_consumer";
    case stream_end::write_timeout:
        return "write_timeout";
    case stream_end::revoked:
        return "revoked";
    case stream_end::shutdown:
        return "shutdown";
    case stream_end::error:
        return "error";
    }
    return "error";
}

live_stream::live_stream(context& ctx, asio::any_io_executor ex, std::size_t shard,
                         const stream_request& sr, std::string logged_target)
    : ctx_(ctx),
      sub_(shard, sr.cred.rmsystem, sr.filter, ctx.cfg.limits.subscriber_queue_bytes, sr.cred.id),
      logged_target_(std::move(logged_target)),
      id_(next_stream_id.fetch_add(1, std::memory_order_relaxed)), opened_at_(clock::now()),
      want_(sr.want.mask), conflate_(sr.conflate), socket_(ex), timer_(ex) {
    ctx_.hub.attach(sub_);
}

live_stream::~live_stream() {
    if (opened_ && !close_logged_) {
        // Ended by an exception (logged by the connection) before it could log its close.
        closed(sub_.closed() ? hub_reason() : stream_end::error, {});
    }
    ctx_.hub.detach(sub_);
    ctx_.hub.close_stream(sub_.credential());
    if (following_) {
        ctx_.db.unfollow(sub_.rmsystem());
    }
}

void live_stream::opened() {
    opened_ = true;
    opened_at_ = clock::now();
    core::log(spdlog::level::info, "GET " + logged_target_ + " 200 stream opened",
              {{"method", "GET", false},
               {"target", logged_target_, false},
               {"status", 200, false},
               {"stream_id", id_},
               {"rmsystem", sub_.rmsystem()}});
}

void live_stream::replay_ended(boost::system::error_code ec) {
    state_ = state::ended;
    if (ec == beast::error::timeout) {
        closed(stream_end::write_timeout, ec);
    } else if (sub_.closed()) {
        closed(hub_reason(), ec);
    } else {
        closed(end_of(ec), ec);
    }
}

void live_stream::start(asio::ip::tcp::socket socket, connection_slot slot, core::rve ready_rve,
                        clock::time_point last_write) {
    socket_ = std::move(socket);
    boost::system::error_code ignored;
    socket_.non_blocking(true, ignored);
    slot_.emplace(std::move(slot));
    state_ = state::live;
    ready_rve_ = sent_rve_ = ready_rve;
    last_write_ = last_write;
    next_debug_ = clock::now();
    sub_.on_wake([this] { wake(); });
    sub_.on_overflow([this] { overflowed(); });
    watch_peer();
    step();
}

bool live_stream::wants_debug() const {
    return (want_ & core::bit(core::event_type::debug)) != 0;
}

/// The hub queued a group or closed the stream: step once the hub's loop is done.
void live_stream::wake() {
    if (state_ != state::live || wake_posted_) {
        return;
    }
    wake_posted_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
        self->wake_posted_ = false;
        self->step();
    });
}

/// The queue passed the unsent-bytes limit (called by the hub as it happens).
void live_stream::overflowed() {
    if (conflate_) {
        core::log(spdlog::level::info,
                  fmt::format("stream of {} passed {} unsent bytes: it will be caught up with the "
                              "latest state per record",
                              sub_.rmsystem(), ctx_.cfg.limits.subscriber_queue_bytes),
                  {{"stream_id", id_}});
    } else if (state_ == state::writing) {
        // A slow consumer: abort the write it is stuck in; step() then closes the stream.
        boost::system::error_code ignored;
        socket_.cancel(ignored);
    }
}

/// Does what is due: close, catch up, write what is queued, a debug packet or a keepalive;
/// otherwise waits.
void live_stream::step() {
    if (state_ != state::live) {
        return;
    }
    if (sub_.closed()) {
        finish();
        return;
    }
    if (sub_.overflowed()) {
        if (!conflate_) {
            end(stream_end::slow_consumer);
        } else {
            catch_up();
        }
        return;
    }
    sub_.take(groups_);
    bufs_.assign(1, asio::const_buffer{}); // the chunk header, filled in by write()
    counts_ = {};
    for (const auto& g : groups_) {
        if (g->rve() > ready_rve_ && gather(*g, sub_.filter(), bufs_, counts_)) {
            sent_rve_ = g->rve();
        }
    }
    if (bufs_.size() > 1) {
        write();
        return;
    }
    groups_.clear();
    const auto now = clock::now();
    if (wants_debug() && now >= next_debug_) {
        next_debug_ = now + std::chrono::milliseconds(ctx_.cfg.feed.debug_interval_ms);
        text_ =
            feed::debug_event(debug_n_++, sub_.filter().format, core::rve{core::system_now_ms()});
        bufs_.push_back(asio::buffer(text_));
        counts_[static_cast<int>(core::event_type::debug)] = 1;
        write();
        return;
    }
    const auto keepalive = std::chrono::milliseconds(ctx_.cfg.feed.keepalive_ms);
    if (now - last_write_ >= keepalive) {
        bufs_.push_back(asio::buffer(keepalive_comment()));
        write();
        return;
    }
    auto wake_at = last_write_ + keepalive;
    if (wants_debug()) {
        wake_at = std::min(wake_at, next_debug_);
    }
    arm(wake_at);
}

/// Writes bufs_[1..] as one HTTP chunk (bufs_[0] becomes its size line); one write for
/// everything queued, from buffers shared with every other subscriber.
void live_stream::write() {
    std::size_t left = asio::buffer_size(bufs_);
    chunk_bytes_ = left;
    bufs_[0] = chunk_head_.format(left);
    bufs_.push_back(asio::buffer(crlf));
    left = asio::buffer_size(bufs_);
    state_ = state::writing;
    write_started_ = clock::now();
    // Most chunks fit in the socket's send buffer: write at once (the socket is
    // non-blocking) and wait only for what is left, so a delivery costs one writev and no
    // completion handler.
    beast::buffers_suffix<std::span<const asio::const_buffer>> rest{
        std::span<const asio::const_buffer>(bufs_)};
    boost::system::error_code ec;
    while (left > 0) {
        const std::size_t n = socket_.write_some(rest, ec);
        if (ec) {
            break;
        }
        rest.consume(n);
        left -= n;
    }
    if (left == 0 || (ec && ec != asio::error::would_block && ec != asio::error::try_again)) {
        written(ec);
        return;
    }
    arm(write_started_ + std::chrono::milliseconds(ctx_.cfg.limits.write_timeout_ms));
    asio::async_write(socket_, rest,
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                          self->written(ec);
                      });
}

void live_stream::written(boost::system::error_code ec) {
    if (state_ == state::ended) {
        return;
    }
    state_ = state::live;
    last_write_ = clock::now();
    groups_.clear();
    text_.clear();
    if (ec && !(ec == asio::error::operation_aborted && sub_.overflowed() && !timed_out_)) {
        end(timed_out_ ? stream_end::write_timeout : end_of(ec), ec);
        return;
    }
    if (!ec) {
        sent_.events += count_delivered(ctx_, sub_, counts_);
        sent_.bytes += chunk_bytes_;
    }
    step();
}

/// Makes the timer fire at `at` or earlier. A timer already due earlier is left alone: it
/// fires, finds nothing due and waits again, so a busy stream does not re-arm per write.
void live_stream::arm(clock::time_point at) {
    if (timer_waiting_ && timer_at_ <= at) {
        return;
    }
    timer_waiting_ = true;
    timer_at_ = at;
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec == asio::error::operation_aborted) {
            return; // re-armed (a newer wait is pending) or ended
        }
        self->timer_waiting_ = false;
        self->timer_fired();
    });
}

void live_stream::timer_fired() {
    if (state_ == state::writing || state_ == state::finishing) {
        const auto deadline =
            write_started_ + (state_ == state::finishing
                                  ? std::chrono::milliseconds(5000)
                                  : std::chrono::milliseconds(ctx_.cfg.limits.write_timeout_ms));
        if (clock::now() < deadline) {
            arm(deadline);
        } else if (state_ == state::finishing) {
            end(hub_reason());
        } else {
            // A client that stops reading cannot hold the stream forever: a write that
            // makes no progress for write_timeout closes it (it resumes from its
            // Last-Event-ID).
            timed_out_ = true;
            boost::system::error_code ignored;
            socket_.cancel(ignored);
        }
        return;
    }
    step(); // does nothing unless live
}

/// Completes when the client closes its side (or sends anything, which SSE clients never
/// do): the stream ends.
void live_stream::watch_peer() {
    socket_.async_wait(asio::ip::tcp::socket::wait_read,
                       [self = shared_from_this(), gen = peer_gen_](boost::system::error_code ec) {
                           // Cancelled: whatever cancelled it (a cut write, a catch-up, the
                           // end) carries on; only a readable or failed socket is the peer's.
                           if (ec != asio::error::operation_aborted && gen == self->peer_gen_ &&
                               self->state_ != state::ended) {
                               self->end(end_of(ec), ec);
                           }
                       });
}

/// conflate=1 and behind: catch up from the store in a coroutine, then live again.
void live_stream::catch_up() {
    state_ = state::catching_up;
    ++peer_gen_; // the peer wait ends now; its completion is not a closed peer
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    sub_.drop_queue();
    sub_.clear_overflow();
    ctx_.stats.conflation();
    core::log(spdlog::level::info,
              fmt::format("stream of {} behind by over {} unsent bytes: conflated catch-up from {}",
                          sub_.rmsystem(), ctx_.cfg.limits.subscriber_queue_bytes, sent_rve_.str()),
              {{"stream_id", id_}});
    asio::co_spawn(socket_.get_executor(), run_catch_up(shared_from_this()), asio::detached);
}

asio::awaitable<void> live_stream::run_catch_up(std::shared_ptr<live_stream> self) {
    beast::tcp_stream stream(std::move(self->socket_));
    chunk_writer out(stream, std::chrono::milliseconds(self->ctx_.cfg.limits.write_timeout_ms));
    std::optional<core::rve> at;
    bool failed = false;
    try {
        at = co_await conflated_catch_up(self->ctx_, out, self->sub_, self->want_, self->sent_rve_,
                                         self->sent_);
    } catch (const std::exception& e) {
        failed = true;
        core::log(spdlog::level::warn, fmt::format("conflated catch-up failed: {}", e.what()),
                  {{"stream_id", self->id_}});
    }
    self->socket_ = stream.release_socket();
    if (self->state_ == state::ended) {
        co_return;
    }
    self->state_ = state::live;
    if (!at) {
        self->timed_out_ = out.error() == beast::error::timeout;
        if (self->timed_out_) {
            self->end(stream_end::write_timeout, out.error());
        } else if (failed) {
            self->end(stream_end::error);
        } else if (self->sub_.closed()) {
            self->end(self->hub_reason());
        } else {
            self->end(end_of(out.error()), out.error());
        }
        co_return;
    }
    self->ready_rve_ = self->sent_rve_ = std::max(self->sent_rve_, *at);
    self->last_write_ = out.last_write();
    self->watch_peer();
    self->step();
}

/// The server closes the stream (shutdown, logout, a revoked key): the last chunk, then
/// the end.
void live_stream::finish() {
    state_ = state::finishing;
    write_started_ = clock::now();
    arm(write_started_ + std::chrono::seconds(5));
    asio::async_write(socket_, beast_http::make_chunk_last(),
                      [self = shared_from_this()](boost::system::error_code, std::size_t) {
                          self->end(self->hub_reason());
                      });
}

/// Why the hub closed the stream (sub_.closed()): shutdown, or its credential ended.
stream_end live_stream::hub_reason() const {
    return ctx_.shutting_down ? stream_end::shutdown : stream_end::revoked;
}

void live_stream::end(stream_end why, boost::system::error_code ec) {
    if (state_ == state::ended) {
        return;
    }
    state_ = state::ended;
    sub_.on_wake(nullptr);
    sub_.on_overflow(nullptr);
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
    closed(why, ec);
}

/// Counts a slow consumer (its queue overflowed, or a write stalled) and logs the close, once:
/// the reason, how long the stream was open and what it sent.
void live_stream::closed(stream_end why, boost::system::error_code ec) {
    if (close_logged_) {
        return;
    }
    close_logged_ = true;
    auto level = spdlog::level::info;
    std::string message = "GET " + logged_target_ + " stream closed";
    switch (why) {
    case stream_end::slow_consumer:
        ctx_.stats.slow_consumer();
        level = spdlog::level::warn;
        message += fmt::format(": slow consumer passed {} unsent bytes",
                               ctx_.cfg.limits.subscriber_queue_bytes);
        break;
    case stream_end::write_timeout:
        ctx_.stats.slow_consumer();
        level = spdlog::level::warn;
        message += ": a write made no progress for limits.write_timeout_ms";
        break;
    case stream_end::revoked:
    case stream_end::shutdown:
        message += ": " + sub_.close_reason();
        break;
    case stream_end::error:
        level = spdlog::level::warn;
        message += ec ? ": " + ec.message() : std::string(": an error ended it");
        break;
    case stream_end::client_closed:
        break;
    }
    const auto lasted =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - opened_at_).count();
    core::log(level, message,
              {{"method", "GET", false},
               {"target", logged_target_, false},
               {"stream_id", id_},
               {"rmsystem", sub_.rmsystem()},
               {"reason", to_string(why)},
               {"duration_ms", lasted},
               {"events", sent_.events},
               {"bytes", sent_.bytes}});
}

} // namespace posfeed::http
