#include "feed/encoded_group.hpp"

#include "feed/sse.hpp"

#include <algorithm>

namespace posfeed::feed {
namespace {

bool is(core::type_mask set, core::event_type t) {
    return (set & core::bit(t)) != 0;
}

core::type_mask types_of(const store::event_group& g) {
    core::type_mask types = 0;
    for (const auto& e : g.events) {
        types |= core::bit(e.type);
    }
    return types;
}

} // namespace

encoded_group::encoded_group(const store::event_group& g, const watcher_count& watchers,
                             std::optional<packet_format> only)
    : rmsystem_(g.rmsystem), rve_(g.rve), types_(types_of(g)),
      id_line_(feed::id_line(g.rve.str())) {
    std::call_once(once_, [&] { encode(g, watchers, only); });
}

encoded_group::encoded_group(store::group_ptr g, watcher_count watchers)
    : rmsystem_(g->rmsystem), rve_(g->rve), types_(types_of(*g)),
      id_line_(feed::id_line(g->rve.str())), pending_(std::move(g)),
      watchers_(std::move(watchers)) {}

void encoded_group::ensure_encoded() const {
    std::call_once(once_, [this] {
        encode(*pending_, watchers_, std::nullopt);
        pending_.reset();
        watchers_ = nullptr;
    });
}

void encoded_group::encode(const store::event_group& g, const watcher_count& watchers,
                           std::optional<packet_format> only) const {
    // Event types in order of first appearance; within a type, records in logged order.
    std::vector<core::event_type> order;
    core::type_mask seen = 0;
    for (const auto& e : g.events) {
        if (!is(seen, e.type)) {
            seen |= core::bit(e.type);
            order.push_back(e.type);
        }
    }
    const auto encode = [&](packet p, const std::vector<std::string_view>& records) {
        for (const auto fmt : {packet_format::json, packet_format::xml}) {
            if (only && fmt != *only) {
                continue;
            }
            std::string data;
            append_packet(data, fmt, p.type, records, g.rve);
            append_event_fields(p.frame[static_cast<int>(fmt)], core::to_string(p.type), data);
        }
        packets_.push_back(std::move(p));
    };
    const auto records_where = [&](core::event_type type, auto&& keep) {
        std::vector<std::string_view> records;
        for (const auto& e : g.events) {
            if (e.type == type && keep(e)) {
                records.push_back(e.body);
            }
        }
        return records;
    };
    const auto distinct = [&](core::event_type type, auto field) {
        std::vector<std::string> values;
        for (const auto& e : g.events) {
            if (e.type == type &&
                std::find(values.begin(), values.end(), e.*field) == values.end()) {
                values.push_back(e.*field);
            }
        }
        return values;
    };
    for (const auto type : order) {
        if (type == core::event_type::barcode) {
            for (const auto& e : g.events) {
                if (e.type != type) {
                    continue;
                }
                const auto with_owner = [&](int owner) {
                    std::string body(e.body.substr(0, e.body.size() - 1));
                    body += ",\"Owner\":" + std::to_string(owner) + "}";
                    return body;
                };
                if (e.session.empty()) {
                    const std::string b = with_owner(2);
                    encode({type, "", e.location, audience::all, "", {}}, {b});
                    continue;
                }
                const int n = watchers ? watchers(e.session) : 1;
                const std::string mine = with_owner(n <= 1 ? 1 : 2);
                const std::string others = with_owner(0);
                encode({type, "", e.location, audience::session, e.session, {}}, {mine});
                encode({type, "", e.location, audience::other_sessions, e.session, {}}, {others});
            }
            continue;
        }
        if (is(core::session_types, type)) {
            for (const auto& s : distinct(type, &store::event::session)) {
                encode({type, "", "", audience::session, s, {}},
                       records_where(type, [&](const store::event& e) { return e.session == s; }));
            }
            continue;
        }
        std::vector<std::string> locations;
        if (is(core::location_types, type)) {
            locations = distinct(type, &store::event::location);
        }
        encode({type, "", locations.size() == 1 ? locations.front() : "", audience::all, "", {}},
               records_where(type, [](const store::event&) { return true; }));
        if (locations.size() > 1) {
            for (const auto& l : locations) {
                if (l.empty()) {
                    continue; // records without a location go only to unfiltered subscribers
                }
                encode({type, l, "", audience::all, "", {}},
                       records_where(type, [&](const store::event& e) { return e.location == l; }));
            }
        }
    }
}

bool encoded_group::selects(const packet& p, const subscription_filter& f) {
    if (!is(f.want, p.type)) {
        return false;
    }
    switch (p.to) {
    case audience::session:
        if (f.session.empty() || p.session != f.session) {
            return false;
        }
        break;
    case audience::other_sessions:
        if (!f.session.empty() && p.session == f.session) {
            return false;
        }
        break;
    case audience::all:
        break;
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
