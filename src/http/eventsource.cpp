#include "auth/credential.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "feed/control_packets.hpp"
#include "feed/debug_packets.hpp"
#include "feed/encoded_group.hpp"
#include "feed/resume.hpp"
#include "feed/sse.hpp"
#include "feed/subscriber.hpp"
#include "feed/want.hpp"
#include "http/cors.hpp"
#include "http/handlers.hpp"
#include "http/stream_request.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <span>

namespace posfeed::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view blank_line = "\n";

constexpr std::string_view crlf = "\r\n";

/// The size line of an HTTP/1.1 chunk (`<hex size>\r\n`), formatted in place.
class chunk_head {
  public:
    asio::const_buffer format(std::size_t size) {
        auto* end = std::to_chars(text_.data(), text_.data() + 16, size, 16).ptr;
        std::memcpy(end, crlf.data(), crlf.size());
        return asio::buffer(text_.data(), static_cast<std::size_t>(end - text_.data()) + 2);
    }

  private:
    std::array<char, 18> text_{};
};

/// Writes SSE bytes as HTTP/1.1 chunks, one chunk per call, and tracks idleness.
class chunk_writer {
  public:
    chunk_writer(beast::tcp_stream& s, std::chrono::milliseconds timeout)
        : stream_(s), timeout_(timeout) {}

    asio::awaitable<bool> write(std::string_view text) {
        if (text.empty()) {
            co_return true;
        }
        // A client that stops reading cannot hold the stream forever: a write that makes no
        // progress for write_timeout closes it (it resumes from its Last-Event-ID).
        stream_.expires_after(timeout_);
        chunk_head head;
        const std::array<asio::const_buffer, 3> chunk{head.format(text.size()), asio::buffer(text),
                                                      asio::buffer(crlf)};
        auto [ec, n] = co_await asio::async_write(stream_, chunk, use_tuple);
        last_write_ = clock::now();
        if (ec) {
            error_ = ec;
        }
        co_return !ec;
    }

    asio::awaitable<void> finish() {
        stream_.expires_after(std::chrono::seconds(5));
        co_await asio::async_write(stream_, beast_http::make_chunk_last(), use_tuple);
    }

    clock::time_point last_write() const { return last_write_; }

    /// Why the last write failed (default: none).
    boost::system::error_code error() const { return error_; }

  private:
    beast::tcp_stream& stream_;
    std::chrono::milliseconds timeout_;
    boost::system::error_code error_;
    clock::time_point last_write_ = clock::now();
};

/// Events per type gathered for one write, counted into the metrics once it is written.
using tally = std::array<std::uint64_t, core::event_type_count>;

void count_delivered(context& ctx, const feed::subscriber& sub, tally& t) {
    for (int i = 0; i < core::event_type_count; ++i) {
        if (t[i] != 0) {
            ctx.stats.delivered(sub.shard(), static_cast<core::event_type>(i), t[i]);
            t[i] = 0;
        }
    }
}

/// Passes the frames `filter` selects from `g` to `emit(std::string_view)`, with blank lines.
/// The group's `id:` goes on the last one (SPEC 3: a cut inside a group replays the whole
/// group), first in that event as SPEC 3 writes the framing. Returns whether any frame was
/// emitted.
template <class Emit>
bool gather_into(const feed::encoded_group& g, const feed::subscription_filter& filter,
                 tally& counts, Emit&& emit) {
    const std::string* last = nullptr;
    g.for_each_packet(filter, [&](core::event_type type, const std::string& frame) {
        if (last != nullptr) {
            emit(*last);
            emit(blank_line);
        }
        last = &frame;
        ++counts[static_cast<int>(type)];
    });
    if (last == nullptr) {
        return false;
    }
    emit(g.id_line());
    emit(*last);
    emit(blank_line);
    return true;
}

/// gather_into a list of buffers that point into the (shared) group.
bool gather(const feed::encoded_group& g, const feed::subscription_filter& filter,
            std::vector<asio::const_buffer>& bufs, tally& counts) {
    return gather_into(g, filter, counts,
                       [&bufs](std::string_view text) { bufs.push_back(asio::buffer(text)); });
}

/// Opens a read of the current state of records of `kinds` changed after `since` (0: all), at
/// one consistent RVE (the cursor's at()).
asio::awaitable<std::shared_ptr<store::record_cursor>>
open_records(context& ctx, const feed::subscriber& sub, std::vector<core::record_kind> kinds,
             core::rve since) {
    auto open = [&ctx, &sub, kinds = std::move(kinds), since] {
        return ctx.db.open_records(sub.rmsystem(), kinds, since, sub.filter().location);
    };
    co_return co_await ctx.pool.run(std::move(open));
}

