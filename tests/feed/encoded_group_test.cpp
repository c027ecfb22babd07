#include "feed/encoded_group.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace posfeed::feed {
namespace {

using core::event_type;

constexpr core::rve sample_rve{1627377065994}; // 20210727.091105994

store::event ev(event_type type, std::string body, std::string location = "",
                std::string session = "") {
    return store::event{type, std::move(location), std::move(session), std::move(body)};
}

store::event_group group(std::vector<store::event> events) {
    return store::event_group{"rm1", sample_rve, std::move(events)};
}

subscription_filter want(core::type_mask mask, std::string location = "", std::string session = "",
                         packet_format fmt = packet_format::json) {
    subscription_filter f;
    f.want = mask;
    f.location = std::move(location);
    f.session = std::move(session);
    f.format = fmt;
    return f;
}

std::vector<std::string> frames(const encoded_group& g, const subscription_filter& f) {
    std::vector<std::string> out;
    g.for_each_frame(f, [&](const std::string& frame) { out.push_back(frame); });
    return out;
}

std::string frame(std::string_view type, std::string_view data) {
    return "event: " + std::string(type) + "\ndata: " + std::string(data) + "\n";
}

constexpr core::type_mask products = core::bit(event_type::products);
constexpr core::type_mask levels = core::bit(event_type::levels);
constexpr core::type_mask sales = core::bit(event_type::sales);
constexpr core::type_mask barcode = core::bit(event_type::barcode);
constexpr core::type_mask sale = core::bit(event_type::sale);
constexpr core::type_mask usermessage = core::bit(event_type::usermessage);

/// A completed sale at location 1 that lowered two stock levels (one transaction group).
store::event_group sale_group() {
    return group({ev(event_type::sales, R"({"Sid":5})", "1"),
                  ev(event_type::levels, R"({"Pid":1,"Qty":3})", "1"),
                  ev(event_type::levels, R"({"Pid":2,"Qty":0})", "1")});
}

TEST(EncodedGroup, KnowsItsRmsystemRveTypesAndIdLine) {
    const encoded_group g(sale_group());
    EXPECT_EQ(g.rmsystem(), "rm1");
    EXPECT_EQ(g.rve(), sample_rve);
    EXPECT_EQ(g.types(), sales | levels);
    EXPECT_EQ(g.id_line(), "id: 20210727.091105994\n");
}

TEST(EncodedGroup, OnePacketPerTypeHoldingEveryRecordOfThatType) {
    const encoded_group g(sale_group());
    const auto got = frames(g, want(sales | levels));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], frame("sales", R"({"Sales":[{"Sid":5,"RVE":20210727.091105994}]})"));
    EXPECT_EQ(got[1], frame("levels", R"({"Levels":[{"Pid":1,"Qty":3,"RVE":20210727.091105994},)"
                                      R"({"Pid":2,"Qty":0,"RVE":20210727.091105994}]})"));
}

TEST(EncodedGroup, SelectsFramesByWantMask) {
    const encoded_group g(
        group({ev(event_type::products, R"({"Pid":1})"), ev(event_type::customers, R"({"Cid":1})"),
               ev(event_type::products, R"({"Pid":2})")}));
    struct row {
        std::string_view name;
        core::type_mask mask;
        std::vector<std::string_view> types;
    };
    const row rows[] = {
        {"products", products, {"products"}},
        {"customers", core::bit(event_type::customers), {"customers"}},
        {"both, in group order",
         core::bit(event_type::customers) | products,
         {"products", "customers"}},
        {"other types only", levels | sales, {}},
        {"nothing", 0, {}},
        {"everything", core::all_types, {"products", "customers"}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.name));
        const auto got = frames(g, want(r.mask));
        ASSERT_EQ(got.size(), r.types.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            EXPECT_TRUE(got[i].starts_with("event: " + std::string(r.types[i]) + "\n")) << got[i];
        }
    }
}

TEST(EncodedGroup, EachFrameIsEventAndOneDataLine) {
    const encoded_group g(group({ev(event_type::usermessage, R"({"Text":"a\nb"})", "", "s1")}));
    for (const auto fmt : {packet_format::json, packet_format::xml}) {
        const auto got = frames(g, want(usermessage, "", "s1", fmt));
        ASSERT_EQ(got.size(), 1u);
        const std::string& f = got[0];
        EXPECT_TRUE(f.starts_with("event: usermessage\ndata: ")) << f;
        EXPECT_TRUE(f.ends_with("\n"));
        EXPECT_EQ(std::count(f.begin(), f.end(), '\n'), 2) << f;
    }
}

TEST(EncodedGroup, EncodesTheFormatAskedFor) {
    const encoded_group g(group({ev(event_type::products, R"({"Pid":6017})")}));
    EXPECT_EQ(frames(g, want(products, "", "", packet_format::json)),
              std::vector<std::string>{
                  frame("products", R"({"Products":[{"Pid":6017,"RVE":20210727.091105994}]})")});
    EXPECT_EQ(frames(g, want(products, "", "", packet_format::xml)),
              std::vector<std::string>{
                  frame("products",
                        "<Products><Product><Pid>6017</Pid><RVE>20210727.091105994</RVE></Product>"
                        "</Products>")});
}

