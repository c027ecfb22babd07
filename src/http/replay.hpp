#pragma once

#include "feed/subscriber.hpp"
#include "http/chunk_writer.hpp"
#include "http/context.hpp"
#include "http/stream_frames.hpp"
#include "http/stream_request.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>

namespace posfeed::http {

/// The start of a stream (SPEC 3), after its 200 header: the `retry:` field, then the snapshot
/// or the replay from the log (with `reset` and the catch-up or snapshot when the resume point
/// is out of the history), then `ready`. `sub` is attached to the hub before this is called, so
/// nothing committed after the reads is missed; the replay repeats when the live queue
/// overflowed meanwhile. Reads the store on the pool. Returns the RVE the stream is ready at
/// (live groups at or before it are to be dropped), or nullopt when the stream ended. Adds what
/// it wrote to `sent`.
boost::asio::awaitable<std::optional<core::rve>> replay(context& ctx, chunk_writer& out,
                                                        feed::subscriber& sub,
                                                        const stream_request& sr,
                                                        stream_sent& sent);

/// The catch-up of a `conflate=1` stream that passed the unsent-bytes limit, from `since` (the
/// last group it was sent): first the events of the types that are not state-like (sales,
/// session events, barcodes) from the log, exactly, up to the RVE the records read is at; then
/// the current state of every product, customer and stock level changed since `since`, one
/// packet per batch, the last with `id: <that RVE>`. The client so receives each changed record
/// once, at its newest value, and never an older value after a newer one; ids only grow.
/// Returns the RVE it caught up to, or nullopt when the stream ended. Adds what it wrote to
/// `sent`.
boost::asio::awaitable<std::optional<core::rve>>
conflated_catch_up(context& ctx, chunk_writer& out, feed::subscriber& sub, core::type_mask want,
                   core::rve since, stream_sent& sent);

} // namespace posfeed::http
