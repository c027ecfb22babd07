#include "feed/want.hpp"

#include <string>

namespace posfeed::feed {

core::result<want_list> parse_want(std::string_view value) {
    want_list out;
    std::string unknown;
    bool empty_item = false;
    while (true) {
        const auto comma = value.find(',');
        const std::string_view item = value.substr(0, comma);
        if (item.empty()) {
            empty_item = true;
        } else if (const auto t = core::parse_event_type(item)) {
            if ((out.mask & core::bit(*t)) == 0) {
                out.mask |= core::bit(*t);
                out.types.push_back(*t);
            }
        } else {
            std::string shown(item.substr(0, 40));
            unknown += (unknown.empty() ? "'" : ", '") + shown + "'";
        }
        if (comma == std::string_view::npos) {
            break;
        }
        value = value.substr(comma + 1);
    }
    const std::string valid = "valid types are " + std::string(core::valid_type_list());
    if (!unknown.empty()) {
        return core::invalid_argument("unknown event type " + unknown + " in 'want'; " + valid);
    }
    if (empty_item) {
        return core::invalid_argument(
            "'want' has an empty item; give a comma-separated list of event types; " + valid);
    }
    return out;
}

} // namespace posfeed::feed
