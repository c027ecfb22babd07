#pragma once

#include <compare>
#include <string_view>

namespace posfeed::client {

/// Compares two RVEs numerically: by integer part (leading zeros ignored), then by fraction
/// (missing trailing digits count as zeros), so `0` < `20210727.091105994` and
/// `20210727.09110599` == `20210727.091105990`. Written as strings because a double cannot hold
/// an RVE exactly. Text that is not an RVE still compares consistently (character by character
/// within each part), so the order is total.
[[nodiscard]] std::strong_ordering compare_rve(std::string_view a, std::string_view b);

/// The RVE a log event's packet carries: the first `"RVE":<number>` of a JSON packet (one whose
/// first non-blank character is `{`), else the first `<RVE>…</RVE>` of an XML packet. Returns a
/// view into `data`, empty when there is none.
[[nodiscard]] std::string_view packet_rve(std::string_view data);

} // namespace posfeed::client
