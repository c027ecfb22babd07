#include "auth/credential.hpp"

namespace posfeed::auth {

core::result<credential> authenticate_api_key(store::store& db, std::string_view presented) {
    const core::error bad{
        core::error_code::unauthenticated,
        "the X-Api-Key is not a valid key; create one with 'posfeed apikey create'"};
    const auto parts = split_api_key(presented);
    if (!parts) {
        return bad;
    }
    const auto row = db.find_api_key(parts->first);
    if (!row || !equal_secret(row->hash, sha256_hex(parts->second))) {
        return bad;
    }
    if (row->revoked) {
        return core::error{core::error_code::unauthenticated, "the X-Api-Key has been revoked"};
    }
    auto s = parse_scopes(row->scopes);
    if (!s.ok()) {
        return core::internal_error("stored scopes of key " + row->id + " are damaged");
    }
    return credential{credential::kind::api_key, row->id, row->rmsystem, *s};
}

} // namespace posfeed::auth