/// Streams what `cursor` reads in packets of up to `feed.replay_batch` records, without holding
/// more than one page in memory. The last packet carries `id: <the cursor's RVE>`, so a client
/// cut after it resumes from there; a client cut before it starts over. Returns the RVE, or
/// nullopt when the stream ended.
asio::awaitable<std::optional<core::rve>>
stream_records(context& ctx, chunk_writer& out, feed::subscriber& sub,
               std::shared_ptr<store::record_cursor> cursor) {
    const auto& filter = sub.filter();
    const core::rve at = cursor->at();
    const auto batch = static_cast<std::size_t>(ctx.cfg.feed.replay_batch);
    std::string pending; // the last frame, held back until we know whether it is the last
    while (true) {
        auto read = [cursor, batch] { return cursor->next(batch); };
        const std::vector<store::record> records = co_await ctx.pool.run(std::move(read));
        if (records.empty()) {
            break;
        }
        std::string frames;
        std::size_t i = 0;
        while (i < records.size()) {
            std::size_t j = i;
            std::vector<feed::versioned_record> run;
            while (j < records.size() && records[j].kind == records[i].kind) {
                run.push_back({records[j].body, records[j].rve});
                ++j;
            }
            // Cursors are opened only over kinds that have a feed type (record_kinds_for).
            const auto type = core::feed_type(records[i].kind).value();
            std::string data;
            feed::append_packet(data, filter.format, type, run);
            if (!pending.empty()) {
                frames += pending;
                frames += blank_line;
            }
            pending.clear();
            feed::append_event_fields(pending, core::to_string(type), data);
            i = j;
        }
        if (sub.closed() || !co_await out.write(frames)) {
            co_return std::nullopt;
        }
    }
    if (!pending.empty()) {
        pending = feed::id_line(at.str()) + pending;
        pending += blank_line;
        if (!co_await out.write(pending)) {
            co_return std::nullopt;
        }
    }
    co_return at;
}

/// open_records, then stream_records.
asio::awaitable<std::optional<core::rve>> send_records(context& ctx, chunk_writer& out,
                                                       feed::subscriber& sub,
                                                       std::vector<core::record_kind> kinds,
                                                       core::rve since) {
    auto cursor = co_await open_records(ctx, sub, std::move(kinds), since);
    co_return co_await stream_records(ctx, out, sub, std::move(cursor));
}

/// Writes the groups of a log page that the subscriber's filter selects, up to `until`
/// (inclusive) when given, counting them as delivered and replayed. Returns false when the stream
/// ended.
asio::awaitable<bool> write_log_groups(context& ctx, chunk_writer& out, feed::subscriber& sub,
                                       const std::vector<store::event_group>& groups,
                                       std::optional<core::rve> until = std::nullopt) {
    // Encoded for this stream alone (its format only) and copied into one buffer: one write
    // of a contiguous page costs less than a gather over three buffers per event.
    std::string text;
    const auto watchers = [&ctx](const std::string& session) {
        return ctx.hub.barcode_watchers(session);
    };
    tally counts{};
    for (const auto& g : groups) {
        if (until && g.rve > *until) {
            break;
        }
        const feed::encoded_group encoded(g, watchers, sub.filter().format);
        gather_into(encoded, sub.filter(), counts, [&text](std::string_view s) { text += s; });
    }
    std::uint64_t replayed = 0;
    for (const auto n : counts) {
        replayed += n;
    }
    if (sub.closed() || !co_await out.write(text)) {
        co_return false;
    }
    count_delivered(ctx, sub, counts);
    ctx.stats.replayed(sub.shard(), replayed);
    co_return true;
}

/// Validates the request; the error becomes the JSON response.
asio::awaitable<core::result<stream_request, http_error>> validate(context& ctx, const request& req,
                                                                   const target& t) {
    if (req.method() != beast_http::verb::get) {
        co_return http_error{protocol_code::method_not_allowed,
                             "the event source answers GET only, not " +
                                 std::string(req.method_string())};
    }
    if (ctx.shutting_down) {
        co_return core::error{core::error_code::unavailable,
                              "the server is shutting down; reconnect"};
    }
    auto cred = co_await authenticate(ctx, req, t);
    if (!cred.ok()) {
        co_return cred.take_err();
    }
    std::optional<store::session_row> named_session;
    if (const auto named = named_session_id(t, *cred)) {
        auto find = [&ctx, key = auth::session_key(*named)] { return ctx.db.find_session(key); };
        named_session = co_await ctx.pool.run(std::move(find));
    }
    auto parsed =
        parse_stream_request(t, header(req, "Last-Event-ID"), std::move(*cred), named_session);
    if (!parsed.ok()) {
        co_return parsed.take_err();
    }
    co_return std::move(*parsed);
}

