#pragma once

#include "feed/encoded_group.hpp"
#include "feed/subscriber.hpp"
#include "http/chunk_writer.hpp"
#include "http/connection_slot.hpp"
#include "http/context.hpp"
#include "http/stream_frames.hpp"
#include "http/stream_request.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posfeed::http {

/// Why a stream closed, as the line logged when it closes names it (`reason`).
enum class stream_end : std::uint8_t {
    client_closed, ///< the client closed its side, or its connection broke (reset, broken pipe)
    slow_consumer, ///< its queue passed limits.subscriber_queue_bytes (conflate=0)
    write_timeout, ///< a write made no progress for limits.write_timeout_ms
    revoked,       ///< the hub closed it: a logout, a revoked key or an ended session
    shutdown,      ///< the hub closed it: the server is shutting down
    error,         ///< anything else: another socket error, a failed read of the store
};

/// The snake_case name of `why` (`client_closed`, ...).
std::string_view to_string(stream_end why);

/// A stream after `ready`, driven by callbacks on its shard with no coroutine frame alive: an
/// idle stream costs this object, its socket, a wait for the peer to close and a timer
/// (keepalive, debug packets and the write timeout share it). Owned by the shared pointers its
/// pending operations hold; it is destroyed, and detached from the hub, when the last ends.
///
/// Created before the replay so the hub queues live groups from the start (the replay drops
/// the ones it covered by RVE); start() takes over the socket once `ready` is written. Every
/// member function runs on the stream's shard. The states and their transitions are drawn in
/// docs/architecture.md ("live_stream states").
///
/// Logs one line when the stream opens (opened()) and one when it closes, with its reason,
/// duration and what it sent (docs/operations.md, "Logs"); a stream that opened and is
/// destroyed without a close (an exception in the replay) logs its close then.
class live_stream : public std::enable_shared_from_this<live_stream> {
  public:
    using clock = std::chrono::steady_clock;

    /// Attaches the stream's subscriber to the hub (on `shard`, whose executor is `ex`). The
    /// stream holds its credential's stream slot (hub::try_open_stream) from here on and
    /// releases it when destroyed.
    live_stream(context& ctx, boost::asio::any_io_executor ex, std::size_t shard,
                const stream_request& sr, std::string logged_target);
    live_stream(const live_stream&) = delete;
    live_stream& operator=(const live_stream&) = delete;
    ~live_stream();

    feed::subscriber& sub() { return sub_; }

    /// What the stream sent so far; the replay and the live phase add to it.
    stream_sent& sent() { return sent_; }

    /// The 200 header is written: starts the stream's clock and logs that it opened.
    void opened();

    /// The replay ended the stream before `ready` (the hub closed it, or its last write
    /// failed with `ec`): logs the close. The owner then drops the object.
    void replay_ended(boost::system::error_code ec);

    /// The store follows the stream's RmSystem for it (store::follow succeeded): the stream
    /// unfollows when it ends.
    void followed() { following_ = true; }

    /// Takes over the connection after `ready` (written at `last_write`) and delivers from the
    /// queue on: groups newer than `ready_rve` only. Takes the connection's slot (its counts
    /// end with the stream).
    void start(boost::asio::ip::tcp::socket socket, connection_slot slot, core::rve ready_rve,
               clock::time_point last_write);

  private:
    enum class state : std::uint8_t { replaying, live, writing, catching_up, finishing, ended };

    bool wants_debug() const;
    void wake();
    void overflowed();
    void step();
    void write();
    void written(boost::system::error_code ec);
    void arm(clock::time_point at);
    void timer_fired();
    void watch_peer();
    void catch_up();
    static boost::asio::awaitable<void> run_catch_up(std::shared_ptr<live_stream> self);
    void finish();
    stream_end hub_reason() const;
    void end(stream_end why, boost::system::error_code ec = {});
    void closed(stream_end why, boost::system::error_code ec);

    context& ctx_;
    feed::subscriber sub_;
    std::string logged_target_;
    std::uint64_t id_; ///< the stream's number in the log lines (per process)
    clock::time_point opened_at_;
    bool opened_ = false;
    bool close_logged_ = false;
    stream_sent sent_;
    std::size_t chunk_bytes_ = 0; ///< event-stream bytes of the chunk being written
    core::type_mask want_;
    bool conflate_;
    bool following_ = false;
    std::optional<connection_slot> slot_; ///< the connection's counts, from start() on
    state state_ = state::replaying;
    bool wake_posted_ = false;
    bool timer_waiting_ = false;
    bool timed_out_ = false;
    std::uint32_t peer_gen_ = 0;
    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    clock::time_point timer_at_;
    clock::time_point last_write_;
    clock::time_point write_started_;
    clock::time_point next_debug_;
    core::rve ready_rve_;
    core::rve sent_rve_;
    std::uint64_t debug_n_ = 0;
    chunk_head chunk_head_;
    std::vector<feed::encoded_ptr> groups_;       ///< queued groups, held while they are written
    std::vector<boost::asio::const_buffer> bufs_; ///< the chunk being written
    std::string text_;                            ///< a debug packet being written
    tally counts_{};                              ///< events per type in the chunk being written
};

} // namespace posfeed::http
