#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace posfeed::core {

/// Event-source settings (SPEC 3).
struct feed_config {
    int retry_ms = 3000;          ///< sent as `retry:` at the start of every stream
    int keepalive_ms = 15000;     ///< idle time before a `: keepalive` comment
    int replay_batch = 1000;      ///< events read from the store per replay page
    int debug_interval_ms = 1000; ///< period of `debug` test packets
};

/// Event-history settings (SPEC 8).
struct history_config {
    std::int64_t keep_ms = 7LL * 24 * 3600 * 1000; ///< how long events are kept
    int prune_interval_ms = 60000;                 ///< how often the pruner runs
};

/// POS sessions (SPEC 7).
struct sessions_config {
    std::int64_t idle_ms = 30LL * 60 * 1000; ///< a session expires after this long idle
    bool cookie_secure = false;              ///< add `Secure` to the cookie (behind HTTPS)
    int login_free_failures = 3;             ///< failed logins per user before slowing down
};

/// Limits of SPEC 7; each is answered with a clear error, none crashes anything.
struct limits_config {
    int streams_per_credential = 8;       ///< 429 past it
    int max_connections = 10000;          ///< 503 past it
    std::size_t header_bytes = 16 * 1024; ///< request line + headers; 431 past it
    std::size_t body_bytes = 1024 * 1024; ///< request body; 413 past it
    int header_timeout_ms = 10000;        ///< slow clients are closed after it
    int write_timeout_ms = 60000;         ///< a stream write stuck this long closes it
    int writes_per_second = 1000;         ///< per credential on the write API; 429 past it
    int write_burst = 2000;               ///< writes a credential may send at once
    std::size_t subscriber_queue_bytes = 1024 * 1024; ///< unsent bytes per subscriber
};

/// Who may read GET /metrics (SPEC 6; docs/decisions.md). The status page itself holds no data
/// and is served to anyone; its script reads /metrics with the same rule.
struct metrics_config {
    /// Empty: /metrics answers loopback peers only (127.0.0.0/8, ::1, ::ffff:127.x), 403 to the
    /// rest. Set (16 or more printable ASCII characters, no spaces): every peer, loopback
    /// included, must send `Authorization: Bearer <token>`, 401 otherwise. Never logged.
    std::string token;
};

/// Everything `posfeed serve` needs. Defaults are SPEC 10's; a TOML file overrides them and
/// command-line flags override the file.
struct config {
    std::string listen = "127.0.0.1:8080";
    std::string db = "sqlite:posfeed-data/posfeed.db";
    int threads = 0; ///< worker threads; 0 means one per core
    bool demo = false;
    std::string log_level = "info";
    std::string log_format = "text"; ///< `text` or `json` (one JSON object per line)
    int shutdown_grace_ms = 3000;    ///< how long shutdown waits for writes to finish
    std::vector<std::string> cors_origins;
    feed_config feed;
    history_config history;
    limits_config limits;
    sessions_config sessions;
    metrics_config metrics;
};

/// Checks every setting against its accepted range (e.g. replay_batch >= 1, a known
/// log_level and log_format), so that a zero or a typo cannot quietly turn a feature off; the
/// message names each offending key.
status validate(const config& cfg);

/// Reads a TOML file into `cfg`, overriding only the keys it names. Unknown keys are errors
/// (a typo must not silently fall back to a default). Called at start-up only.
status load_config_file(const std::string& path, config& cfg);

/// Splits `HOST:PORT` (IPv6 hosts in brackets). Returns invalid_argument when malformed.
result<std::pair<std::string, unsigned short>> split_host_port(const std::string& listen);

} // namespace posfeed::core