/// The catch-up of a `conflate=1` stream that passed the unsent-bytes limit, from `since` (the
/// last group it was sent): first the events of the types that are not state-like (sales,
/// session events, barcodes) from the log, exactly, up to the RVE the records read is at; then
/// the current state of every product, customer and stock level changed since `since`, one
/// packet per batch, the last with `id: <that RVE>`. The client so receives each changed record
/// once, at its newest value, and never an older value after a newer one; ids only grow.
/// Returns the RVE it caught up to, or nullopt when the stream ended.
asio::awaitable<std::optional<core::rve>> conflated_catch_up(context& ctx, chunk_writer& out,
                                                             feed::subscriber& sub,
                                                             core::type_mask want,
                                                             core::rve since) {
    const core::type_mask state = want & core::state_types;
    const core::type_mask exact = want & ~core::state_types & ~core::bit(core::event_type::debug);
    // The records read fixes the RVE first; the log is then read up to it.
    auto cursor = co_await open_records(ctx, sub, core::record_kinds_for(state), since);
    const core::rve at = cursor->at();
    core::rve from = since;
    while (exact != 0 && from < at) {
        store::event_query q{sub.rmsystem(), from, exact, sub.filter().session,
                             static_cast<std::size_t>(ctx.cfg.feed.replay_batch)};
        auto read_page = [&ctx, q = std::move(q)] { return ctx.db.read_events(q); };
        const auto page = co_await ctx.pool.run(std::move(read_page));
        if (!co_await write_log_groups(ctx, out, sub, page.groups, at)) {
            co_return std::nullopt;
        }
        if (!page.more || page.groups.empty()) {
            break;
        }
        from = page.groups.back().rve;
    }
    co_return co_await stream_records(ctx, out, sub, std::move(cursor));
}

/// The start of a stream: the retry field, the snapshot or replay from the log, and `ready`.
/// Returns the RVE the stream is ready at, or nullopt when it ended.
asio::awaitable<std::optional<core::rve>> replay(context& ctx, chunk_writer& out,
                                                 feed::subscriber& sub, const stream_request& sr) {
    const auto& filter = sub.filter();
    if (!co_await out.write(feed::retry_field(ctx.cfg.feed.retry_ms))) {
        co_return std::nullopt;
    }
    // Replay from the log. The subscriber is already attached, so anything committed after the
    // reads below is queued; anything the reads saw is dropped from the queue by RVE.
    std::optional<core::rve> from = sr.resume;
    const core::type_mask logged = sr.want.mask & ~core::bit(core::event_type::debug);
    const core::type_mask state = sr.want.mask & core::state_types;
    if (!from && sr.snapshot) {
        from = co_await send_records(ctx, out, sub, core::record_kinds_for(state), core::rve{});
        if (!from) {
            co_return std::nullopt;
        }
    }
    core::rve ready_rve;
    while (true) {
        if (!from) {
            auto read_newest = [&ctx, &sub] { return ctx.db.newest_rve(sub.rmsystem()); };
            ready_rve = co_await ctx.pool.run(std::move(read_newest));
        } else {
            core::rve cursor = *from;
            while (true) {
                store::event_query q{sub.rmsystem(), cursor, logged, filter.session,
                                     static_cast<std::size_t>(ctx.cfg.feed.replay_batch)};
                auto read_page = [&ctx, q = std::move(q)] { return ctx.db.read_events(q); };
                const auto page = co_await ctx.pool.run(std::move(read_page));
                if (cursor > page.newest || cursor < page.history_from) {
                    // A cursor from the future (the server was restored from an older backup)
                    // gets a snapshot; one older than the kept history gets the compacted
                    // catch-up: the latest state of every record changed since it, and the
                    // sales completed since it.
                    const bool ahead = cursor > page.newest;
                    const core::type_mask lost =
                        ahead ? 0
                              : (logged & ~core::state_types & ~core::bit(core::event_type::sales));
                    if (!co_await out.write(
                            feed::reset_event(ahead ? "cursor_ahead" : "history_expired", cursor,
                                              lost, filter.format))) {
                        co_return std::nullopt;
                    }
                    const auto at = co_await send_records(
                        ctx, out, sub,
                        core::record_kinds_for(
                            ahead ? state
                                  : (logged &
                                     (core::state_types | core::bit(core::event_type::sales)))),
                        ahead ? core::rve{} : cursor);
                    if (!at) {
                        co_return std::nullopt;
                    }
                    cursor = *at;
                    continue;
                }
                if (!page.groups.empty()) {
                    cursor = page.groups.back().rve;
                }
                if (!co_await write_log_groups(ctx, out, sub, page.groups)) {
                    co_return std::nullopt;
                }
                if (!page.more) {
                    ready_rve = std::max(cursor, page.newest);
                    break;
                }
            }
        }
        if (!sub.overflowed()) {
            break;
        }
        // Live traffic outran the replay and the queue was dropped: read the log again from
        // the newest RVE the reads above covered.
        sub.drop_queue();
        sub.clear_overflow();
        from = ready_rve;
    }
    if (sub.closed() ||
        !co_await out.write(feed::ready_event(sr.want.types, ready_rve, filter.format))) {
        co_return std::nullopt;
    }
    co_return ready_rve;
}

