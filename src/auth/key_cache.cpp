#include "auth/key_cache.hpp"

namespace posfeed::auth {

std::optional<core::result<credential>> key_cache::find(std::string_view presented,
                                                        clock::time_point now) const {
    const auto parts = split_api_key(presented);
    if (!parts) {
        return std::nullopt;
    }
    std::string hash;
    credential cred;
    {
        const std::lock_guard lock(mu_);
        const auto it = keys_.find(std::string(parts->first));
        if (it == keys_.end() || now - it->second.checked > max_age) {
            return std::nullopt;
        }
        hash = it->second.hash;
        cred = it->second.cred;
    }
    // Hashed outside the lock: the lock guards only the map.
    if (!equal_secret(hash, sha256_hex(parts->second))) {
        return core::result<credential>(bad_api_key());
    }
    return core::result<credential>(std::move(cred));
}

void key_cache::remember(const store::api_key_row& row, const credential& cred,
                         clock::time_point now) {
    if (row.revoked) {
        return;
    }
    const std::lock_guard lock(mu_);
    if (keys_.size() >= max_keys && !keys_.contains(row.id)) {
        keys_.clear();
    }
    keys_.insert_or_assign(row.id, entry{row.hash, cred, now});
}

void key_cache::forget(const std::string& id) {
    const std::lock_guard lock(mu_);
    keys_.erase(id);
}

std::size_t key_cache::size() const {
    const std::lock_guard lock(mu_);
    return keys_.size();
}

} // namespace posfeed::auth