TEST(EncodedGroup, SplitsRecordsAtSeveralLocationsForLocationFilters) {
    const encoded_group g(group({ev(event_type::levels, R"({"Pid":1,"Location":1})", "1"),
                                 ev(event_type::levels, R"({"Pid":1,"Location":2})", "2"),
                                 ev(event_type::levels, R"({"Pid":2,"Location":1})", "1")}));
    struct row {
        std::string_view location;
        std::vector<std::string> frames;
    };
    const row rows[] = {
        {"",
         {frame("levels", R"({"Levels":[{"Pid":1,"Location":1,"RVE":20210727.091105994},)"
                          R"({"Pid":1,"Location":2,"RVE":20210727.091105994},)"
                          R"({"Pid":2,"Location":1,"RVE":20210727.091105994}]})")}},
        {"1",
         {frame("levels", R"({"Levels":[{"Pid":1,"Location":1,"RVE":20210727.091105994},)"
                          R"({"Pid":2,"Location":1,"RVE":20210727.091105994}]})")}},
        {"2", {frame("levels", R"({"Levels":[{"Pid":1,"Location":2,"RVE":20210727.091105994}]})")}},
        {"3", {}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.location));
        EXPECT_EQ(frames(g, want(levels, std::string(r.location))), r.frames);
    }
}

TEST(EncodedGroup, SingleLocationGroupSendsTheWholePacketToThatLocation) {
    const encoded_group g(sale_group());
    const auto all = frames(g, want(sales | levels));
    EXPECT_EQ(frames(g, want(sales | levels, "1")), all);
    EXPECT_TRUE(frames(g, want(sales | levels, "2")).empty());
}

TEST(EncodedGroup, LocationFilterAppliesOnlyToLocationTypes) {
    const encoded_group g(group({ev(event_type::products, R"({"Pid":1})"),
                                 ev(event_type::barcode, R"({"RawScan":"1"})", "7"),
                                 ev(event_type::sales, R"({"Sid":1})", "8")}));
    const auto got = frames(g, want(products | barcode | sales, "7"));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_TRUE(got[0].starts_with("event: products\n")) << "products have no location";
    EXPECT_TRUE(got[1].starts_with("event: barcode\n"));
}

TEST(EncodedGroup, RecordsWithoutLocationAreNotSentTwiceToUnfilteredSubscribers) {
    // A location type with records at a location and records without one: an unfiltered
    // subscriber must receive one packet with every record, not that packet plus the
    // per-location packet of location "" (which looks like a whole packet to selects()).
    const encoded_group g(group(
        {ev(event_type::levels, R"({"Pid":1})", "1"), ev(event_type::levels, R"({"Pid":2})", "")}));
    const auto got = frames(g, want(levels));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], frame("levels", R"({"Levels":[{"Pid":1,"RVE":20210727.091105994},)"
                                      R"({"Pid":2,"RVE":20210727.091105994}]})"));
}

TEST(EncodedGroup, BarcodeWithoutSessionHasOwnerTwoForEveryone) {
    const encoded_group g(group({ev(event_type::barcode, R"({"RawScan":"4006381333931"})", "7")}));
    const std::string expected =
        frame("barcode",
              R"({"Barcode":[{"RawScan":"4006381333931","Owner":2,"RVE":20210727.091105994}]})");
    for (const auto& session : {"", "sA"}) {
        SCOPED_TRACE(session);
        EXPECT_EQ(frames(g, want(barcode, "", session)), std::vector<std::string>{expected});
        EXPECT_EQ(frames(g, want(barcode, "7", session)), std::vector<std::string>{expected});
        EXPECT_TRUE(frames(g, want(barcode, "8", session)).empty());
    }
}

TEST(EncodedGroup, BarcodeAimedAtASessionHasOwnerOneThereAndZeroElsewhere) {
    const auto scan = group({ev(event_type::barcode, R"({"RawScan":"x"})", "7", "sA")});
    struct row {
        std::string_view name;
        int watchers; ///< barcode subscribers of sA; 0 = no watcher_count given
        std::string_view session;
        int owner;
    };
    const row rows[] = {
        {"sole watcher", 1, "sA", 1},     {"default count", 0, "sA", 1},
        {"several watchers", 3, "sA", 2}, {"another session", 1, "sB", 0},
        {"no session", 1, "", 0},         {"another session, several watchers", 3, "sB", 0},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.name));
        const encoded_group g = r.watchers == 0
                                    ? encoded_group(scan)
                                    : encoded_group(scan, [&](const std::string& session) {
                                          EXPECT_EQ(session, "sA");
                                          return r.watchers;
                                      });
        const auto got = frames(g, want(barcode, "", std::string(r.session)));
        ASSERT_EQ(got.size(), 1u);
        EXPECT_EQ(got[0], frame("barcode", R"({"Barcode":[{"RawScan":"x","Owner":)" +
                                               std::to_string(r.owner) +
                                               R"(,"RVE":20210727.091105994}]})"));
    }
}

