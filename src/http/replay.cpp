#include "http/replay.hpp"

#include "feed/control_packets.hpp"
#include "feed/sse.hpp"
#include "http/stream_frames.hpp"

namespace posfeed::http {
namespace {

namespace asio = boost::asio;

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

/// Streams what `cursor` reads (after `first`, a page already read from it) in packets of up to
/// `feed.replay_batch` records, without holding more than one page in memory. The last packet
/// carries `id: <the cursor's RVE>`, so a client cut after it resumes from there; a client cut
/// before it starts over. Returns the RVE, or nullopt when the stream ended. Adds what it wrote
/// to `sent`.
asio::awaitable<std::optional<core::rve>>
stream_records(context& ctx, chunk_writer& out, feed::subscriber& sub,
               std::shared_ptr<store::record_cursor> cursor, stream_sent& sent,
               std::vector<store::record> first = {}) {
    const auto& filter = sub.filter();
    const core::rve at = cursor->at();
    const auto batch = static_cast<std::size_t>(ctx.cfg.feed.replay_batch);
    std::string pending; // the last frame, held back until we know whether it is the last
    std::vector<store::record> records = std::move(first);
    while (true) {
        if (records.empty()) {
            auto read = [cursor, batch] { return cursor->next(batch); };
            records = co_await ctx.pool.run(std::move(read));
        }
        if (records.empty()) {
            break;
        }
        std::string frames;
        std::uint64_t packets = 0; // in `frames`
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
                ++packets;
            }
            pending.clear();
            feed::append_event_fields(pending, core::to_string(type), data);
            i = j;
        }
        records.clear();
        if (sub.closed() || !co_await out.write(frames)) {
            co_return std::nullopt;
        }
        sent.bytes += frames.size();
        sent.events += packets;
    }
    if (!pending.empty()) {
        pending = feed::id_line(at.str()) + pending;
        pending += blank_line;
        if (!co_await out.write(pending)) {
            co_return std::nullopt;
        }
        sent.bytes += pending.size();
        ++sent.events;
    }
    co_return at;
}

/// open_records, then stream_records.
asio::awaitable<std::optional<core::rve>> send_records(context& ctx, chunk_writer& out,
                                                       feed::subscriber& sub,
                                                       std::vector<core::record_kind> kinds,
                                                       core::rve since, stream_sent& sent) {
    auto cursor = co_await open_records(ctx, sub, std::move(kinds), since);
    co_return co_await stream_records(ctx, out, sub, std::move(cursor), sent);
}

/// Writes the groups of a log page that the subscriber's filter selects, up to `until`
/// (inclusive) when given, counting them as delivered and replayed and into `sent`; without their
/// `id:` lines when `with_ids` is false. Returns false when the stream ended.
asio::awaitable<bool> write_log_groups(context& ctx, chunk_writer& out, feed::subscriber& sub,
                                       const std::vector<store::event_group>& groups,
                                       stream_sent& sent,
                                       std::optional<core::rve> until = std::nullopt,
                                       bool with_ids = true) {
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
        const std::string& id = encoded.id_line();
        gather_into(encoded, sub.filter(), counts, [&](std::string_view s) {
            if (with_ids || s.data() != id.data()) {
                text += s;
            }
        });
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
    sent.events += replayed;
    sent.bytes += text.size();
    co_return true;
}

} // namespace

