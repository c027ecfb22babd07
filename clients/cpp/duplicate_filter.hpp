#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace posfeed::client {

/// A transaction group that was started but not completed: its RVE and how many of its events
/// were delivered.
struct partial_group {
    std::string rve;
    std::uint64_t delivered = 0;

    bool operator==(const partial_group&) const = default;
};

/// What a subscriber must keep (in memory, or in a file across restarts) to resume without
/// missing or repeating an event.
struct resume_state {
    /// The RVE of the last complete group: the Last-Event-ID to resume from. Empty: none.
    std::string last_id;
    /// Set while inside a group whose `id:` has not arrived yet.
    std::optional<partial_group> partial;

    bool operator==(const resume_state&) const = default;
};

/// Whether an event is handed to the application.
enum class verdict { deliver, drop };

/// The filter's answer for one event.
struct decision {
    verdict what = verdict::deliver;
    /// Whether `duplicate_filter::state()` changed (so it should be persisted).
    bool state_changed = false;
};

/// Duplicate suppression by RVE, the same rule as the JS client (clients/js):
///
/// The server sends `id: <RVE>` only on the last event of a transaction group, so a connection
/// cut inside a group replays the whole group. Events typed `ready`, `reset` and `debug` are not
/// log events and always pass. For a log event, rve = its id when it carries one, else the
/// first RVE in its packet (`packet_rve`). It is dropped when rve <= the last complete id, or
/// when it belongs to the partial group and this connection has seen fewer of that group's
/// events than were delivered before (it is counted as seen); otherwise it is delivered and
/// counted in the partial group. A delivered event with an id then makes that id the last
/// complete id and clears the partial group; a dropped one changes nothing (its id never moves
/// the resume point back). A `reset` clears the last complete id (for the `<=` rule) and
/// the partial group, since the server starts a fresh sequence (with `cursor_ahead` its RVEs are
/// lower than ours); the resume point is kept until the server sends a new id. One addition:
/// a `ready` that arrives while there is no resume point at all (a stream started live) makes
/// the RVE in its packet the resume point and the last complete id, so that a cut before the
/// first id does not lose what is committed meanwhile.
///
/// Not thread-safe.
class duplicate_filter {
  public:
    /// Starts from `initial` (e.g. read from a state file).
    explicit duplicate_filter(resume_state initial = {});

    /// Call when a new connection starts: the per-connection count of the partial group's
    /// events starts again from zero.
    void new_connection();

    /// Decides for one event and updates the state. `has_id`: the event's own block carried an
    /// `id:` field with value `id` (an empty id counts as none).
    [[nodiscard]] decision on_event(std::string_view type, std::string_view data,
                                    std::string_view id, bool has_id);

    /// The resume point and the partial group, to persist.
    [[nodiscard]] const resume_state& state() const { return state_; }

  private:
    resume_state state_;
    // The last complete id for the `<=` rule; unlike `state_.last_id` it is cleared by a reset.
    std::string dedupe_last_;
    // The group this connection is in and how many of its events it has seen.
    std::string connection_rve_;
    std::uint64_t connection_seen_ = 0;
};

} // namespace posfeed::client
