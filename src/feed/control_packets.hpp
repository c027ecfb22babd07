#pragma once

#include "core/event_type.hpp"
#include "core/rve.hpp"
#include "feed/packet.hpp"

#include <span>
#include <string>
#include <string_view>

namespace posfeed::feed {

/// The `ready` event (SPEC 3) as a whole SSE frame without `id:`: data
/// `{"Ready":[{"RVE":<rve>,"Want":[<types as asked>]}]}` in `fmt`, RVE as a number literal.
std::string ready_event(std::span<const core::event_type> want, core::rve rve, packet_format fmt);

/// The `reset` event (SPEC 3) as a whole SSE frame without `id:`: data
/// `{"Reset":[{"Reason":<reason>,"From":<from>,"Lost":[<types>]}]}` in `fmt`; `Lost` (the types
/// whose events since `from` cannot be rebuilt) only when `lost` is not empty.
std::string reset_event(std::string_view reason, core::rve from, core::type_mask lost,
                        packet_format fmt);

} // namespace posfeed::feed
