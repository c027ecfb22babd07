#include "core/json.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <string_view>

namespace posfeed::core {
namespace {

constexpr rve sample_rve{1627377065994}; // 20210727.091105994

TEST(Json, PrintsDoublesInShortestRoundTripForm) {
    struct row {
        double value;
        std::string_view text;
    };
    const row rows[] = {
        {12.5, "12.5"},
        {0.1, "0.1"},
        {1.0, "1"},
        {100.0, "100"},
        {-3.25, "-3.25"},
        {0.0, "0"},
        {19.99, "19.99"},
        {1e-3, "0.001"},
        {123456789.5, "123456789.5"},
        {0.1 + 0.2, "0.30000000000000004"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.text);
        EXPECT_EQ(to_json(boost::json::value(r.value)), r.text);
    }
}

TEST(Json, PrintedDoublesParseBackToTheSameValue) {
    const double values[] = {12.5, 0.1, 1e21, 1e-7, 1.7976931348623157e308, 9.95};
    for (const double d : values) {
        SCOPED_TRACE(d);
        const std::string text = to_json(boost::json::value(d));
        EXPECT_EQ(text.find('E'), std::string::npos) << text;
        EXPECT_EQ(boost::json::parse(text).to_number<double>(), d);
    }
}

TEST(Json, WritesNonFiniteDoublesAsNull) {
    EXPECT_EQ(to_json(boost::json::value(std::numeric_limits<double>::infinity())), "null");
    EXPECT_EQ(to_json(boost::json::value(-std::numeric_limits<double>::infinity())), "null");
    EXPECT_EQ(to_json(boost::json::value(std::nan(""))), "null");
}

TEST(Json, WritesScalarsAndContainersCompactly) {
    struct row {
        boost::json::value value;
        std::string_view text;
    };
    const row rows[] = {
        {nullptr, "null"},
        {true, "true"},
        {false, "false"},
        {std::int64_t{-42}, "-42"},
        {std::uint64_t{18446744073709551615ULL}, "18446744073709551615"},
        {boost::json::array{}, "[]"},
        {boost::json::object{}, "{}"},
        {boost::json::array{1, "a", nullptr}, R"([1,"a",null])"},
        {boost::json::parse(R"({"Pid":6017,"Price":12.5,"Lines":[{"Qty":2}]})"),
         R"({"Pid":6017,"Price":12.5,"Lines":[{"Qty":2}]})"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.text);
        EXPECT_EQ(to_json(r.value), r.text);
    }
}

TEST(Json, KeepsObjectMemberOrder) {
    boost::json::object obj;
    obj["Zeta"] = 1;
    obj["Alpha"] = 2;
    obj["Mid"] = 3;
    EXPECT_EQ(to_json(obj), R"({"Zeta":1,"Alpha":2,"Mid":3})");
}

TEST(Json, EscapesQuotesBackslashesAndControlCharacters) {
    struct row {
        std::string_view in;
        std::string_view out;
    };
    const row rows[] = {
        {"plain", R"("plain")"},
        {"", R"("")"},
        {"say \"hi\"", R"("say \"hi\"")"},
        {"C:\\dir", R"("C:\\dir")"},
        {"a\nb", R"("a\nb")"},
        {"a\rb", R"("a\rb")"},
        {"a\tb", R"("a\tb")"},
        {"a\bb", R"("a\bb")"},
        {"a\fb", R"("a\fb")"},
        {std::string_view("a\0b", 3), R"("a\u0000b")"},
        {"\x01\x1f", R"("\u0001\u001f")"},
        {"\x1b[0m", R"("\u001b[0m")"},
        {"</script>", R"("</script>")"},
        {"caf\xC3\xA9 \xE2\x82\xAC", "\"caf\xC3\xA9 \xE2\x82\xAC\""}, // UTF-8 kept as is
        {"\x7f", "\"\x7f\""},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.out));
        std::string out = "prefix:";
        append_json_string(out, r.in);
        EXPECT_EQ(out, "prefix:" + std::string(r.out));
    }
}

TEST(Json, EscapedStringsParseBackToTheOriginal) {
    std::string all;
    for (int c = 0; c < 128; ++c) {
        all.push_back(static_cast<char>(c));
    }
    std::string out;
    append_json_string(out, all);
    const auto parsed = boost::json::parse(out);
    ASSERT_TRUE(parsed.is_string());
    EXPECT_EQ(std::string_view(parsed.get_string()), all);
}

TEST(Json, EscapesStringsInsideValues) {
    const boost::json::value v = {{"Text", "line1\nline2 \"q\""}};
    EXPECT_EQ(to_json(v), R"({"Text":"line1\nline2 \"q\""})");
}

TEST(Json, WithRveAppendsRveAsANumberLiteralWithNineDecimals) {
    EXPECT_EQ(with_rve(R"({"Pid":6017})", sample_rve), R"({"Pid":6017,"RVE":20210727.091105994})");
}

TEST(Json, WithRveKeepsTrailingZeroDecimals) {
    const rve on_the_hour{1627376400000}; // 20210727.090000000
    EXPECT_EQ(with_rve(R"({"A":1})", on_the_hour), R"({"A":1,"RVE":20210727.090000000})");
}

TEST(Json, WithRveOnAnEmptyObjectHasNoLeadingComma) {
    EXPECT_EQ(with_rve("{}", sample_rve), R"({"RVE":20210727.091105994})");
}

TEST(WithRve, TreatsATextThatIsNotAnObjectAsEmpty) {
    for (const char* body : {"", "}", "{", "[1]", "x"}) {
        SCOPED_TRACE(body);
        EXPECT_EQ(with_rve(body, sample_rve), R"({"RVE":20210727.091105994})");
    }
}

TEST(Json, WithRveWritesZeroAsZero) {
    EXPECT_EQ(with_rve(R"({"A":1})", rve{0}), R"({"A":1,"RVE":0})");
}

TEST(Json, WithRveResultIsValidJson) {
    const std::string text = with_rve(R"({"Text":"}","Lines":[{"Qty":1}]})", sample_rve);
    const auto parsed = boost::json::parse(text);
    ASSERT_TRUE(parsed.is_object());
    EXPECT_EQ(parsed.at("Text").get_string(), "}");
    EXPECT_TRUE(parsed.at("RVE").is_double());
    EXPECT_NEAR(parsed.at("RVE").get_double(), 20210727.091105994, 1e-6);
}

TEST(Json, AppendWithRveAppendsToExistingText) {
    std::string out = R"({"data":)";
    append_with_rve(out, R"({"Cid":7})", sample_rve);
    out += "}";
    EXPECT_EQ(out, R"({"data":{"Cid":7,"RVE":20210727.091105994}})");
}

} // namespace
} // namespace posfeed::core
