#pragma once

#include "auth/credential.hpp"

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace posfeed::auth {

/// The API keys this process has checked against the store, so that a request with a known key
/// is authenticated on its own thread, without a read of the store (docs/decisions.md, decision
/// 40). A key's RmSystem, scopes and secret hash never change; only a revocation does, and it is
/// handled in two ways: forget() drops a revoked key as soon as this process learns of it (the
/// server's once-a-second revocation poll), and every write re-checks its key inside its own
/// transaction (store::write_guard), so a revoked key never commits, whatever this cache holds.
/// An entry is also trusted for `max_age` only, then read from the store again: a lookup that
/// read the key just before its revocation and cached it just after the poll forgot it cannot
/// keep it alive. Thread-safe.
class key_cache {
  public:
    using clock = std::chrono::steady_clock;

    /// How long a cached key is trusted before the store is asked again.
    static constexpr clock::duration max_age = std::chrono::seconds(30);

    /// At most this many keys are kept; past it the cache starts again empty (a server with
    /// more live keys than this reads the store for some requests).
    static constexpr std::size_t max_keys = 100000;

    /// The credential of `presented` when its key id is cached: the key itself, or
    /// unauthenticated when its secret does not match (the same answer the store's check
    /// gives). nullopt when the id is not cached (also for a malformed key): ask the store.
    std::optional<core::result<credential>> find(std::string_view presented,
                                                 clock::time_point now = clock::now()) const;

    /// Caches a key the store just accepted (`row` as stored: not revoked) at `now`.
    void remember(const store::api_key_row& row, const credential& cred,
                  clock::time_point now = clock::now());

    /// Drops the key with id `id` (revoked), if cached.
    void forget(const std::string& id);

    std::size_t size() const;

  private:
    struct entry {
        std::string hash; ///< hex SHA-256 of the secret, as stored
        credential cred;
        clock::time_point checked; ///< when the store accepted it
    };
    mutable std::mutex mu_;
    std::unordered_map<std::string, entry> keys_;
};

} // namespace posfeed::auth
