#include "auth/credential.hpp"

#include "auth/key_cache.hpp"
#include "auth/password.hpp"

#include <algorithm>

namespace posfeed::auth {
namespace {

/// How often activity is written back: at most once per this many milliseconds per session.
constexpr std::int64_t touch_every_ms = 10000;

core::result<credential> session_credential(store::store& db,
                                            const std::optional<store::session_row>& row,
                                            std::int64_t now_ms, std::int64_t idle_ms,
                                            bool read_only, std::string_view what) {
    if (!row || row->ended) {
        return core::error{core::error_code::unauthenticated,
                           "the " + std::string(what) +
                               " is not valid or its session has ended; log in again"};
    }
    if (now_ms - row->last_seen_ms > idle_ms) {
        return core::error{core::error_code::unauthenticated, "the session expired after " +
                                                                  std::to_string(idle_ms / 1000) +
                                                                  " s idle; log in again"};
    }
    if (now_ms - row->last_seen_ms > std::min(touch_every_ms, idle_ms / 4)) {
        db.touch_session(row->key, now_ms);
    }
    credential c;
    c.kind = read_only ? credential::kind::url_token : credential::kind::session;
    c.id = row->key;
    c.rmsystem = row->rmsystem;
    c.allowed = scopes{core::all_types, !read_only};
    c.session_key = row->key;
    c.user = row->user;
    c.location = row->location;
    return c;
}

} // namespace

std::string session_key(std::string_view session_id) {
    return sha256_hex(session_id);
}

std::string url_token_for(std::string_view session_id) {
    return "pft_" + sha256_hex("posfeed url token\n" + std::string(session_id));
}

new_session make_session(const std::string& rmsystem, const std::string& user, std::string location,
                         std::string terminal, std::int64_t now_ms) {
    new_session s;
    s.session_id = "pfs_" + random_hex(32);
    s.url_token = url_token_for(s.session_id);
    s.row = store::session_row{session_key(s.session_id),
                               sha256_hex(s.url_token),
                               rmsystem,
                               user,
                               std::move(location),
                               std::move(terminal),
                               now_ms,
                               now_ms,
                               false};
    return s;
}

core::result<store::user_row> check_password(store::store& db, std::string_view user,
                                             std::string_view password) {
    const core::error bad{core::error_code::unauthenticated,
                          "the user name or password is not right"};
    const auto row = db.find_user(user);
    if (!row) {
        // Spend the same time as a real check, so timing does not tell whether the user exists.
        static const std::string dummy = hash_password("posfeed-timing-equaliser");
        (void)verify_password(dummy, password);
        return bad;
    }
    if (!verify_password(row->password_hash, password)) {
        return bad;
    }
    return *row;
}

core::result<credential> authenticate_session(store::store& db, std::string_view session_id,
                                              std::int64_t now_ms, std::int64_t idle_ms) {
    return session_credential(db, db.find_session(session_key(session_id)), now_ms, idle_ms, false,
                              "session");
}

core::result<credential> authenticate_url_token(store::store& db, std::string_view token,
                                                std::int64_t now_ms, std::int64_t idle_ms) {
    return session_credential(db, db.find_session_by_token(sha256_hex(token)), now_ms, idle_ms,
                              true, "token");
}

core::error bad_api_key() {
    return core::error{core::error_code::unauthenticated,
                       "the X-Api-Key is not a valid key; create one with 'posfeed apikey create'"};
}

core::error revoked_api_key() {
    return store::key_revoked();
}

core::result<credential> authenticate_api_key(store::store& db, std::string_view presented,
                                              key_cache* cache) {
    const auto parts = split_api_key(presented);
    if (!parts) {
        return bad_api_key();
    }
    const auto row = db.find_api_key(parts->first);
    if (!row || !equal_secret(row->hash, sha256_hex(parts->second))) {
        return bad_api_key();
    }
    if (row->revoked) {
        return revoked_api_key();
    }
    auto s = parse_scopes(row->scopes);
    if (!s.ok()) {
        return core::internal_error("stored scopes of key " + row->id + " are damaged");
    }
    credential cred{credential::kind::api_key, row->id, row->rmsystem, *s, {}, {}, {}};
    if (cache != nullptr) {
        cache->remember(*row, cred);
    }
    return cred;
}

} // namespace posfeed::auth
