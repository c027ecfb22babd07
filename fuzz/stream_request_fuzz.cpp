// Fuzzes http::parse_stream_request, the validation of an event-source request: the input is
// a request target, optionally followed by a NUL and a Last-Event-ID header value. Whatever the
// input, validation must answer a value or an error with a message (never crash, never an
// empty message), and an accepted request must be self-consistent: the wanted mask matches
// the wanted list, session types only with a session, the scopes of the credential respected.

#include "http/request.hpp"
#include "http/stream_request.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace posfeed;

auth::credential make_credential(std::uint8_t kind) {
    auth::credential c;
    c.rmsystem = "1_2";
    c.id = "0123456789abcdef";
    switch (kind % 3) {
    case 0: // an API key that may read products and levels only
        c.kind = auth::credential::kind::api_key;
        c.allowed.read =
            core::bit(core::event_type::products) | core::bit(core::event_type::levels);
        break;
    case 1: // a POS session
        c.kind = auth::credential::kind::session;
        c.allowed.read = core::all_types;
        c.session_key = "s1";
        break;
    default: // an API key with every scope
        c.kind = auth::credential::kind::api_key;
        c.allowed.read = core::all_types;
        break;
    }
    return c;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::uint8_t kind = data[0];
    const std::string_view raw(reinterpret_cast<const char*>(data) + 1, size - 1);
    const auto nul = raw.find('\0');
    const auto t = http::parse_target(raw.substr(0, nul));
    if (!t.ok()) {
        return 0;
    }
    std::optional<std::string_view> last_event_id;
    if (nul != std::string_view::npos) {
        last_event_id = raw.substr(nul + 1);
    }
    // A session named by session= exists (as session "s2" of this RmSystem) on odd kinds.
    std::optional<store::session_row> named;
    if ((kind & 8) != 0) {
        if (const auto id = t->param("session")) {
            named = store::session_row{auth::session_key(*id), "", "1_2", "u", "", "", 0, 0, false};
        }
    }
    const auto cred = make_credential(kind);
    const auto r = http::parse_stream_request(*t, last_event_id, cred, named);
    if (!r.ok()) {
        if (r.err().message.empty()) {
            std::abort();
        }
        return 0;
    }
    core::type_mask mask = 0;
    for (const auto type : r->want.types) {
        mask |= core::bit(type);
    }
    if (mask != r->want.mask || r->filter.want != r->want.mask || r->want.types.empty()) {
        std::abort();
    }
    if ((mask & ~cred.allowed.read) != 0) {
        std::abort(); // a type the credential may not read was accepted
    }
    if ((mask & core::session_types) != 0 && r->filter.session.empty()) {
        std::abort();
    }
    return 0;
}
