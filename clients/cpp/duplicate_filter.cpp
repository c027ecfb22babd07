#include "duplicate_filter.hpp"

#include "rve.hpp"

#include <utility>

namespace posfeed::client {

duplicate_filter::duplicate_filter(resume_state initial)
    : state_(std::move(initial)), dedupe_last_(state_.last_id) {}

void duplicate_filter::new_connection() {
    connection_rve_.clear();
    connection_seen_ = 0;
}

decision duplicate_filter::on_event(std::string_view type, std::string_view data,
                                    std::string_view id, bool has_id) {
    if (type == "reset") {
        dedupe_last_.clear();
        const bool had_partial = state_.partial.has_value();
        state_.partial.reset();
        return {verdict::deliver, had_partial};
    }
    if (type == "ready") {
        // A stream that started live has no resume point until its first id; ready's RVE is
        // one (everything committed after it is delivered live), so a cut before that id loses
        // nothing.
        const std::string_view ready_rve = packet_rve(data);
        if (state_.last_id.empty() && !ready_rve.empty()) {
            state_.last_id.assign(ready_rve);
            dedupe_last_.assign(ready_rve);
            return {verdict::deliver, true};
        }
        return {verdict::deliver, false};
    }
    if (type == "debug") {
        return {verdict::deliver, false};
    }
    const bool with_id = has_id && !id.empty();
    const std::string_view rve = with_id ? id : packet_rve(data);
    if (rve.empty()) {
        // Not a posfeed log packet: nothing to compare it with.
        return {verdict::deliver, false};
    }
    if (connection_rve_.empty() || compare_rve(rve, connection_rve_) != 0) {
        connection_rve_.assign(rve);
        connection_seen_ = 0;
    }
    const bool in_partial = state_.partial && compare_rve(state_.partial->rve, rve) == 0;
    decision d;
    if (!dedupe_last_.empty() && compare_rve(rve, dedupe_last_) <= 0) {
        d.what = verdict::drop;
    } else if (in_partial && connection_seen_ < state_.partial->delivered) {
        d.what = verdict::drop;
    } else if (in_partial) {
        ++state_.partial->delivered;
        d.state_changed = true;
    } else {
        state_.partial = partial_group{std::string(rve), 1};
        d.state_changed = true;
    }
    ++connection_seen_;
    // A dropped event is at or before what was delivered already: its id never moves the resume
    // point back.
    if (with_id && d.what == verdict::deliver) {
        if (state_.last_id != id || state_.partial) {
            d.state_changed = true;
        }
        state_.last_id.assign(id);
        dedupe_last_.assign(id);
        state_.partial.reset();
    }
    return d;
}

} // namespace posfeed::client
