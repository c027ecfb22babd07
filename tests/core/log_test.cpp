#include "core/log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace posfeed::core {
namespace {

struct redact_case {
    std::string_view in;
    std::string_view out;
};

void expect_redactions(std::initializer_list<redact_case> cases) {
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(c.in));
        EXPECT_EQ(redact_target(c.in), c.out);
    }
}

TEST(RedactTarget, RedactsEveryCredentialParameter) {
    expect_redactions({
        {"/eventsource?token=abc123", "/eventsource?token=[redacted]"},
        {"/eventsource?session=s3cr3t", "/eventsource?session=[redacted]"},
        {"/openapi/x?key=k", "/openapi/x?key=[redacted]"},
        {"/openapi/x?api_key=pfk_0123_abcd", "/openapi/x?api_key=[redacted]"},
        {"/openapi/login?password=hunter2", "/openapi/login?password=[redacted]"},
    });
}

TEST(RedactTarget, KeepsOtherParametersAndTheirOrder) {
    expect_redactions({
        {"/eventsource?want=products,levels&token=abc&format=xml&rve=20210727.091105994",
         "/eventsource?want=products,levels&token=[redacted]&format=xml&rve=20210727.091105994"},
        {"/eventsource_1_2_3_4?want=sale&session=abc&location=3",
         "/eventsource_1_2_3_4?want=sale&session=[redacted]&location=3"},
        {"/eventsource?want=products", "/eventsource?want=products"},
        {"/eventsource?a=1&b=2&c=3", "/eventsource?a=1&b=2&c=3"},
    });
}

TEST(RedactTarget, RedactsSeveralSecretsAndRepeatedNames) {
    expect_redactions({
        {"/x?token=a&session=b&api_key=c&key=d&password=e",
         "/x?token=[redacted]&session=[redacted]&api_key=[redacted]&key=[redacted]&password=["
         "redacted]"},
        {"/x?token=a&token=b", "/x?token=[redacted]&token=[redacted]"},
    });
}

TEST(RedactTarget, MatchesWholeNamesOnly) {
    // Names that merely contain a secret name are not credentials.
    expect_redactions({
        {"/x?tokens=1&mytoken=2&sessionid=3&keyboard=4&passwords=5",
         "/x?tokens=1&mytoken=2&sessionid=3&keyboard=4&passwords=5"},
        {"/x?want=token", "/x?want=token"},
    });
}

TEST(RedactTarget, LeavesTargetsWithoutQueryUnchanged) {
    expect_redactions({
        {"/eventsource", "/eventsource"},
        {"/", "/"},
        {"", ""},
        {"/openapi/token=abc", "/openapi/token=abc"},
    });
}

TEST(RedactTarget, HandlesEmptyValuesAndItems) {
    expect_redactions({
        {"/x?token=", "/x?token=[redacted]"},
        {"/x?token", "/x?token"}, // a name without a value carries no secret
        {"/x?", "/x?"},
        {"/x?&", "/x?&"},
        {"/x?&&token=a&&", "/x?&&token=[redacted]&&"},
        {"/x?=abc", "/x?=abc"},
        {"/x?token==a=b", "/x?token=[redacted]"},
    });
}

TEST(RedactTarget, SecretValueNeverAppearsInTheResult) {
    const std::string_view secret = "pfk_00112233aabbccdd_deadbeef";
    const std::string targets[] = {
        "/eventsource?token=" + std::string(secret),
        "/eventsource?want=products&api_key=" + std::string(secret) + "&format=json",
        "/eventsource?key=" + std::string(secret) + "?token=" + std::string(secret),
    };
    for (const auto& t : targets) {
        SCOPED_TRACE(t);
        EXPECT_EQ(redact_target(t).find(secret), std::string::npos);
    }
}

TEST(RedactTarget, RedactsPercentEncodedAndDifferentlyCasedNames) {
    // The server decodes query names (Boost.URL params()), so `tok%65n` is read as `token`;
    // its value must not reach the log either.
    expect_redactions({
        {"/eventsource?tok%65n=s3cr3t", "/eventsource?tok%65n=[redacted]"},
        {"/eventsource?%73ession=s3cr3t", "/eventsource?%73ession=[redacted]"},
        {"/eventsource?want=products&api%5Fkey=s3cr3t",
         "/eventsource?want=products&api%5Fkey=[redacted]"},
        {"/eventsource?TOKEN=s3cr3t", "/eventsource?TOKEN=[redacted]"},
        {"/eventsource?Session=s3cr3t", "/eventsource?Session=[redacted]"},
        {"/eventsource?tok%=s3cr3t&x=%zz", "/eventsource?tok%=s3cr3t&x=%zz"}, // bad escapes
    });
}

TEST(RedactTarget, RedactsTheSessionIdInSessionPaths) {
    expect_redactions({
        {"/openapi/Sessions/s3cr3t/Messages", "/openapi/Sessions/[redacted]/Messages"},
        {"/openapi/Sessions/s3cr3t/Prompts", "/openapi/Sessions/[redacted]/Prompts"},
        {"/openapi/Sessions/s3cr3t", "/openapi/Sessions/[redacted]"},
        {"/openapi/%53essions/s3cr3t/Messages", "/openapi/%53essions/[redacted]/Messages"},
        {"/openapi/Sessions/s3cr3t/Messages?token=t0k",
         "/openapi/Sessions/[redacted]/Messages?token=[redacted]"},
        {"/openapi/Sessions", "/openapi/Sessions"},
        {"/openapi/Sessions/", "/openapi/Sessions/"},
        {"/openapi/Products/12", "/openapi/Products/12"},
    });
}

TEST(RedactTarget, RedactsSessionIdsTheRouterStillFinds) {
    // The router matches on the decoded path and skips empty segments, so these targets reach
    // `/openapi/Sessions/{Session}/Messages` with session `s3cr3t`; the id must not be logged.
    const std::string_view targets[] = {
        "/openapi/Sessions//s3cr3t/Messages",
        "/openapi/Sessions%2Fs3cr3t/Messages",
    };
    for (const auto t : targets) {
        SCOPED_TRACE(std::string(t));
        EXPECT_EQ(redact_target(t).find("s3cr3t"), std::string::npos) << redact_target(t);
    }
}

} // namespace
} // namespace posfeed::core
