#include "feed/control_packets.hpp"

#include "core/json.hpp"
#include "feed/sse.hpp"

#include <boost/json/array.hpp>

namespace posfeed::feed {
namespace {

/// A JSON array of the wire names of `types`.
boost::json::array type_names(std::span<const core::event_type> types) {
    boost::json::array out;
    for (const auto t : types) {
        out.emplace_back(core::to_string(t));
    }
    return out;
}

/// `"<key>":` after `{` or `,`. RVE members are written by hand: a JSON value type would round
/// the RVE literal through a double (SPEC 2).
void append_key(std::string& out, std::string_view key) {
    out += out.empty() ? '{' : ',';
    core::append_json_string(out, key);
    out += ':';
}

} // namespace

std::string ready_event(std::span<const core::event_type> want, core::rve rve, packet_format fmt) {
    std::string record;
    append_key(record, "RVE");
    rve.append_to(record);
    append_key(record, "Want");
    core::append_json(record, type_names(want));
    record += '}';
    std::string data;
    append_control_packet(data, fmt, "Ready", "Ready", record);
    return format_event("ready", data);
}

std::string reset_event(std::string_view reason, core::rve from, core::type_mask lost,
                        packet_format fmt) {
    std::string record;
    append_key(record, "Reason");
    core::append_json_string(record, reason);
    append_key(record, "From");
    from.append_to(record);
    if (lost != 0) {
        std::vector<core::event_type> types;
        for (int i = 0; i < core::event_type_count; ++i) {
            if ((lost & core::bit(static_cast<core::event_type>(i))) != 0) {
                types.push_back(static_cast<core::event_type>(i));
            }
        }
        append_key(record, "Lost");
        core::append_json(record, type_names(types));
    }
    record += '}';
    std::string data;
    append_control_packet(data, fmt, "Reset", "Reset", record);
    return format_event("reset", data);
}

} // namespace posfeed::feed
