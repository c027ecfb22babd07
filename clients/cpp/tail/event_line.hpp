#pragma once

#include <string>
#include <string_view>

namespace posfeed::client::tail {

/// The line posfeed-tail prints for an event, without the final LF:
/// `{"event":"<type>","id":"<id or empty>","data":<data>}`. With `data_as_json`, a `data` that
/// is valid JSON is copied as it is (so RVE number literals keep their 9 decimals; line breaks,
/// which JSON allows only as whitespace there, become spaces); any other data (XML, or text
/// that does not parse) is written as a JSON string.
[[nodiscard]] std::string event_line(std::string_view type, std::string_view id,
                                     std::string_view data, bool data_as_json);

} // namespace posfeed::client::tail
