#pragma once

#include <string>
#include <string_view>

namespace posfeed::feed {

/// Appends an SSE event without the terminating blank line: `event: <type>` (when not empty)
/// and one `data:` line per line of `data` (split at CRLF, LF or CR, as the WHATWG parser will
/// join them with LF). The caller puts an `id: ...` line before it if any, and `\n` after.
void append_event_fields(std::string& out, std::string_view type, std::string_view data);

/// A complete event: an `id:` line when `id` is not empty, the fields, and the blank line.
std::string format_event(std::string_view type, std::string_view data, std::string_view id = {});

/// `id: <id>\n`. `id` must not contain CR, LF or NUL (an RVE never does).
std::string id_line(std::string_view id);

/// A comment line (`: <text>\n\n`); a comment alone dispatches nothing in the client.
std::string comment(std::string_view text);

/// `retry: <ms>\n\n`.
std::string retry_field(int ms);

} // namespace posfeed::feed
