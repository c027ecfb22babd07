#include "rve.hpp"

#include <gtest/gtest.h>

#include <string>

namespace posfeed::client {
namespace {

TEST(CompareRve, OrdersNumericallyByIntegerThenFraction) {
    struct row {
        std::string a;
        std::string b;
        std::strong_ordering expected;
    };
    const row rows[] = {
        {"0", "20210727.091105994", std::strong_ordering::less},
        {"0", "0", std::strong_ordering::equal},
        {"20210727.091105994", "20210727.091105994", std::strong_ordering::equal},
        {"20210727.091105994", "20210727.091105995", std::strong_ordering::less},
        {"20210728.000000000", "20210727.999999999", std::strong_ordering::greater},
        {"20210727.09110599", "20210727.091105990", std::strong_ordering::equal},
        {"20210727.0911", "20210727.091105990", std::strong_ordering::less},
        {"20210727", "20210727.000000000", std::strong_ordering::equal},
        {"020210727.1", "20210727.1", std::strong_ordering::equal},
        {"9.5", "10.1", std::strong_ordering::less},
        {"20991231.235959999", "20210727.091105994", std::strong_ordering::greater},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.a + " vs " + r.b);
        EXPECT_EQ(compare_rve(r.a, r.b), r.expected);
        const auto reverse =
            r.expected == std::strong_ordering::less      ? std::strong_ordering::greater
            : r.expected == std::strong_ordering::greater ? std::strong_ordering::less
                                                          : std::strong_ordering::equal;
        EXPECT_EQ(compare_rve(r.b, r.a), reverse);
    }
}

TEST(PacketRve, FindsTheFirstRveOfAJsonOrXmlPacket) {
    struct row {
        std::string data;
        std::string expected;
    };
    const row rows[] = {
        {R"({"Products":[{"Pid":1,"RVE":20210727.091105994}]})", "20210727.091105994"},
        {R"({"Levels":[{"Pid":1,"RVE":20210727.091105994},{"Pid":2,"RVE":20210727.091105994}]})",
         "20210727.091105994"},
        {R"({"Ready":[{"RVE":0,"Want":[]}]})", "0"},
        {R"({"X":[{"RVE": 20210727.091105994}]})", "20210727.091105994"},
        {"<Products><Product><Pid>1</Pid><RVE>20210727.091105994</RVE></Product></Products>",
         "20210727.091105994"},
        // A description that looks like the other format is not mistaken for the RVE.
        {R"({"Products":[{"Description":"<RVE>1</RVE>","RVE":20210727.091105994}]})",
         "20210727.091105994"},
        {R"({"Products":[{"Description":"\"RVE\":5","RVE":20210727.091105994}]})",
         "20210727.091105994"},
        {"<Products><Product><Description>\"RVE\":5</Description><RVE>20210727.091105994</RVE>"
         "</Product></Products>",
         "20210727.091105994"},
        {R"({"Products":[]})", ""},
        {"<Products><RVE>1", ""},
        {"", ""},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.data);
        EXPECT_EQ(packet_rve(r.data), r.expected);
    }
}

} // namespace
} // namespace posfeed::client
