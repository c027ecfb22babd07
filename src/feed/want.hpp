#pragma once

#include "core/error.hpp"
#include "core/event_type.hpp"

#include <string_view>
#include <vector>

namespace posfeed::feed {

/// The event types a subscriber asked for.
struct want_list {
    core::type_mask mask = 0;
    std::vector<core::event_type> types; ///< as asked, duplicates removed (for `ready`)
};

/// Parses `want=`: comma-separated, case-sensitive type names (SPEC 3, 4). Duplicates are
/// ignored. An empty list, an empty item or an unknown name is invalid_argument naming the
/// offending names and listing the valid ones.
core::result<want_list> parse_want(std::string_view value);

} // namespace posfeed::feed
