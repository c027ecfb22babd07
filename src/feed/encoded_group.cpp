#include "feed/encoded_group.hpp"

#include "feed/sse.hpp"

#include <algorithm>

namespace posfeed::feed {
namespace {

bool is(core::type_mask set, core::event_type t) {
    return (set & core::bit(t)) != 0;
}

} // namespace

encoded_group::encoded_group(const store::event_group& g)
    : rmsystem_(g.rmsystem), rve_(g.rve), id_line_(feed::id_line(g.rve.str())) {
    // Event types in order of first appearance; within a type, records in logged order.
    std::vector<core::event_type> order;
    for (const auto& e : g.events) {
        if (!is(types_, e.type)) {
            types_ |= core::bit(e.type);
            order.push_back(e.type);
        }
    }
    const auto add_packet = [&](core::event_type type, std::string location, std::string only,
                                std::string session, auto&& keep) {
        std::vector<std::string_view> records;
        for (const auto& e : g.events) {
            if (e.type == type && keep(e)) {
                records.push_back(e.body);
            }
        }
        packet p{type, std::move(location), std::move(only), std::move(session), {}};
        for (const auto fmt : {packet_format::json, packet_format::xml}) {
            std::string data;
            append_packet(data, fmt, type, records, g.rve);
            append_event_fields(p.frame[static_cast<int>(fmt)], core::to_string(type), data);
        }
        packets_.push_back(std::move(p));
    };
    for (const auto type : order) {
        if (is(core::session_types, type)) {
            std::vector<std::string> sessions;
            for (const auto& e : g.events) {
                if (e.type == type &&
                    std::find(sessions.begin(), sessions.end(), e.session) == sessions.end()) {
                    sessions.push_back(e.session);
                }
            }
            for (const auto& s : sessions) {
                add_packet(type, "", "", s, [&](const store::event& e) { return e.session == s; });
            }
            continue;
        }
        std::vector<std::string> locations;
        if (is(core::location_types, type)) {
            for (const auto& e : g.events) {
                if (e.type == type &&
                    std::find(locations.begin(), locations.end(), e.location) == locations.end()) {
                    locations.push_back(e.location);
                }
            }
        }
        add_packet(type, "", locations.size() == 1 ? locations.front() : "", "",
                   [](const store::event&) { return true; });
        if (locations.size() > 1) {
            for (const auto& l : locations) {
                add_packet(type, l, "", "", [&](const store::event& e) { return e.location == l; });
            }
        }
    }
}

bool encoded_group::selects(const packet& p, const subscription_filter& f) {
    if (!is(f.want, p.type)) {
        return false;
    }
    if (is(core::session_types, p.type)) {
        return !f.session.empty() && p.session == f.session;
    }
    if (f.location.empty() || !is(core::location_types, p.type)) {
        return p.location.empty();
    }
    // A location filter takes the per-location packet, or the whole packet when all of its
    // records are at that location.
    return p.location == f.location || (p.location.empty() && p.only_location == f.location);
}

std::size_t encoded_group::bytes_for(const subscription_filter& filter) const {
    std::size_t n = 0;
    bool any = false;
    for_each_frame(filter, [&](const std::string& frame) {
        n += frame.size() + 1;
        any = true;
    });
    return any ? n + id_line_.size() : 0;
}

} // namespace posfeed::feed