asio::awaitable<std::optional<core::rve>> conflated_catch_up(context& ctx, chunk_writer& out,
                                                             feed::subscriber& sub,
                                                             core::type_mask want, core::rve since,
                                                             stream_sent& sent) {
    const core::type_mask state = want & core::state_types;
    const core::type_mask exact = want & ~core::state_types & ~core::bit(core::event_type::debug);
    // The records read fixes the RVE first; the log is then read up to it.
    auto cursor = co_await open_records(ctx, sub, core::record_kinds_for(state), since);
    const core::rve at = cursor->at();
    // When the merged state follows the log's groups, those go without their `id:` lines: a
    // client cut after one would resume from it and never get the state changes below it,
    // which come only in the merged records (and the last packet's id, `at`, would not be
    // above the groups' ids). The first page of records tells whether any follow.
    auto read_first = [cursor, batch = static_cast<std::size_t>(ctx.cfg.feed.replay_batch)] {
        return cursor->next(batch);
    };
    std::vector<store::record> first = co_await ctx.pool.run(std::move(read_first));
    const bool state_follows = !first.empty();
    core::rve from = since;
    while (exact != 0 && from < at) {
        store::event_query q{sub.rmsystem(), from, exact, sub.filter().session,
                             static_cast<std::size_t>(ctx.cfg.feed.replay_batch)};
        auto read_page = [&ctx, q = std::move(q)] { return ctx.db.read_events(q); };
        const auto page = co_await ctx.pool.run(std::move(read_page));
        if (!co_await write_log_groups(ctx, out, sub, page.groups, sent, at, !state_follows)) {
            co_return std::nullopt;
        }
        if (!page.more || page.groups.empty()) {
            break;
        }
        from = page.groups.back().rve;
    }
    co_return co_await stream_records(ctx, out, sub, std::move(cursor), sent, std::move(first));
}

asio::awaitable<std::optional<core::rve>> replay(context& ctx, chunk_writer& out,
                                                 feed::subscriber& sub, const stream_request& sr,
                                                 stream_sent& sent) {
    const auto& filter = sub.filter();
    // retry: goes out with the first events (or ready), in the same send as the head.
    const std::string retry = feed::retry_field(ctx.cfg.feed.retry_ms);
    out.hold_chunk(retry);
    sent.bytes += retry.size();
    // Replay from the log. The subscriber is already attached, so anything committed after the
    // reads below is queued; anything the reads saw is dropped from the queue by RVE.
    std::optional<core::rve> from = sr.resume;
    const core::type_mask logged = sr.want.mask & ~core::bit(core::event_type::debug);
    const core::type_mask state = sr.want.mask & core::state_types;
    if (!from && sr.snapshot) {
        from =
            co_await send_records(ctx, out, sub, core::record_kinds_for(state), core::rve{}, sent);
        if (!from) {
            co_return std::nullopt;
        }
    }
    core::rve ready_rve;
    while (true) {
        if (!from) {
            // Live from now: the newest group the hub published while it had streams of the
            // RmSystem covers everything that will not reach this one's queue; only without
            // one is the store asked.
            if (const auto seen = ctx.hub.newest_published(sub.rmsystem())) {
                ready_rve = *seen;
            } else {
                auto read_newest = [&ctx, &sub] { return ctx.db.newest_rve(sub.rmsystem()); };
                ready_rve = co_await ctx.pool.run(std::move(read_newest));
            }
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
                    const std::string reset = feed::reset_event(
                        ahead ? "cursor_ahead" : "history_expired", cursor, lost, filter.format);
                    if (!co_await out.write(reset)) {
                        co_return std::nullopt;
                    }
                    sent.bytes += reset.size();
                    const auto at = co_await send_records(
                        ctx, out, sub,
                        core::record_kinds_for(
                            ahead ? state
                                  : (logged &
                                     (core::state_types | core::bit(core::event_type::sales)))),
                        ahead ? core::rve{} : cursor, sent);
                    if (!at) {
                        co_return std::nullopt;
                    }
                    cursor = *at;
                    continue;
                }
                if (!page.groups.empty()) {
                    cursor = page.groups.back().rve;
                }
                if (!co_await write_log_groups(ctx, out, sub, page.groups, sent)) {
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
    const std::string ready = feed::ready_event(sr.want.types, ready_rve, filter.format);
    if (sub.closed() || !co_await out.write(ready)) {
        co_return std::nullopt;
    }
    sent.bytes += ready.size();
    co_return ready_rve;
}

} // namespace posfeed::http
