#include "core/rve.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace posfeed::core {
namespace {

/// Milliseconds since the epoch of a UTC date-time, computed independently of rve.cpp.
std::int64_t utc_ms(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int ms = 0) {
    const auto day =
        std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{mo} / std::chrono::day{d}};
    return std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch()).count() +
           ((h * 60LL + mi) * 60 + s) * 1000 + ms;
}

/// A clock the test steps by hand.
struct manual_clock {
    std::int64_t now = 0;
    clock_fn fn() {
        return [this] { return now; };
    }
};

TEST(Rve, FormatsAsDateDotNineDigits) {
    struct row {
        std::int64_t ms;
        std::string_view text;
    };
    const row rows[] = {
        {utc_ms(2021, 7, 27, 9, 11, 5, 994), "20210727.091105994"},
        {utc_ms(1970, 1, 1, 0, 0, 0, 1), "19700101.000000001"},
        {utc_ms(2000, 2, 29, 23, 59, 59, 999), "20000229.235959999"},
        {utc_ms(2024, 12, 31, 0, 0, 0, 0), "20241231.000000000"},
        {utc_ms(2021, 1, 2, 3, 4, 5, 60), "20210102.030405060"},
        {max_rve_ms, "99991231.235959999"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.text);
        EXPECT_EQ(rve{r.ms}.str(), r.text);
        EXPECT_EQ(rve{r.ms}.str().size(), 18u);
    }
}

TEST(Rve, ZeroAndNegativeFormatAsZero) {
    EXPECT_EQ(rve{0}.str(), "0");
    EXPECT_EQ(rve{}.str(), "0");
    EXPECT_EQ(rve{-5}.str(), "0");
}

TEST(Rve, AppendToAppendsWithoutTouchingExistingText) {
    std::string out = "id: ";
    rve{utc_ms(2021, 7, 27, 9, 11, 5, 994)}.append_to(out);
    EXPECT_EQ(out, "id: 20210727.091105994");
    out = std::string(1, 'x'); // not `= "x"`: GCC 12 -O3 reports a false -Wrestrict
    rve{0}.append_to(out);
    EXPECT_EQ(out, "x0");
}

TEST(Rve, ParsesWhatItFormats) {
    const std::int64_t samples[] = {1,
                                    999,
                                    utc_ms(2021, 7, 27, 9, 11, 5, 994),
                                    utc_ms(2000, 2, 29, 12, 0, 0, 0),
                                    utc_ms(2038, 1, 19, 3, 14, 8, 0),
                                    utc_ms(2100, 3, 1),
                                    max_rve_ms};
    for (const auto ms : samples) {
        const rve v{ms};
        SCOPED_TRACE(v.str());
        const auto parsed = parse_rve(v.str());
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(*parsed, v);
    }
}

TEST(Rve, ParsesZeroAsTheBeginning) {
    const auto parsed = parse_rve("0");
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->ms, 0);
}

TEST(Rve, ParsesOneToNineDecimalsPaddingMissingDigitsWithZeros) {
    struct row {
        std::string_view text;
        std::int64_t ms;
    };
    const row rows[] = {
        {"20210727.0", utc_ms(2021, 7, 27, 0)},
        {"20210727.09", utc_ms(2021, 7, 27, 9)},
        {"20210727.091", utc_ms(2021, 7, 27, 9, 10)},
        {"20210727.0911", utc_ms(2021, 7, 27, 9, 11)},
        {"20210727.09110", utc_ms(2021, 7, 27, 9, 11, 0)},
        {"20210727.091105", utc_ms(2021, 7, 27, 9, 11, 5)},
        {"20210727.0911059", utc_ms(2021, 7, 27, 9, 11, 5, 900)},
        {"20210727.09110599", utc_ms(2021, 7, 27, 9, 11, 5, 990)},
        {"20210727.091105994", utc_ms(2021, 7, 27, 9, 11, 5, 994)},
        // A client that kept the JSON number literal with its trailing zeros dropped.
        {"20210727.0911", utc_ms(2021, 7, 27, 9, 11)},
        {"20210727.1", utc_ms(2021, 7, 27, 10)},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.text);
        const auto parsed = parse_rve(r.text);
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(parsed->ms, r.ms);
    }
}

TEST(Rve, ParsesCalendarEdges) {
    const std::string_view ok[] = {
        "20000229.000000000", // divisible by 400: leap
        "20240229.120000000", // divisible by 4: leap
        "20211231.235959999", // last millisecond of a year
        "20210430.000000000", // 30-day month
        "19700101.000000001", // first representable instant
    };
    for (const auto text : ok) {
        SCOPED_TRACE(text);
        EXPECT_TRUE(parse_rve(text).has_value());
    }
}

