#pragma once

#include <string>
#include <string_view>

namespace posfeed::core {

/// Sets up the process-wide spdlog logger (stderr, one line per record, UTC timestamps) at
/// `level` (trace, debug, info, warn, error). Call once at start-up.
void init_logging(std::string_view level);

/// `target` (a request target, path and query) with the values of credential-bearing query
/// parameters (`token`, `session`, `api_key`, `key`, `password`, matched after percent-decoding
/// and ignoring case) and the session id in `/Sessions/{Session}/...` paths replaced by
/// `[redacted]`, so that it can be logged. Works on malformed input too: it never fails.
std::string redact_target(std::string_view target);

} // namespace posfeed::core