TEST(EncodedGroup, EachBarcodeScanGetsItsOwnPacket) {
    const encoded_group g(group({ev(event_type::barcode, R"({"RawScan":"1"})", "7", "sA"),
                                 ev(event_type::barcode, R"({"RawScan":"2"})", "8")}));
    const auto mine = frames(g, want(barcode, "", "sA"));
    ASSERT_EQ(mine.size(), 2u);
    EXPECT_NE(mine[0].find(R"("RawScan":"1","Owner":1)"), std::string::npos) << mine[0];
    EXPECT_NE(mine[1].find(R"("RawScan":"2","Owner":2)"), std::string::npos) << mine[1];
    const auto at8 = frames(g, want(barcode, "8"));
    ASSERT_EQ(at8.size(), 1u);
    EXPECT_NE(at8[0].find(R"("RawScan":"2")"), std::string::npos) << at8[0];
}

TEST(EncodedGroup, ForEachPacketReportsTheType) {
    const encoded_group g(sale_group());
    std::vector<event_type> types;
    g.for_each_packet(want(sales | levels), [&](event_type t, const std::string& f) {
        types.push_back(t);
        EXPECT_TRUE(f.starts_with("event: " + std::string(core::to_string(t)) + "\n"));
    });
    EXPECT_EQ(types, (std::vector<event_type>{event_type::sales, event_type::levels}));
}

TEST(EncodedGroup, SessionScopedTypesGoOnlyToTheMatchingSession) {
    const encoded_group g(group({ev(event_type::sale, R"({"Sid":1})", "", "sA"),
                                 ev(event_type::sale, R"({"Sid":2})", "", "sB"),
                                 ev(event_type::usermessage, R"({"Id":1})", "", "sA"),
                                 ev(event_type::sale, R"({"Sid":3})", "", "sA")}));
    struct row {
        std::string_view session;
        core::type_mask mask;
        std::vector<std::string> frames;
    };
    const row rows[] = {
        {"sA",
         sale | usermessage,
         {frame("sale", R"({"Sale":[{"Sid":1,"RVE":20210727.091105994},)"
                        R"({"Sid":3,"RVE":20210727.091105994}]})"),
          frame("usermessage", R"({"UserMessage":[{"Id":1,"RVE":20210727.091105994}]})")}},
        {"sB",
         sale | usermessage,
         {frame("sale", R"({"Sale":[{"Sid":2,"RVE":20210727.091105994}]})")}},
        {"sA",
         usermessage,
         {frame("usermessage", R"({"UserMessage":[{"Id":1,"RVE":20210727.091105994}]})")}},
        {"sC", sale | usermessage, {}},
        {"", sale | usermessage, {}},
        {"sa", sale, {}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.session) + " " + std::to_string(r.mask));
        EXPECT_EQ(frames(g, want(r.mask, "", std::string(r.session))), r.frames);
    }
}

TEST(EncodedGroup, SessionEventsIgnoreTheLocationFilter) {
    const encoded_group g(group({ev(event_type::sale, R"({"Sid":1})", "", "sA")}));
    EXPECT_EQ(frames(g, want(sale, "3", "sA")).size(), 1u);
}

TEST(EncodedGroup, SessionEventWithoutSessionIsNeverDelivered) {
    const encoded_group g(group({ev(event_type::userprompt, R"({"PromptId":1})", "", "")}));
    EXPECT_TRUE(frames(g, want(core::all_types)).empty());
    EXPECT_TRUE(frames(g, want(core::all_types, "", "sA")).empty());
}

TEST(EncodedGroup, BytesForCountsFramesBlankLinesAndTheIdLine) {
    const encoded_group g(sale_group());
    struct row {
        std::string_view name;
        subscription_filter filter;
    };
    const row rows[] = {
        {"everything json", want(sales | levels)},
        {"everything xml", want(sales | levels, "", "", packet_format::xml)},
        {"one type", want(levels)},
        {"matching location", want(levels, "1")},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.name));
        // What the stream writes: each frame ended by a blank line, and the id line once.
        std::string written = g.id_line();
        const auto got = frames(g, r.filter);
        ASSERT_FALSE(got.empty());
        for (const auto& f : got) {
            written += f;
            written += "\n";
        }
        EXPECT_EQ(g.bytes_for(r.filter), written.size());
    }
}

TEST(EncodedGroup, BytesForIsZeroWhenNothingIsSelected) {
    const encoded_group g(sale_group());
    EXPECT_EQ(g.bytes_for(want(products)), 0u);
    EXPECT_EQ(g.bytes_for(want(levels, "9")), 0u);
    EXPECT_EQ(g.bytes_for(want(0)), 0u);
}

TEST(EncodedGroup, EmptyGroupSelectsNothing) {
    const encoded_group g(group({}));
    EXPECT_EQ(g.types(), 0u);
    EXPECT_TRUE(frames(g, want(core::all_types, "", "sA")).empty());
    EXPECT_EQ(g.bytes_for(want(core::all_types)), 0u);
}

} // namespace
} // namespace posfeed::feed
