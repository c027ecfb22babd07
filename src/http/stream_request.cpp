#include "http/stream_request.hpp"

#include "feed/resume.hpp"

namespace posfeed::http {

bool is_eventsource_path(std::string_view path) {
    constexpr std::string_view base = "/eventsource";
    return path == base ||
           (path.starts_with(base) && path.size() > base.size() + 1 && path[base.size()] == '_');
}

std::optional<std::string_view> named_session_id(const target& t, const auth::credential& cred) {
    if (cred.kind != auth::credential::kind::api_key) {
        return std::nullopt;
    }
    return t.param("session");
}

core::result<stream_request>
parse_stream_request(const target& t, std::optional<std::string_view> last_event_id,
                     auth::credential cred,
                     const std::optional<store::session_row>& named_session) {
    if (!is_eventsource_path(t.path)) {
        return core::not_found("no event source at " + t.path.substr(0, 80) +
                               "; use /eventsource or /eventsource_<RmSystem>");
    }
    stream_request out{std::move(cred), {}, {}, {}};
    const std::string_view suffix =
        std::string_view(t.path).substr(std::string_view("/eventsource").size());
    if (!suffix.empty() && suffix.substr(1) != out.cred.rmsystem) {
        return core::error{core::error_code::permission_denied,
                           "this credential belongs to another RmSystem than '" +
                               std::string(suffix.substr(1)) + "'"};
    }
    // Whose session events (sale, usermessage, userprompt) this stream gets: the credential's
    // own session, or with an API key the session named by session=.
    out.filter.session = out.cred.session_key;
    if (const auto named = named_session_id(t, out.cred)) {
        const std::string key = auth::session_key(*named);
        const auto& row = named_session;
        if (!row || row->key != key || row->ended || row->rmsystem != out.cred.rmsystem) {
            return core::invalid_argument("session= names no live session of this RmSystem");
        }
        out.filter.session = key;
    }
    const auto want = t.param("want");
    if (!want && out.filter.session.empty()) {
        return core::invalid_argument(
            "parameter 'want' is required: a comma-separated list of event "
            "types; valid types are " +
            std::string(core::valid_type_list()));
    }
    auto w = feed::parse_want(want ? *want : std::string_view("sale"));
    if (!w.ok()) {
        return w.take_err();
    }
    out.want = std::move(*w);
    if ((out.want.mask & core::session_types) != 0 && out.filter.session.empty()) {
        return core::invalid_argument(
            "event types sale, usermessage and userprompt belong to a POS session: "
            "log in and use the session cookie, session= or token=");
    }
    if (const auto f = t.param("format")) {
        if (*f == "xml") {
            out.filter.format = feed::packet_format::xml;
        } else if (*f != "json") {
            return core::invalid_argument("format '" + std::string(f->substr(0, 40)) +
                                          "' is not supported; use json or xml");
        }
    }
    if (const auto loc = t.param("location")) {
        const bool digits = !loc->empty() && loc->size() <= 12 &&
                            loc->find_first_not_of("0123456789") == std::string_view::npos &&
                            (*loc)[0] != '0';
        if (!digits) {
            return core::invalid_argument("location '" + std::string(loc->substr(0, 40)) +
                                          "' is not valid; use a location number such as 1");
        }
        out.filter.location = std::string(*loc);
    }
    if (const auto snap = t.param("snapshot")) {
        if (*snap != "0" && *snap != "1") {
            return core::invalid_argument("snapshot '" + std::string(snap->substr(0, 40)) +
                                          "' is not valid; use 1 (state first) or 0");
        }
        out.snapshot = *snap == "1";
    }
    if (const auto conflate = t.param("conflate")) {
        if (*conflate != "0" && *conflate != "1") {
            return core::invalid_argument(
                "conflate '" + std::string(conflate->substr(0, 40)) +
                "' is not valid; use 1 (merge products, customers and levels per record when "
                "behind) or 0");
        }
        out.conflate = *conflate == "1";
    }
    auto resume = feed::pick_resume_point(last_event_id, t.param("rve"));
    if (!resume.ok()) {
        return resume.take_err();
    }
    out.resume = *resume;
    const core::type_mask denied = out.want.mask & ~out.cred.allowed.read;
    if (denied != 0) {
        std::string names;
        for (const auto type : out.want.types) {
            if ((denied & core::bit(type)) != 0) {
                names += (names.empty() ? "'" : ", '") + std::string(core::to_string(type)) + "'";
            }
        }
        return core::error{core::error_code::permission_denied,
                           "this credential may not read event type " + names};
    }
    out.filter.want = out.want.mask;
    return out;
}

} // namespace posfeed::http
