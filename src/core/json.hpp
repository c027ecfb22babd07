#pragma once

#include "core/rve.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace posfeed::core {

/// Appends `v` as compact JSON. Unlike boost::json::serialize, doubles are written in their
/// shortest round-trip decimal form (`12.5`, not `1.25E1`), so prices read as people write
/// them; non-finite doubles (never stored) are written as `null`.
void append_json(std::string& out, const boost::json::value& v);

/// append_json into a new string.
std::string to_json(const boost::json::value& v);

/// Appends `s` as a JSON string literal with escaping.
void append_json_string(std::string& out, std::string_view s);

/// Appends the record object `body` (JSON object text) with `"RVE":<rve>` added as its last
/// member, the RVE written as a number literal with all 9 decimals (SPEC 2). A body that is
/// not an object text is taken as `{}`.
void append_with_rve(std::string& out, std::string_view body, rve v);

/// append_with_rve into a new string.
std::string with_rve(std::string_view body, rve v);

} // namespace posfeed::core
