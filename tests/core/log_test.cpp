#include "core/log.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <limits>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace posfeed::core {
namespace {

/// Makes a logger that writes into a string, with the formatter of `format`, the default
/// logger for the test's lifetime (core::log and plain spdlog calls both reach it).
class captured_log {
  public:
    explicit captured_log(std::string_view format,
                          spdlog::level::level_enum level = spdlog::level::trace)
        : previous_(spdlog::default_logger()) {
        auto logger = std::make_shared<spdlog::logger>(
            "captured", std::make_shared<spdlog::sinks::ostream_sink_st>(out_));
        logger->set_formatter(make_log_formatter(format));
        logger->set_level(level);
        spdlog::set_default_logger(logger);
    }
    ~captured_log() { spdlog::set_default_logger(previous_); }
    captured_log(const captured_log&) = delete;
    captured_log& operator=(const captured_log&) = delete;

    std::string text() const { return out_.str(); }

    /// The lines written, each without its `\n` (the text must end with one).
    std::vector<std::string> lines() const {
        std::vector<std::string> out;
        const std::string all = text();
        EXPECT_TRUE(all.empty() || all.back() == '\n') << all;
        std::size_t start = 0;
        while (start < all.size()) {
            const auto nl = all.find('\n', start);
            out.push_back(all.substr(start, nl - start));
            start = nl == std::string::npos ? all.size() : nl + 1;
        }
        return out;
    }

