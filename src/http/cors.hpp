#pragma once

#include "core/config.hpp"
#include "http/request.hpp"

#include <boost/beast/http/fields.hpp>

namespace posfeed::http {

/// Adds the CORS headers of SPEC 6 to a response when the request's Origin is in
/// `cors_origins`: `Access-Control-Allow-Origin: <that origin>` (never `*`, since credentials
/// are allowed), `Access-Control-Allow-Credentials: true`, and `Vary: Origin` (always, so that
/// caches keep per-origin answers apart). Unlisted origins get no CORS headers.
void apply_cors(const core::config& cfg, const request& req, beast_http::fields& res);

/// The answer to a CORS preflight (OPTIONS): 204 with the allowed methods and headers for a
/// listed origin, 403 with a JSON error for any other.
response preflight_response(const core::config& cfg, const request& req);

} // namespace posfeed::http