/// Logs the end of a stream (and counts a stalled write as a slow consumer).
void log_stream_closed(context& ctx, const std::string& logged_target, const feed::subscriber& sub,
                       bool write_timed_out) {
    if (write_timed_out) {
        ctx.stats.slow_consumer();
        spdlog::warn("GET {} stream closed: a write made no progress for limits.write_timeout_ms",
                     logged_target);
    } else {
        spdlog::info("GET {} stream closed{}{}", logged_target, sub.closed() ? ": " : "",
                     sub.close_reason());
    }
}

/// The keepalive comment, the same bytes for every stream.
const std::string& keepalive_comment() {
    static const std::string text = feed::comment("keepalive");
    return text;
}

/// A stream after `ready`, driven by callbacks on its shard with no coroutine frame alive: an
/// idle stream costs this object, its socket, a wait for the peer to close and a timer
/// (keepalive, debug packets and the write timeout share it). Owned by the shared pointers its
/// pending operations hold; it is destroyed, and detached from the hub, when the last ends.
///
/// Created before the replay so the hub queues live groups from the start (the replay drops
/// the ones it covered by RVE); start() takes over the socket once `ready` is written. Every
/// member function runs on the stream's shard.
class live_stream : public std::enable_shared_from_this<live_stream> {
  public:
    live_stream(context& ctx, asio::any_io_executor ex, std::size_t shard, const stream_request& sr,
                std::string logged_target)
        : ctx_(ctx), sub_(shard, sr.cred.rmsystem, sr.filter, ctx.cfg.limits.subscriber_queue_bytes,
                          sr.cred.id),
          logged_target_(std::move(logged_target)), want_(sr.want.mask), conflate_(sr.conflate),
          socket_(ex), timer_(ex) {
        ctx_.hub.attach(sub_);
    }

    live_stream(const live_stream&) = delete;
    live_stream& operator=(const live_stream&) = delete;

    ~live_stream() {
        ctx_.hub.detach(sub_);
        ctx_.hub.close_stream(sub_.credential());
        if (state_ != state::replaying) {
            --ctx_.connections;
            --ctx_.active_requests;
        }
    }

    feed::subscriber& sub() { return sub_; }

    /// Takes over the connection after `ready` (written at `last_write`) and delivers from the
    /// queue on: groups newer than `ready_rve` only.
    void start(asio::ip::tcp::socket socket, core::rve ready_rve, clock::time_point last_write) {
        socket_ = std::move(socket);
        boost::system::error_code ignored;
        socket_.non_blocking(true, ignored);
        ++ctx_.connections;
        ++ctx_.active_requests;
        state_ = state::live;
        ready_rve_ = sent_rve_ = ready_rve;
        last_write_ = last_write;
        next_debug_ = clock::now();
        sub_.on_wake([this] { wake(); });
        sub_.on_overflow([this] { overflowed(); });
        watch_peer();
        step();
    }

  private:
    enum class state : std::uint8_t { replaying, live, writing, catching_up, finishing, ended };

    bool wants_debug() const { return (want_ & core::bit(core::event_type::debug)) != 0; }

