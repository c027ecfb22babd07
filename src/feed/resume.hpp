#pragma once

#include "core/error.hpp"
#include "core/rve.hpp"

#include <optional>
#include <string_view>

namespace posfeed::feed {

/// Picks and parses the resume point of a stream (SPEC 3). The `Last-Event-ID` header wins
/// over `rve=`, because a browser keeps the URL it first opened and sends the newest id in the
/// header when it reconnects. An empty header counts as absent (EventSource sends none before
/// its first id). nullopt means "no resume point: start live". A malformed value is
/// invalid_argument naming where it came from.
core::result<std::optional<core::rve>>
pick_resume_point(std::optional<std::string_view> last_event_id,
                  std::optional<std::string_view> rve_param);

} // namespace posfeed::feed
