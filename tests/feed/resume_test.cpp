#include "feed/resume.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

namespace posfeed::feed {
namespace {

using opt = std::optional<std::string_view>;

constexpr std::int64_t sample_ms = 1627377065994; // 20210727.091105994
constexpr std::int64_t other_ms = 1627376400000;  // 20210727.090000000

TEST(PickResumePoint, StartsLiveWithoutAnyResumePoint) {
    const auto r = pick_resume_point(std::nullopt, std::nullopt);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value());
}

TEST(PickResumePoint, PicksTheSourceThatApplies) {
    struct row {
        std::string_view name;
        opt header;
        opt param;
        std::optional<std::int64_t> expected; ///< nullopt: start live
    };
    const row rows[] = {
        {"header only", "20210727.091105994", std::nullopt, sample_ms},
        {"param only", std::nullopt, "20210727.091105994", sample_ms},
        {"header wins over param", "20210727.091105994", "20210727.09", sample_ms},
        {"header wins even when older", "20210727.09", "20210727.091105994", other_ms},
        {"empty header counts as absent", "", "20210727.09", other_ms},
        {"empty header and no param", "", std::nullopt, std::nullopt},
        {"zero header resumes from the beginning", "0", "20210727.09", 0},
        {"zero param resumes from the beginning", std::nullopt, "0", 0},
        {"param with trailing zeros dropped", std::nullopt, "20210727.0911059", 1627377065900},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.name));
        const auto got = pick_resume_point(r.header, r.param);
        ASSERT_TRUE(got.ok()) << got.err().message;
        ASSERT_EQ(got->has_value(), r.expected.has_value());
        if (r.expected) {
            EXPECT_EQ((*got)->ms, *r.expected);
        }
    }
}

TEST(PickResumePoint, MalformedValueIsAnErrorNamingItsSource) {
    struct row {
        opt header;
        opt param;
        std::string_view source;
        std::string_view shown;
    };
    const row rows[] = {
        {"garbage", std::nullopt, "Last-Event-ID", "'garbage'"},
        {std::nullopt, "garbage", "rve", "'garbage'"},
        // The header wins, so its malformed value is the error even with a valid param.
        {"20211327.000000000", "20210727.091105994", "Last-Event-ID", "'20211327.000000000'"},
        // A malformed param is not consulted when a valid header is present.
        {std::nullopt, "20210230.000000000", "rve", "'20210230.000000000'"},
        {" 20210727.091105994", std::nullopt, "Last-Event-ID", "' 20210727.091105994'"},
        {std::nullopt, "", "rve", "''"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.shown));
        const auto got = pick_resume_point(r.header, r.param);
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.err().code, core::error_code::invalid_argument);
        const std::string& msg = got.err().message;
        EXPECT_EQ(msg.rfind(std::string(r.source) + " ", 0), 0u) << msg;
        EXPECT_NE(msg.find(r.shown), std::string::npos) << msg;
        EXPECT_NE(msg.find("YYYYMMDD.HHmmSSCCC"), std::string::npos) << msg;
    }
}

TEST(PickResumePoint, ValidHeaderIgnoresAMalformedParam) {
    const auto got = pick_resume_point(opt("20210727.091105994"), opt("not-an-rve"));
    ASSERT_TRUE(got.ok()) << got.err().message;
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->ms, sample_ms);
}

TEST(PickResumePoint, TruncatesLongValuesInTheMessage) {
    const std::string huge(100000, '9');
    const auto got = pick_resume_point(opt(huge), std::nullopt);
    ASSERT_FALSE(got.ok());
    EXPECT_LT(got.err().message.size(), 500u);
}

} // namespace
} // namespace posfeed::feed
