#pragma once

#include "http/request.hpp"

#include <optional>
#include <string_view>

namespace posfeed::http {

/// A file embedded into the binary at build time (the browser client and the test page), so a
/// server needs nothing beside its executable.
struct static_asset {
    std::string_view path;         ///< URL path, e.g. "/js/posfeed.js"
    std::string_view content_type; ///< with charset
    std::string_view etag;         ///< quoted, from the SHA-256 of the body
    std::string_view body;
};

/// The embedded asset served at `path`, or nullopt.
std::optional<static_asset> find_static_asset(std::string_view path);

/// Answers GET/HEAD for an embedded asset: 200 with ETag and `Cache-Control: no-cache` (clients
/// revalidate, so a new server version is picked up at once), 304 when If-None-Match matches,
/// 405 for other methods.
response static_asset_response(const request& req, const static_asset& asset);

} // namespace posfeed::http