  private:
    std::ostringstream out_;
    std::shared_ptr<spdlog::logger> previous_;
};

const std::regex iso_time(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

/// The one line `log` wrote, parsed as a JSON object.
boost::json::object only_json_line(const captured_log& log) {
    const auto lines = log.lines();
    EXPECT_EQ(lines.size(), 1u) << log.text();
    if (lines.size() != 1) {
        return {};
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(lines[0], ec);
    EXPECT_FALSE(ec) << ec.message() << ": " << lines[0];
    EXPECT_TRUE(v.is_object()) << lines[0];
    return v.is_object() ? v.as_object() : boost::json::object{};
}

/// The string member `key` of `o` ("<missing>" when it is not a string).
std::string str_of(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : "<missing>";
}

TEST(LogJson, WritesTimeLevelMessageAndFieldsAsOneObjectPerLine) {
    const captured_log log("json");
    core::log(spdlog::level::info, "GET /eventsource stream closed",
              {{"target", "/eventsource", false},
               {"stream_id", std::uint64_t{7}},
               {"duration_ms", std::int64_t{5012}},
               {"ratio", 14.5},
               {"negative", -3},
               {"conflate", true},
               {"reason", "client_closed"}});
    const auto o = only_json_line(log);
    ASSERT_TRUE(o.contains("time"));
    EXPECT_TRUE(std::regex_match(std::string(o.at("time").as_string()), iso_time)) << o;
    EXPECT_EQ(str_of(o, "level"), "info");
    EXPECT_EQ(str_of(o, "message"), "GET /eventsource stream closed");
    EXPECT_EQ(str_of(o, "target"), "/eventsource") << "fields hidden in text are JSON members";
    EXPECT_EQ(o.at("stream_id"), boost::json::value(7));
    EXPECT_EQ(o.at("duration_ms"), boost::json::value(5012));
    EXPECT_EQ(o.at("ratio"), boost::json::value(14.5));
    EXPECT_EQ(o.at("negative"), boost::json::value(-3));
    EXPECT_EQ(o.at("conflate"), boost::json::value(true));
    EXPECT_EQ(str_of(o, "reason"), "client_closed");
    EXPECT_EQ(o.size(), 10u);
    // time, level and message come first, then the fields in the order given.
    EXPECT_EQ(log.text().rfind(R"({"time":")", 0), 0u) << log.text();
    EXPECT_NE(log.text().find(R"("level":"info","message":"GET /eventsource stream closed",)"
                              R"("target":"/eventsource","stream_id":7,)"),
              std::string::npos)
        << log.text();
}

TEST(LogJson, PlainSpdlogCallsBecomeTheMessage) {
    const captured_log log("json");
    spdlog::warn("pruned {} events older than {}", 12, "20210727.091105994");
    const auto o = only_json_line(log);
    EXPECT_EQ(str_of(o, "level"), "warning");
    EXPECT_EQ(str_of(o, "message"), "pruned 12 events older than 20210727.091105994");
    EXPECT_EQ(o.size(), 3u) << o;
}

TEST(LogJson, EscapesQuotesBackslashesNewlinesAndControlCharacters) {
    const captured_log log("json");
    const std::string nasty = "say \"hi\"\\ \n\r\t\b\f\x01\x1f\x7f end";
    core::log(spdlog::level::err, nasty, {{"value", nasty}, {"key \"x\"", 1}});
    const auto lines = log.lines();
    ASSERT_EQ(lines.size(), 1u) << "a newline in a message never splits the line";
    EXPECT_NE(lines[0].find(R"("message":"say \"hi\"\\ \n\r\t\b\f\u0001\u001f)"
                            "\x7f"
                            R"( end")"),
              std::string::npos)
        << lines[0];
    const auto o = only_json_line(log);
    EXPECT_EQ(str_of(o, "message"), nasty);
    EXPECT_EQ(str_of(o, "value"), nasty);
    EXPECT_EQ(o.at("key \"x\""), boost::json::value(1));
}

TEST(LogJson, KeepsUtf8AndReplacesMalformedBytes) {
    struct row {
        std::string_view in;
        std::string_view json;
    };
    const row rows[] = {
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
         "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
        {"\xff", "\"\xef\xbf\xbd\""},                                 // never a UTF-8 byte
        {"a\xc3", "\"a\xef\xbf\xbd\""},                               // cut short
        {"\xc3(", "\"\xef\xbf\xbd(\""},                               // no continuation byte
        {"\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\""},                 // overlong '/'
        {"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, // a surrogate
        {"\xf4\x90\x80\x80",
         "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, // past U+10FFFF
        {"\x80\"", "\"\xef\xbf\xbd\\\"\""},                       // a lone continuation byte
        {"", "\"\""},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.in));
        std::string out;
        append_log_json_string(out, r.in);
        EXPECT_EQ(out, r.json);
        boost::system::error_code ec;
        boost::json::parse(out, ec);
        EXPECT_FALSE(ec) << ec.message();
    }
    const captured_log log("json");
    spdlog::info("GET /openapi/Products?q=\xff\xfe caf\xc3\xa9");
    EXPECT_EQ(str_of(only_json_line(log), "message"),
              "GET /openapi/Products?q=\xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9");
}

TEST(LogJson, WritesNonFiniteNumbersAsNull) {
    const captured_log log("json");
    core::log(spdlog::level::info, "m", {{"nan", std::numeric_limits<double>::quiet_NaN()}});
    EXPECT_TRUE(only_json_line(log).at("nan").is_null());
}

TEST(LogFormatter, WritesTheTimeInUtcWithMilliseconds) {
    // 2021-07-27T09:11:05.994Z, the RVE 20210727.091105994 of SPEC 2.
    const spdlog::log_clock::time_point at{std::chrono::milliseconds(1627377065994)};
    const spdlog::details::log_msg msg(at, spdlog::source_loc{}, "posfeed", spdlog::level::info,
                                       "hello");
    for (const std::string_view format : {"text", "json"}) {
        SCOPED_TRACE(std::string(format));
        spdlog::memory_buf_t out;
        make_log_formatter(format)->format(msg, out);
        const std::string line(out.data(), out.size());
        EXPECT_EQ(line,
                  format == "json"
                      ? R"({"time":"2021-07-27T09:11:05.994Z","level":"info","message":"hello"})"
                        "\n"
                      : "2021-07-27T09:11:05.994Z info hello\n");
    }
}

TEST(LogText, AppendsFieldsAsKeyValue) {
    const captured_log log("text");
    core::log(spdlog::level::info, "GET /eventsource stream closed",
              {{"target", "/eventsource", false},
               {"stream_id", std::uint64_t{7}},
               {"reason", "slow_consumer"},
               {"duration_ms", std::int64_t{5012}},
               {"ratio", 0.25},
               {"ok", false}});
    const auto lines = log.lines();
    ASSERT_EQ(lines.size(), 1u);
    const std::regex line(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z info GET /eventsource )"
                          R"(stream closed stream_id=7 reason=slow_consumer duration_ms=5012 )"
                          R"(ratio=0\.25 ok=false)");
    EXPECT_TRUE(std::regex_match(lines[0], line)) << lines[0];
}

TEST(LogText, QuotesValuesWithSpacesAndEscapesThem) {
    struct row {
        std::string_view value;
        std::string_view shown;
    };
    const row rows[] = {
        {"plain", "plain"},
        {"/eventsource?want=products", "\"/eventsource?want=products\""}, // `=` would mislead
        {"the session logged out", "\"the session logged out\""},
        {"", "\"\""},
        {"say \"hi\"", "\"say \\\"hi\\\"\""},
        {"back\\slash", "\"back\\\\slash\""},
        {"two\nlines", "\"two\\nlines\""},
        {"tab\there", "\"tab\\there\""},
        {"caf\xc3\xa9", "caf\xc3\xa9"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.value));
        std::string out;
        log_value(r.value).append_text(out);
        EXPECT_EQ(out, r.shown);
    }
}

TEST(LogText, PlainSpdlogCallsKeepTheirLook) {
    const captured_log log("text");
    spdlog::warn("stream of {} closed", 1);
    const auto lines = log.lines();
    ASSERT_EQ(lines.size(), 1u);
    const std::regex line(
        R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z warning stream of 1 closed)");
    EXPECT_TRUE(std::regex_match(lines[0], line)) << lines[0];
}

TEST(Log, FieldsBelongToTheirLineOnly) {
    const captured_log log("text");
    core::log(spdlog::level::info, "first", {{"a", 1}});
    spdlog::info("second");
    core::log(spdlog::level::info, "third");
    const auto lines = log.lines();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_TRUE(lines[0].ends_with(" info first a=1")) << lines[0];
    EXPECT_TRUE(lines[1].ends_with(" info second")) << lines[1];
    EXPECT_TRUE(lines[2].ends_with(" info third")) << lines[2];
}

TEST(Log, SkipsLinesBelowTheLevel) {
    const captured_log log("json", spdlog::level::info);
    EXPECT_FALSE(log_enabled(spdlog::level::debug));
    EXPECT_TRUE(log_enabled(spdlog::level::warn));
    core::log(spdlog::level::debug, "GET / 200 0.1ms", {{"status", 200, false}});
    EXPECT_EQ(log.text(), "");
    core::log(spdlog::level::warn, "w");
    EXPECT_EQ(str_of(only_json_line(log), "level"), "warning");
}

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
