#pragma once

#include "core/event_type.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace posfeed::core {

/// The kinds of record the store keeps (its `records` table), one per thing with a current
/// state. The kinds that the feed can send as state (snapshot, catch-up, conflation) map to the
/// event type their changes fire; the POS session kinds (an active sale, a prompt) are read
/// only through the API and have none.
enum class record_kind : std::uint8_t {
    product,
    customer,
    level,
    sale,
    active_sale,
    prompt,
};

inline constexpr int record_kind_count = 6;

/// The name stored in the database (`product`, ..., `activesale`, `prompt`); never changes.
std::string_view to_string(record_kind k);

/// Parses a stored name; nullopt for a name that is no kind (a damaged or foreign row).
std::optional<record_kind> parse_record_kind(std::string_view name);

/// The event type a record of `k` is sent as in a snapshot or catch-up (`product` ->
/// `products`, ..., `sale` -> `sales`); nullopt for the session kinds, which are never sent so.
std::optional<event_type> feed_type(record_kind k);

/// The kinds whose records are sent as the event types in `mask`, in the kind order above;
/// types without records (debug, session types, barcode) contribute none.
std::vector<record_kind> record_kinds_for(type_mask mask);

} // namespace posfeed::core
