#include "http/http_error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace posfeed::http {
namespace {

TEST(HttpError, DomainCodesMapToTheirStatus) {
    const struct {
        core::error_code code;
        int status;
        const char* name;
    } cases[] = {
        {core::error_code::invalid_argument, 400, "invalid_argument"},
        {core::error_code::unauthenticated, 401, "unauthenticated"},
        {core::error_code::permission_denied, 403, "permission_denied"},
        {core::error_code::not_found, 404, "not_found"},
        {core::error_code::conflict, 409, "conflict"},
        {core::error_code::cursor_expired, 410, "cursor_expired"},
        {core::error_code::resource_exhausted, 429, "resource_exhausted"},
        {core::error_code::unavailable, 503, "unavailable"},
        {core::error_code::internal, 500, "internal"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const http_error e = core::error{c.code, "m"};
        EXPECT_EQ(e.status(), c.status);
        EXPECT_EQ(e.code_name(), c.name);
        EXPECT_TRUE(e.is(c.code));
    }
}

TEST(HttpError, ProtocolCodesMapToTheirStatus) {
    const struct {
        protocol_code code;
        int status;
        const char* name;
    } cases[] = {
        {protocol_code::method_not_allowed, 405, "method_not_allowed"},
        {protocol_code::payload_too_large, 413, "payload_too_large"},
        {protocol_code::header_too_large, 431, "header_too_large"},
        {protocol_code::uri_too_long, 414, "uri_too_long"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const http_error e{c.code, "m"};
        EXPECT_EQ(e.status(), c.status);
        EXPECT_EQ(e.code_name(), c.name);
        EXPECT_TRUE(e.is(c.code));
        EXPECT_FALSE(e.is(core::error_code::invalid_argument));
    }
}

TEST(HttpError, BodyIsTheSpecShapeWithTheMessageEscaped) {
    const http_error e = core::invalid_argument("want 'x\"y' is not an event type");
    EXPECT_EQ(
        error_body(e),
        R"({"error":{"code":"invalid_argument","message":"want 'x\"y' is not an event type"}})");
}

TEST(HttpError, ResultPassesADomainErrorOnAsAnHttpError) {
    const core::result<int, http_error> r = core::not_found("record 7 does not exist");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().status(), 404);
    EXPECT_EQ(r.err().message, "record 7 does not exist");
}

} // namespace
} // namespace posfeed::http
