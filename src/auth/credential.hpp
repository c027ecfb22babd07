#pragma once

#include "auth/api_key.hpp"
#include "store/store.hpp"

#include <string>

namespace posfeed::auth {

/// Who is asking, as established from an API key (and, later, a session or UrlToken).
struct credential {
    enum class kind { api_key, session, url_token };
    kind kind = kind::api_key;
    std::string id;       ///< key id or session id: the unit of per-credential limits
    std::string rmsystem; ///< every request is confined to this RmSystem
    scopes allowed;
};

/// Checks an `X-Api-Key` value against the store. unauthenticated when it is malformed,
/// unknown, revoked or its secret does not match; the message never echoes the key.
/// Blocking (reads the store).
core::result<credential> authenticate_api_key(store::store& db, std::string_view presented);

} // namespace posfeed::auth
