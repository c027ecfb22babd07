#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace posfeed::core {

/// The event types of SPEC 4 that a subscriber can `want`. `ready` and `reset` are control
/// events, never wanted, and are not listed here.
enum class event_type : std::uint8_t {
    products,
    customers,
    levels,
    sales,
    debug,
    sale,
    usermessage,
    userprompt,
    barcode,
};

inline constexpr int event_type_count = 9;

/// A set of event types as a bit mask (bit i is event_type i).
using type_mask = std::uint32_t;

inline constexpr type_mask bit(event_type t) {
    return type_mask{1} << static_cast<int>(t);
}
inline constexpr type_mask all_types = (type_mask{1} << event_type_count) - 1;

/// State-like types: a later value replaces an earlier one per record (snapshot, catch-up and
/// conflation apply to them).
inline constexpr type_mask state_types =
    bit(event_type::products) | bit(event_type::customers) | bit(event_type::levels);

/// Types that belong to one POS session and are only sent to that session's subscribers.
inline constexpr type_mask session_types =
    bit(event_type::sale) | bit(event_type::usermessage) | bit(event_type::userprompt);

/// Types that the `location=` filter applies to.
inline constexpr type_mask location_types =
    bit(event_type::levels) | bit(event_type::sales) | bit(event_type::barcode);

/// The lowercase wire name (`products`, ...).
std::string_view to_string(event_type t);

/// The packet key (`Products`, `Customers`, `Levels`, `Sales`, `Sale`, `UserMessage`, ...).
std::string_view packet_key(event_type t);

/// The XML element of one record inside the packet (`Product`, `Level`, ...).
std::string_view xml_item_name(event_type t);

/// Parses a wire name; case-sensitive (SPEC 4). nullopt for unknown names.
std::optional<event_type> parse_event_type(std::string_view name);

/// All wire names, comma-separated, for error messages.
std::string_view valid_type_list();

} // namespace posfeed::core
