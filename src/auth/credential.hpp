#pragma once

#include "auth/api_key.hpp"
#include "store/store.hpp"

#include <string>

namespace posfeed::auth {

/// Who is asking: an API key (servers), a POS session (cookie or `session=`), or a UrlToken
/// (browser EventSource URLs; read-only, event source only).
struct credential {
    enum class kind { api_key, session, url_token };
    kind kind = kind::api_key;
    std::string id;       ///< key id, or session key: the unit of per-credential limits
    std::string rmsystem; ///< every request is confined to this RmSystem
    scopes allowed;
    std::string session_key; ///< sessions and UrlTokens: hash of the session id
    std::string user;        ///< sessions and UrlTokens: the logged-in user
    std::string location;    ///< sessions and UrlTokens: the login's Location ("" = none)
};

/// A new session: the secrets handed to the client (`session_id` goes in the cookie or
/// `session=`, `url_token` in EventSource URLs) and the row stored, which keeps only their
/// SHA-256 hashes. The session id is 256 random bits from OpenSSL's RAND_bytes; the UrlToken is
/// derived from it one-way (url_token_for), so AboutMe can hand it out again without the
/// server storing it, and it cannot be turned back into the session id. Both are hex with a
/// prefix (`pfs_`, `pft_`) so that a leaked value is recognisable.
struct new_session {
    std::string session_id;
    std::string url_token;
    store::session_row row;
};
new_session make_session(const std::string& rmsystem, const std::string& user, std::string location,
                         std::string terminal, std::int64_t now_ms);

/// The UrlToken of a session id: `pft_` + hex SHA-256 of a domain-separated session id.
std::string url_token_for(std::string_view session_id);

/// The store key of a session id (its SHA-256).
std::string session_key(std::string_view session_id);

/// Checks a user name and password. unauthenticated with one message whether the user does not
/// exist or the password is wrong (the answer never tells which). Blocking and slow (argon2id).
core::result<store::user_row> check_password(store::store& db, std::string_view user,
                                             std::string_view password);

/// A session id (cookie or `session=`): unauthenticated when unknown, ended or idle for longer
/// than `idle_ms`. Records activity. Sessions may read every type and write. Blocking.
core::result<credential> authenticate_session(store::store& db, std::string_view session_id,
                                              std::int64_t now_ms, std::int64_t idle_ms);

/// A UrlToken: as its session, but read-only. Blocking.
core::result<credential> authenticate_url_token(store::store& db, std::string_view token,
                                                std::int64_t now_ms, std::int64_t idle_ms);

class key_cache;

/// The answer to a malformed or unknown X-Api-Key, or one whose secret does not match (one
/// answer for all three; it never echoes the key).
core::error bad_api_key();

/// The answer to a revoked X-Api-Key.
core::error revoked_api_key();

/// Checks an `X-Api-Key` value against the store. unauthenticated when it is malformed,
/// unknown, revoked or its secret does not match; the message never echoes the key. A key
/// accepted is remembered in `cache` when given. Blocking (reads the store).
core::result<credential> authenticate_api_key(store::store& db, std::string_view presented,
                                              key_cache* cache = nullptr);

} // namespace posfeed::auth
