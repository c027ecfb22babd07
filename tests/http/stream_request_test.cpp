#include "http/stream_request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace posfeed::http {
namespace {

auth::credential api_key(core::type_mask read = core::all_types) {
    auth::credential c;
    c.kind = auth::credential::kind::api_key;
    c.id = "0123456789abcdef";
    c.rmsystem = "1_2";
    c.allowed.read = read;
    return c;
}

auth::credential session() {
    auth::credential c = api_key();
    c.kind = auth::credential::kind::session;
    c.id = c.session_key = "own-session-key";
    return c;
}

core::result<stream_request> parse(std::string_view url, auth::credential cred = api_key(),
                                   std::optional<std::string_view> last_event_id = {},
                                   std::optional<store::session_row> named = {}) {
    const auto t = parse_target(url);
    EXPECT_TRUE(t.ok()) << url;
    return parse_stream_request(*t, last_event_id, std::move(cred), named);
}

store::session_row live_session(std::string_view id, std::string rmsystem = "1_2") {
    return store::session_row{
        auth::session_key(id), "", std::move(rmsystem), "u", "", "", 0, 0, false};
}

TEST(StreamRequest, AcceptsAFullRequest) {
    const auto r = parse("/eventsource_1_2?want=levels,products,levels&format=xml&location=3&"
                         "snapshot=1&conflate=1&rve=20210727.091105994");
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->want.types, (std::vector{core::event_type::levels, core::event_type::products}));
    EXPECT_EQ(r->filter.want,
              core::bit(core::event_type::levels) | core::bit(core::event_type::products));
    EXPECT_EQ(r->filter.format, feed::packet_format::xml);
    EXPECT_EQ(r->filter.location, "3");
    EXPECT_TRUE(r->snapshot);
    EXPECT_TRUE(r->conflate);
    ASSERT_TRUE(r->resume.has_value());
    EXPECT_EQ(r->resume->str(), "20210727.091105994");
    EXPECT_TRUE(r->filter.session.empty());
}

TEST(StreamRequest, LastEventIdWinsOverRve) {
    const auto r =
        parse("/eventsource?want=products&rve=20210727.091105994", api_key(), "20210727.091106000");
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->resume->str(), "20210727.091106000");
}

TEST(StreamRequest, ASessionDefaultsToSaleAndFollowsItsOwnSession) {
    const auto r = parse("/eventsource", session());
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->want.types, std::vector{core::event_type::sale});
    EXPECT_EQ(r->filter.session, "own-session-key");
}

TEST(StreamRequest, AnApiKeyFollowsTheLiveSessionItNames) {
    const auto r =
        parse("/eventsource?want=sale&session=pfs_x", api_key(), {}, live_session("pfs_x"));
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->filter.session, auth::session_key("pfs_x"));
}

TEST(StreamRequest, RejectsEachBadParameterWithItsOwnMessage) {
    auto ended = live_session("pfs_x");
    ended.ended = true;
    const struct {
        const char* url;
        std::optional<store::session_row> named;
        std::optional<std::string_view> last_event_id;
        core::error_code code;
        const char* message_part;
    } cases[] = {
        {"/events?want=products", {}, {}, core::error_code::not_found, "no event source at"},
        {"/eventsource_?want=products", {}, {}, core::error_code::not_found, "no event source"},
        {"/eventsource_9?want=products",
         {},
         {},
         core::error_code::permission_denied,
         "another RmSystem than '9'"},
        {"/eventsource?want=sale&session=pfs_x",
         {},
         {},
         core::error_code::invalid_argument,
         "session= names no live session"},
        {"/eventsource?want=sale&session=pfs_x",
         ended,
         {},
         core::error_code::invalid_argument,
         "session= names no live session"},
        {"/eventsource?want=sale&session=pfs_x",
         live_session("pfs_x", "other"),
         {},
         core::error_code::invalid_argument,
         "session= names no live session"},
        {"/eventsource?want=sale&session=pfs_x",
         live_session("pfs_y"),
         {},
         core::error_code::invalid_argument,
         "session= names no live session"},
        {"/eventsource",
         {},
         {},
         core::error_code::invalid_argument,
         "parameter 'want' is required"},
        {"/eventsource?want=products,nope", {}, {}, core::error_code::invalid_argument, "nope"},
        {"/eventsource?want=usermessage",
         {},
         {},
         core::error_code::invalid_argument,
         "belong to a POS session"},
        {"/eventsource?want=products&format=csv",
         {},
         {},
         core::error_code::invalid_argument,
         "format 'csv' is not supported"},
        {"/eventsource?want=levels&location=01",
         {},
         {},
         core::error_code::invalid_argument,
         "location '01' is not valid"},
        {"/eventsource?want=products&snapshot=yes",
         {},
         {},
         core::error_code::invalid_argument,
         "snapshot 'yes' is not valid"},
        {"/eventsource?want=products&conflate=2",
         {},
         {},
         core::error_code::invalid_argument,
         "conflate '2' is not valid"},
        {"/eventsource?want=products&rve=yesterday",
         {},
         {},
         core::error_code::invalid_argument,
         "rve"},
        {"/eventsource?want=products",
         {},
         "x",
         core::error_code::invalid_argument,
         "Last-Event-ID"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.url);
        const auto r = parse(c.url, api_key(), c.last_event_id, c.named);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.err().code, c.code);
        EXPECT_NE(r.err().message.find(c.message_part), std::string::npos) << r.err().message;
    }
}

TEST(StreamRequest, ScopesAreCheckedLastAndNameTheDeniedTypes) {
    const auto key = api_key(core::bit(core::event_type::products));
    const auto r = parse("/eventsource?want=products,levels,customers", key);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().code, core::error_code::permission_denied);
    EXPECT_NE(r.err().message.find("'levels', 'customers'"), std::string::npos) << r.err().message;
    // A malformed parameter is reported before the scopes.
    const auto bad = parse("/eventsource?want=levels&format=csv", key);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.err().code, core::error_code::invalid_argument);
}

} // namespace
} // namespace posfeed::http
