#include "sse_parser.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace posfeed::client {
namespace {

struct expected_event {
    std::string type;
    std::string data;
    std::string last_event_id;
    bool operator==(const expected_event&) const = default;
};

void PrintTo(const expected_event& e, std::ostream* os) {
    *os << "{type=" << testing::PrintToString(e.type) << " data=" << testing::PrintToString(e.data)
        << " lastEventId=" << testing::PrintToString(e.last_event_id) << "}";
}

/// One case of clients/conformance/sse-cases.json.
struct conformance_case {
    std::string name;
    std::vector<std::string> chunks; // raw bytes
    std::vector<expected_event> events;
    std::optional<std::vector<std::uint64_t>> retry;
    std::string load_error; // set when the file could not be read
};

// The test name already says which case this is; without this gtest prints its bytes.
void PrintTo(const conformance_case& c, std::ostream* os) {
    *os << c.name;
}

std::string from_hex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

std::vector<conformance_case> load_cases() {
    std::ifstream in(POSFEED_SSE_CASES, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(text.str(), ec);
    if (!in || ec || !doc.is_object() || !doc.as_object().contains("cases")) {
        conformance_case failed;
        failed.name = "load";
        failed.load_error = "cannot read " POSFEED_SSE_CASES;
        return {failed};
    }
    std::vector<conformance_case> cases;
    for (const auto& v : doc.at("cases").as_array()) {
        const auto& o = v.as_object();
        conformance_case c;
        c.name = o.at("name").as_string();
        if (const auto* chunks = o.if_contains("chunks")) {
            for (const auto& s : chunks->as_array()) {
                c.chunks.emplace_back(s.as_string());
            }
        } else if (const auto* hex = o.if_contains("hex")) {
            c.chunks.push_back(from_hex(hex->as_string()));
        } else if (const auto* hex_chunks = o.if_contains("hexChunks")) {
            for (const auto& s : hex_chunks->as_array()) {
                c.chunks.push_back(from_hex(s.as_string()));
            }
        } else {
            c.load_error = "case has no chunks, hex or hexChunks";
        }
        for (const auto& e : o.at("events").as_array()) {
            c.events.push_back(expected_event{std::string(e.at("type").as_string()),
                                              std::string(e.at("data").as_string()),
                                              std::string(e.at("lastEventId").as_string())});
        }
        if (const auto* retry = o.if_contains("retry")) {
            c.retry.emplace();
            for (const auto& r : retry->as_array()) {
                c.retry->push_back(r.to_number<std::uint64_t>());
            }
        }
        cases.push_back(std::move(c));
    }
    return cases;
}

struct parsed {
    std::vector<expected_event> events;
    std::vector<std::uint64_t> retry;
};

parsed parse_chunks(const std::vector<std::string>& chunks) {
    parsed out;
    sse_parser p(
        [&](const sse_event& e) {
            out.events.push_back(expected_event{std::string(e.type), std::string(e.data),
                                                std::string(e.last_event_id)});
        },
        [&](std::uint64_t ms) { out.retry.push_back(ms); });
    for (const auto& c : chunks) {
        p.feed(c);
    }
    return out;
}

std::string case_test_name(const testing::TestParamInfo<conformance_case>& info) {
    std::string name = std::to_string(info.index) + "_";
    for (const char c : info.param.name) {
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    }
    return name;
}

class SseConformance : public testing::TestWithParam<conformance_case> {};

TEST_P(SseConformance, GivenChunksWholeAndByteAtATimeAgree) {
    const conformance_case& c = GetParam();
    ASSERT_EQ(c.load_error, "");
    std::string whole;
    for (const auto& chunk : c.chunks) {
        whole += chunk;
    }
    std::vector<std::string> bytes;
    for (const char b : whole) {
        bytes.emplace_back(1, b);
    }
    const std::vector<std::pair<const char*, std::vector<std::string>>> ways = {
        {"given chunks", c.chunks}, {"whole", {whole}}, {"byte at a time", bytes}};
    for (const auto& [how, chunks] : ways) {
        SCOPED_TRACE(how);
        const parsed got = parse_chunks(chunks);
        EXPECT_EQ(got.events, c.events);
        if (c.retry) {
            EXPECT_EQ(got.retry, *c.retry);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, SseConformance, testing::ValuesIn(load_cases()), case_test_name);

TEST(SseParser, ReportsWhetherTheEventItselfCarriedAnId) {
    std::vector<std::pair<std::string, bool>> seen;
    sse_parser p(
        [&](const sse_event& e) { seen.emplace_back(std::string(e.last_event_id), e.has_id); });
    using namespace std::string_literals;
    p.feed("data: a\n\nid: 5\ndata: b\n\ndata: c\n\nid: 6\n\ndata: d\n\nid: 7\0x\ndata: e\n\n"s);
    const std::vector<std::pair<std::string, bool>> expected = {
        {"", false}, {"5", true}, {"5", false}, {"6", false}, {"6", false}};
    EXPECT_EQ(seen, expected);
}

TEST(SseParser, ResetStartsANewStreamWithItsOwnBom) {
    std::vector<std::string> data;
    sse_parser p([&](const sse_event& e) { data.emplace_back(e.data); });
    p.feed("\xEF\xBB\xBF"
           "data: a\n\ndata: partial");
    p.reset();
    EXPECT_EQ(p.last_event_id(), "");
    p.feed("\xEF\xBB\xBF"
           "data: b\n\n");
    EXPECT_EQ(data, (std::vector<std::string>{"a", "b"}));
}

TEST(SseParser, InvalidUtf8FollowsTheEncodingStandard) {
    const std::string fffd = "\xEF\xBF\xBD";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"\xC0\xAF", fffd + fffd},                       // overlong: C0 is never valid
        {"\xE0\x80\x80", fffd + fffd + fffd},            // E0 needs A0..BF next
        {"\xED\xA0\x80", fffd + fffd + fffd},            // surrogates
        {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd}, // above U+10FFFF
        {"\xE2\x82", fffd},                              // truncated by the line end
        {"\xE2\x82x", fffd + "x"},                       // the breaking byte is read again
        {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},        // U+1F600 kept
        {"\xFF\xFE", fffd + fffd},
    };
    for (const auto& [input, expected] : cases) {
        SCOPED_TRACE(testing::PrintToString(input));
        std::string got;
        sse_parser p([&](const sse_event& e) { got = e.data; });
        for (const char b : "data: " + input + "\n\n") {
            p.feed(std::string_view(&b, 1));
        }
        EXPECT_EQ(got, expected);
    }
}

TEST(SseParser, RetrySaturatesInsteadOfOverflowing) {
    std::vector<std::uint64_t> retry;
    sse_parser p({}, [&](std::uint64_t ms) { retry.push_back(ms); });
    p.feed("retry: 99999999999999999999999\nretry:\n\n");
    EXPECT_EQ(retry, (std::vector<std::uint64_t>{UINT64_MAX}));
}

TEST(SseParser, FailsPastTheBufferBoundAndIgnoresTheRest) {
    int events = 0;
    sse_parser p([&](const sse_event&) { ++events; }, {}, 64);
    p.feed("data: short\n\n");
    EXPECT_FALSE(p.failed());
    p.feed("data: " + std::string(100, 'x') + "\n\ndata: after\n\n");
    EXPECT_TRUE(p.failed());
    EXPECT_EQ(events, 1);
    p.reset();
    EXPECT_FALSE(p.failed());
}

TEST(SseParser, ManyDataLinesPastTheBoundFail) {
    sse_parser p([](const sse_event&) {}, {}, 64);
    for (int i = 0; i < 40 && !p.failed(); ++i) {
        p.feed("data: 0123456789\n");
    }
    EXPECT_TRUE(p.failed());
}

} // namespace
} // namespace posfeed::client