TEST(Rve, RejectsMalformedOrImpossibleText) {
    const std::string_view bad[] = {
        "",
        " ",
        "00",
        "-1",
        "1",
        "20210727",             // no time part
        "20210727.",            // no decimals
        "20210727.0911059940",  // 10 decimals
        "20210727.09110599412", // 11 decimals
        "202107270.91105994",   // dot in the wrong place
        "2021072.7091105994",   // dot in the wrong place
        "20210727091105994",    // no dot
        "20210727,091105994",   // comma instead of dot
        "20211327.091105994",   // month 13
        "20210027.091105994",   // month 0
        "20210230.091105994",   // Feb 30
        "20230229.000000000",   // Feb 29 in a common year
        "19000229.000000000",   // 1900 was not a leap year
        "20210431.000000000",   // April 31
        "20210700.091105994",   // day 0
        "20210732.091105994",   // day 32
        "20210727.241105994",   // hour 24
        "20210727.096005994",   // minute 60
        "20210727.091160994",   // second 60
        "2021O727.091105994",   // letter O for zero
        "20210727.09110599a",   // letter in decimals
        "2021-07-27.091105994", // separators in the date
        "20210727.09:11:05",    // separators in the time
        " 20210727.091105994",  // leading space
        "20210727.091105994 ",  // trailing space
        "20210727.09110599 ",   // trailing space within the length limit
        "20210727 .091105994",  // inner space
        "\t20210727.091105994", // tab
        "20210727.091105994\n", // newline
        "+20210727.09110599",   // sign
        "20210727.-91105994",   // sign in the decimals
        "0.0",                  // zero with decimals
        "19691231.235959999",   // before the epoch
    };
    for (const auto text : bad) {
        SCOPED_TRACE(std::string(text));
        EXPECT_FALSE(parse_rve(text).has_value());
    }
    const std::string with_nul("20210727.09110599\0", 18);
    EXPECT_FALSE(parse_rve(with_nul).has_value());
}

TEST(Rve, OrdersByInstant) {
    EXPECT_LT(rve{1}, rve{2});
    EXPECT_EQ(rve{5}, rve{5});
    EXPECT_LT(*parse_rve("20210727.091105993"), *parse_rve("20210727.091105994"));
    EXPECT_LT(*parse_rve("20210727.235959999"), *parse_rve("20210728.0"));
}

TEST(RveClock, UsesTheWallClockWhenItIsAhead) {
    manual_clock c{utc_ms(2021, 7, 27, 9, 11, 5, 994)};
    const rve_clock clock(c.fn());
    EXPECT_EQ(clock.next(rve{0}).ms, c.now);
    EXPECT_EQ(clock.next(rve{c.now - 1000}).ms, c.now);
}

TEST(RveClock, StaysStrictlyIncreasingInABurst) {
    // More than 1000 commits within one millisecond and within one second.
    manual_clock c{utc_ms(2021, 7, 27, 9, 11, 5, 0)};
    const std::int64_t start = c.now;
    const rve_clock clock(c.fn());
    rve previous{0};
    for (int i = 0; i < 5000; ++i) {
        if (i % 10 == 9) {
            ++c.now; // the wall clock creeps forward by 1 ms every 10 commits
        }
        const rve next = clock.next(previous);
        ASSERT_GT(next, previous) << "commit " << i;
        previous = next;
    }
    EXPECT_EQ(previous.ms, start + 4999);
    EXPECT_GT(previous.ms, c.now) << "a burst runs ahead of the wall clock";
}

TEST(RveClock, StaysStrictlyIncreasingWhenTheClockIsFrozen) {
    manual_clock c{utc_ms(2021, 7, 27)};
    const rve_clock clock(c.fn());
    rve previous = clock.next(rve{0});
    for (int i = 0; i < 1500; ++i) {
        const rve next = clock.next(previous);
        ASSERT_EQ(next.ms, previous.ms + 1);
        previous = next;
    }
    EXPECT_EQ(previous.ms, c.now + 1500);
}

TEST(RveClock, CatchesUpWithTheWallClockAfterABurst) {
    manual_clock c{utc_ms(2021, 7, 27)};
    const rve_clock clock(c.fn());
    rve previous{0};
    for (int i = 0; i < 2000; ++i) {
        previous = clock.next(previous);
    }
    ASSERT_GT(previous.ms, c.now);
    c.now += 10000;
    EXPECT_EQ(clock.next(previous).ms, c.now);
}

TEST(RveClock, NeverReordersWhenTheClockStepsBackwards) {
    manual_clock c{utc_ms(2021, 7, 27, 12)};
    const rve_clock clock(c.fn());
    const std::int64_t steps[] = {0, -1, -1000, -3600000, 5, -86400000, 0};
    rve previous = clock.next(rve{0});
    for (const auto step : steps) {
        SCOPED_TRACE(step);
        c.now += step;
        const rve next = clock.next(previous);
        EXPECT_GT(next, previous);
        EXPECT_EQ(next.ms, std::max(c.now, previous.ms + 1));
        previous = next;
    }
}

TEST(RveClock, ContinuesFromAStoredPreviousValueAfterRestart) {
    // The process restarts with a clock that is behind the stored last RVE (e.g. after an
    // NTP correction): the new clock still continues after the stored value.
    const rve stored{utc_ms(2021, 7, 27, 9, 11, 5, 994)};
    manual_clock c{stored.ms - 60000};
    const rve_clock restarted(c.fn());
    const rve next = restarted.next(stored);
    EXPECT_EQ(next.ms, stored.ms + 1);
    EXPECT_EQ(next.str(), "20210727.091105995");
}

TEST(RveClock, SystemClockIsAPlausibleNow) {
    const std::int64_t now = system_now_ms();
    EXPECT_GT(now, utc_ms(2020, 1, 1));
    EXPECT_LT(now, max_rve_ms);
    const rve_clock clock;
    const rve a = clock.next(rve{0});
    EXPECT_GT(clock.next(a), a);
}

} // namespace
} // namespace posfeed::core
