#pragma once

#include "auth/key_cache.hpp"
#include "core/config.hpp"
#include "feed/hub.hpp"
#include "http/blocking.hpp"
#include "http/metrics.hpp"
#include "http/rate_limit.hpp"
#include "store/store.hpp"

#include <atomic>

namespace posfeed::http {

/// What every handler shares. Owned by the server; outlives every connection.
struct context {
    const core::config& cfg;
    store::store& db;
    feed::hub& hub;
    blocking_pool& pool;
    metrics& stats;
    rate_limit& writes; ///< per-credential write rate (limits.writes_per_second)
    std::atomic<bool> shutting_down{false};
    std::atomic<int> connections{0};     ///< open TCP connections
    std::atomic<int> active_requests{0}; ///< requests being handled (not idle keep-alives)
    auth::key_cache keys{};              ///< API keys checked before (authenticate)
};

} // namespace posfeed::http
