#include "core/record_kind.hpp"

#include <array>

namespace posfeed::core {
namespace {

struct kind_row {
    std::string_view name;
    std::optional<event_type> type;
};

// The one table of record kinds: stored name and the event type it is sent as.
constexpr std::array<kind_row, record_kind_count> kinds = {{
    {"product", event_type::products},
    {"customer", event_type::customers},
    {"level", event_type::levels},
    {"sale", event_type::sales},
    {"activesale", std::nullopt},
    {"prompt", std::nullopt},
}};

} // namespace

std::string_view to_string(record_kind k) {
    return kinds[static_cast<int>(k)].name;
}

std::optional<record_kind> parse_record_kind(std::string_view name) {
    for (int i = 0; i < record_kind_count; ++i) {
        if (kinds[i].name == name) {
            return static_cast<record_kind>(i);
        }
    }
    return std::nullopt;
}

std::optional<event_type> feed_type(record_kind k) {
    return kinds[static_cast<int>(k)].type;
}

std::vector<record_kind> record_kinds_for(type_mask mask) {
    std::vector<record_kind> out;
    for (int i = 0; i < record_kind_count; ++i) {
        if (const auto t = kinds[i].type; t && (mask & bit(*t)) != 0) {
            out.push_back(static_cast<record_kind>(i));
        }
    }
    return out;
}

} // namespace posfeed::core
