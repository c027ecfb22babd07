#pragma once

#include "core/error.hpp"
#include "core/event_type.hpp"
#include "store/store.hpp"

#include <string>
#include <string_view>

namespace posfeed::auth {

/// What a credential may do: read these event types, and write through the API or not.
struct scopes {
    core::type_mask read = 0;
    bool write = false;
};

/// Parses a scope list: comma-separated event types and/or `write`, or `*` for everything.
/// invalid_argument names the unknown entries.
core::result<scopes> parse_scopes(std::string_view list);

/// The canonical text of `s` (as stored).
std::string format_scopes(const scopes& s);

/// A new API key: `pfk_<id>_<secret>` with a 16-hex-digit id and 256 random bits of secret
/// from OpenSSL's RAND_bytes. `row` holds what is stored (the id and the SHA-256 of the
/// secret); `key` is shown once and never stored.
struct new_api_key {
    std::string key;
    store::api_key_row row;
};
new_api_key generate_api_key(const std::string& rmsystem, const scopes& s);

/// Splits a presented key into its id and secret; nullopt when it is not of our format.
std::optional<std::pair<std::string_view, std::string_view>> split_api_key(std::string_view key);

/// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// `n` random bytes from OpenSSL as lowercase hex.
std::string random_hex(std::size_t n);

/// Constant-time comparison of two equal-length strings (false when lengths differ).
bool equal_secret(std::string_view a, std::string_view b);

} // namespace posfeed::auth
