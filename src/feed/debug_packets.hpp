#pragma once

#include "core/rve.hpp"
#include "feed/packet.hpp"

#include <cstdint>
#include <string>

namespace posfeed::feed {

/// The `n`th `debug` test event of a stream (SPEC 4): a complete SSE event (no `id:`, it is
/// not from the log) whose packet is shaped exactly like a real products, customers, levels or
/// sales packet (rotating with `n`) with made-up data and RVE `now`.
std::string debug_event(std::uint64_t n, packet_format fmt, core::rve now);

} // namespace posfeed::feed
