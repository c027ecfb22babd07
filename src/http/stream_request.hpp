#pragma once

#include "auth/credential.hpp"
#include "core/error.hpp"
#include "feed/encoded_group.hpp"
#include "feed/want.hpp"
#include "http/request.hpp"
#include "store/store.hpp"

#include <optional>
#include <string_view>

namespace posfeed::http {

/// Everything an event stream needs, validated before the response starts.
struct stream_request {
    auth::credential cred;
    feed::want_list want;
    feed::subscription_filter filter;
    std::optional<core::rve> resume;
    bool snapshot = false;
    bool conflate = false; ///< behind: state-like types merged per record instead of a cut
};

/// Whether `path` is an event-source URL (`/eventsource` or `/eventsource_<RmSystem>`).
bool is_eventsource_path(std::string_view path);

/// The session id an API key names with `session=` (only API keys may name one), else nullopt.
std::optional<std::string_view> named_session_id(const target& t, const auth::credential& cred);

/// Validates an event-source request of an authenticated credential (SPEC 3): a pure function
/// of its inputs, so every rule has a unit test and untrusted input is fuzzed
/// (fuzz/stream_request_fuzz.cpp). Checks, in this order, each failing with its own message:
/// the path (404 unless is_eventsource_path), the RmSystem suffix of the path (403), `session=`
/// (400 unless `named_session` is the live session of the credential's RmSystem it names), `want`
/// (required without a session; 400 naming unknown types), session types without a session (400),
/// `format`, `location`, `snapshot`, `conflate` (400 each), the resume point from `last_event_id`
/// or `rve=` (the header wins; 400 when malformed), and last the credential's read scopes (403
/// naming the types it may not read). `named_session` is the stored row of named_session_id(),
/// looked up by the caller (nullopt when there is none).
core::result<stream_request>
parse_stream_request(const target& t, std::optional<std::string_view> last_event_id,
                     auth::credential cred, const std::optional<store::session_row>& named_session);

} // namespace posfeed::http
