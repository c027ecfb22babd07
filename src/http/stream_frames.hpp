#pragma once

#include "feed/encoded_group.hpp"
#include "feed/subscriber.hpp"
#include "http/context.hpp"

#include <boost/asio/buffer.hpp>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace posfeed::http {

/// The blank line that ends an SSE event.
inline constexpr std::string_view blank_line = "\n";

/// Events per type gathered for one write, counted into the metrics once it is written.
using tally = std::array<std::uint64_t, core::event_type_count>;

/// What one stream sent, for the line logged when it closes: `events`, the events of its types
/// (replayed, snapshot, live and debug packets; not `retry:`, `ready`, `reset` or keepalive
/// comments), and `bytes`, the event-stream bytes of every completed write (the chunked body's
/// data, without the HTTP header or the chunk framing). Counted after each write: two
/// additions per write, on the stream's shard.
struct stream_sent {
    std::uint64_t events = 0;
    std::uint64_t bytes = 0;
};

/// Adds `t` to the delivered counters of `sub`'s shard and clears it; returns the events it
/// held. On that shard.
std::uint64_t count_delivered(context& ctx, const feed::subscriber& sub, tally& t);

/// Passes the frames `filter` selects from `g` to `emit(std::string_view)`, with blank lines,
/// counting them per type into `counts`. The group's `id:` goes on the last one (SPEC 3: a cut
/// inside a group replays the whole group), first in that event as SPEC 3 writes the framing.
/// Returns whether any frame was emitted.
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

/// gather_into a list of buffers that point into the (shared) group: nothing is copied.
bool gather(const feed::encoded_group& g, const feed::subscription_filter& filter,
            std::vector<boost::asio::const_buffer>& bufs, tally& counts);

} // namespace posfeed::http
