#include "feed/sse.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace posfeed::feed {
namespace {

/// A minimal WHATWG event-stream parser for one event: returns the data buffer the browser
/// would dispatch (data lines joined with LF) and the event type.
struct parsed_event {
    std::string type;
    std::string data;
    std::string id;
    bool dispatched = false;
};

parsed_event parse_one(std::string_view stream) {
    parsed_event ev;
    std::string data;
    bool has_data = false;
    while (!stream.empty()) {
        const auto eol = stream.find('\n'); // our writer only ever ends lines with LF
        const std::string_view line = stream.substr(0, eol);
        stream = eol == std::string_view::npos ? std::string_view() : stream.substr(eol + 1);
        if (line.empty()) {
            if (has_data) {
                ev.data = data.substr(0, data.size() - 1);
                ev.dispatched = true;
            }
            return ev;
        }
        if (line.front() == ':') {
            continue;
        }
        const auto colon = line.find(':');
        const std::string_view field = line.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
        if (value.starts_with(' ')) {
            value.remove_prefix(1);
        }
        if (field == "data") {
            data.append(value).push_back('\n');
            has_data = true;
        } else if (field == "event") {
            ev.type = value;
        } else if (field == "id") {
            ev.id = value;
        }
    }
    return ev;
}

TEST(Sse, FormatsASingleLineEvent) {
    EXPECT_EQ(format_event("products", R"({"Products":[]})"),
              "event: products\ndata: {\"Products\":[]}\n\n");
}

TEST(Sse, SplitsMultiLineDataAtEveryKindOfLineEnd) {
    struct row {
        std::string_view name;
        std::string_view data;
        std::string_view fields;
    };
    const row rows[] = {
        {"LF", "a\nb", "data: a\ndata: b\n"},
        {"CRLF", "a\r\nb", "data: a\ndata: b\n"},
        {"CR", "a\rb", "data: a\ndata: b\n"},
        {"mixed", "a\nb\r\nc\rd", "data: a\ndata: b\ndata: c\ndata: d\n"},
        {"LF CR is two line ends", "a\n\rb", "data: a\ndata: \ndata: b\n"},
        {"CR CR", "a\r\rb", "data: a\ndata: \ndata: b\n"},
        {"blank line inside", "a\n\nb", "data: a\ndata: \ndata: b\n"},
        {"trailing LF", "a\n", "data: a\ndata: \n"},
        {"trailing CRLF", "a\r\n", "data: a\ndata: \n"},
        {"trailing CR", "a\r", "data: a\ndata: \n"},
        {"leading LF", "\na", "data: \ndata: a\n"},
        {"only LF", "\n", "data: \ndata: \n"},
        {"empty", "", "data: \n"},
        {"no newline", "plain", "data: plain\n"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.name));
        std::string out;
        append_event_fields(out, "", r.data);
        EXPECT_EQ(out, r.fields);
    }
}

TEST(Sse, BrowserReassemblesTheDataWithLineFeeds) {
    struct row {
        std::string_view data;
        std::string_view seen; ///< what EventSource's MessageEvent.data holds
    };
    const row rows[] = {
        {"one line", "one line"},
        {"a\nb", "a\nb"},
        {"a\r\nb", "a\nb"},
        {"a\rb", "a\nb"},
        {"a\n", "a\n"},
        {"a\n\n", "a\n\n"},
        {"", ""},
        {"\r\n\r\n", "\n\n"},
        {": not a comment", ": not a comment"},
        {"data: nested", "data: nested"},
        {" leading space", " leading space"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.data));
        const auto ev = parse_one(format_event("x", r.data));
        ASSERT_TRUE(ev.dispatched);
        EXPECT_EQ(ev.type, "x");
        EXPECT_EQ(ev.data, r.seen);
    }
}

TEST(Sse, NoLineOfTheEventIsBlankBeforeItsEnd) {
    // A blank line would end the event early; data with blank lines must still be one event.
    const std::string out = format_event("x", "a\n\n\nb\r\n\r\nc", "20210727.091105994");
    const auto end = out.find("\n\n");
    EXPECT_EQ(end, out.size() - 2);
}

TEST(Sse, OmitsTheEventLineForAnEmptyType) {
    EXPECT_EQ(format_event("", "x"), "data: x\n\n");
}

TEST(Sse, AppendsFieldsWithoutTheBlankLine) {
    std::string out = "retry: 1\n\n";
    append_event_fields(out, "levels", "{}");
    EXPECT_EQ(out, "retry: 1\n\nevent: levels\ndata: {}\n");
}

TEST(Sse, PutsTheIdLineFirstAsInTheSpecFraming) {
    // SPEC 3: `id: <RVE>` / `event: <type>` / `data: <packet>` / blank line.
    EXPECT_EQ(format_event("products", "{}", "20210727.091105994"),
              "id: 20210727.091105994\nevent: products\ndata: {}\n\n");
    const auto ev = parse_one(format_event("products", "a\nb", "20210727.091105994"));
    ASSERT_TRUE(ev.dispatched);
    EXPECT_EQ(ev.id, "20210727.091105994");
    EXPECT_EQ(ev.data, "a\nb");
}

TEST(Sse, SendsNoIdLineForAnEmptyId) {
    EXPECT_EQ(format_event("ready", "{}", ""), "event: ready\ndata: {}\n\n");
}

TEST(Sse, FormatsIdLine) {
    EXPECT_EQ(id_line("20210727.091105994"), "id: 20210727.091105994\n");
    EXPECT_EQ(id_line("0"), "id: 0\n");
}

TEST(Sse, FormatsCommentsThatDispatchNothing) {
    EXPECT_EQ(comment("keepalive"), ": keepalive\n\n");
    EXPECT_EQ(comment(""), ": \n\n");
    EXPECT_FALSE(parse_one(comment("keepalive")).dispatched);
}

TEST(Sse, FormatsRetry) {
    struct row {
        int ms;
        std::string_view text;
    };
    const row rows[] = {
        {3000, "retry: 3000\n\n"}, {0, "retry: 0\n\n"}, {15000, "retry: 15000\n\n"}};
    for (const auto& r : rows) {
        SCOPED_TRACE(r.ms);
        EXPECT_EQ(retry_field(r.ms), r.text);
    }
}

} // namespace
} // namespace posfeed::feed
