#pragma once

#include <string>
#include <string_view>

namespace posfeed::auth {

/// Hashes a password with argon2id (libsodium's crypto_pwhash_str, "interactive" limits: 2
/// passes over 64 MiB), a memory-hard slow hash with a random salt, encoded with its
/// parameters so that they can be raised later. Throws std::runtime_error when libsodium
/// cannot (out of memory).
std::string hash_password(std::string_view password);

/// Checks a password against a stored hash in constant time.
bool verify_password(std::string_view stored_hash, std::string_view password);

} // namespace posfeed::auth