    /// The hub queued a group or closed the stream: step once the hub's loop is done.
    void wake() {
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
    void overflowed() {
        if (conflate_) {
            spdlog::info("stream of {} passed {} unsent bytes: it will be caught up with the "
                         "latest state per record",
                         sub_.rmsystem(), ctx_.cfg.limits.subscriber_queue_bytes);
        } else if (state_ == state::writing) {
            // A slow consumer: abort the write it is stuck in; step() then closes the stream.
            boost::system::error_code ignored;
            socket_.cancel(ignored);
        }
    }

    /// Does what is due: close, catch up, write what is queued, a debug packet or a keepalive;
    /// otherwise waits.
    void step() {
        if (state_ != state::live) {
            return;
        }
        if (sub_.closed()) {
            finish();
            return;
        }
        if (sub_.overflowed()) {
            if (!conflate_) {
                ctx_.stats.slow_consumer();
                spdlog::warn("stream of {} closed: slow consumer passed {} unsent bytes",
                             sub_.rmsystem(), ctx_.cfg.limits.subscriber_queue_bytes);
                end();
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
            text_ = feed::debug_event(debug_n_++, sub_.filter().format,
                                      core::rve{core::system_now_ms()});
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
    void write() {
        std::size_t left = asio::buffer_size(bufs_);
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

    void written(boost::system::error_code ec) {
        if (state_ == state::ended) {
            return;
        }
        state_ = state::live;
        last_write_ = clock::now();
        groups_.clear();
        text_.clear();
        if (ec && !(ec == asio::error::operation_aborted && sub_.overflowed() && !timed_out_)) {
            end();
            return;
        }
        if (!ec) {
            count_delivered(ctx_, sub_, counts_);
        }
        step();
    }

    /// Makes the timer fire at `at` or earlier. A timer already due earlier is left alone: it
    /// fires, finds nothing due and waits again, so a busy stream does not re-arm per write.
    void arm(clock::time_point at) {
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

    void timer_fired() {
        if (state_ == state::writing || state_ == state::finishing) {
            const auto deadline =
                write_started_ +
                (state_ == state::finishing
                     ? std::chrono::milliseconds(5000)
                     : std::chrono::milliseconds(ctx_.cfg.limits.write_timeout_ms));
            if (clock::now() < deadline) {
                arm(deadline);
            } else if (state_ == state::finishing) {
                end();
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
    void watch_peer() {
        socket_.async_wait(
            asio::ip::tcp::socket::wait_read,
            [self = shared_from_this(), gen = peer_gen_](boost::system::error_code ec) {
                // Cancelled: whatever cancelled it (a cut write, a catch-up, the
                // end) carries on; only a readable or failed socket is the peer's.
                if (ec != asio::error::operation_aborted && gen == self->peer_gen_ &&
                    self->state_ != state::ended) {
                    self->end();
                }
            });
    }

    /// conflate=1 and behind: catch up from the store in a coroutine, then live again.
    void catch_up() {
        state_ = state::catching_up;
        ++peer_gen_; // the peer wait ends now; its completion is not a closed peer
        boost::system::error_code ignored;
        socket_.cancel(ignored);
        sub_.drop_queue();
        sub_.clear_overflow();
        ctx_.stats.conflation();
        spdlog::info("stream of {} behind by over {} unsent bytes: conflated catch-up from {}",
                     sub_.rmsystem(), ctx_.cfg.limits.subscriber_queue_bytes, sent_rve_.str());
        asio::co_spawn(socket_.get_executor(), run_catch_up(shared_from_this()), asio::detached);
    }

    static asio::awaitable<void> run_catch_up(std::shared_ptr<live_stream> self) {
        beast::tcp_stream stream(std::move(self->socket_));
        chunk_writer out(stream, std::chrono::milliseconds(self->ctx_.cfg.limits.write_timeout_ms));
        std::optional<core::rve> at;
        try {
            at = co_await conflated_catch_up(self->ctx_, out, self->sub_, self->want_,
                                             self->sent_rve_);
        } catch (const std::exception& e) {
            spdlog::warn("conflated catch-up failed: {}", e.what());
        }
        self->socket_ = stream.release_socket();
        if (self->state_ == state::ended) {
            co_return;
        }
        self->state_ = state::live;
        if (!at) {
            self->timed_out_ = out.error() == beast::error::timeout;
            self->end();
            co_return;
        }
        self->ready_rve_ = self->sent_rve_ = std::max(self->sent_rve_, *at);
        self->last_write_ = out.last_write();
        self->watch_peer();
        self->step();
    }

    /// The server closes the stream (shutdown, logout, a revoked key): the last chunk, then
    /// the end.
    void finish() {
        state_ = state::finishing;
        write_started_ = clock::now();
        arm(write_started_ + std::chrono::seconds(5));
        asio::async_write(
            socket_, beast_http::make_chunk_last(),
            [self = shared_from_this()](boost::system::error_code, std::size_t) { self->end(); });
    }

    void end() {
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
        log_stream_closed(ctx_, logged_target_, sub_, timed_out_);
    }

    context& ctx_;
    feed::subscriber sub_;
    std::string logged_target_;
    core::type_mask want_;
    bool conflate_;
    state state_ = state::replaying;
    bool wake_posted_ = false;
    bool timer_waiting_ = false;
    bool timed_out_ = false;
    std::uint32_t peer_gen_ = 0;
    asio::ip::tcp::socket socket_;
    asio::steady_timer timer_;
    clock::time_point timer_at_;
    clock::time_point last_write_;
    clock::time_point write_started_;
    clock::time_point next_debug_;
    core::rve ready_rve_;
    core::rve sent_rve_;
    std::uint64_t debug_n_ = 0;
    chunk_head chunk_head_;
    std::vector<feed::encoded_ptr> groups_; ///< queued groups, held while they are written
    std::vector<asio::const_buffer> bufs_;  ///< the chunk being written
    std::string text_;                      ///< a debug packet being written
    tally counts_{};                        ///< events per type in the chunk being written
};

} // namespace

bool is_eventsource_path(std::string_view path) {
    constexpr std::string_view base = "/eventsource";
    return path == base ||
           (path.starts_with(base) && path.size() > base.size() + 1 && path[base.size()] == '_');
}

asio::awaitable<void> serve_eventsource(context& ctx, beast::tcp_stream& stream, const request& req,
                                        const target& t, std::size_t shard) {
    std::string logged_target = core::redact_target(req.target());
    auto sr = co_await validate(ctx, req, t);
    if (sr.ok() && !ctx.hub.try_open_stream(sr->cred.id, ctx.cfg.limits.streams_per_credential)) {
        sr = core::error{
            core::error_code::resource_exhausted,
            "this credential already has " + std::to_string(ctx.cfg.limits.streams_per_credential) +
                " open streams (limits.streams_per_credential); close one or retry later"};
    }
    if (!sr.ok()) {
        auto res = error_response(req, sr.err(), 5, "GET");
        apply_cors(ctx.cfg, req, res);
        res.keep_alive(false);
        spdlog::info("GET {} {}", logged_target, res.result_int());
        ctx.stats.request(static_cast<int>(res.result_int()));
        co_await beast_http::async_write(stream, res, use_tuple);
        co_return;
    }
    // Owns the stream slot from here on (released when it is destroyed).
    auto live = std::make_shared<live_stream>(ctx, co_await asio::this_coro::executor, shard, *sr,
                                              logged_target);

    beast_http::response<beast_http::empty_body> res{beast_http::status::ok, req.version()};
    res.set(beast_http::field::server, "posfeed");
    res.set(beast_http::field::content_type, "text/event-stream");
    res.set(beast_http::field::cache_control, "no-cache");
    res.set("X-Accel-Buffering", "no");
    apply_cors(ctx.cfg, req, res);
    res.chunked(true);
    res.keep_alive(true);
    beast_http::response_serializer<beast_http::empty_body> serializer(res);
    auto [ec, n] = co_await beast_http::async_write_header(stream, serializer, use_tuple);
    if (ec) {
        co_return;
    }
    spdlog::info("GET {} 200 stream opened", logged_target);
    ctx.stats.stream_opened();
    ctx.stats.request(200);

    chunk_writer out(stream, std::chrono::milliseconds(ctx.cfg.limits.write_timeout_ms));
    const auto ready_rve = co_await replay(ctx, out, live->sub(), *sr);
    if (!ready_rve) {
        if (live->sub().closed()) {
            co_await out.finish();
        }
        log_stream_closed(ctx, logged_target, live->sub(), out.error() == beast::error::timeout);
        co_return;
    }
    // The live phase runs without this coroutine (or the connection's): see live_stream.
    live->start(stream.release_socket(), *ready_rve, out.last_write());
}

} // namespace posfeed::http
