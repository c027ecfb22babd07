#include "feed/control_packets.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace posfeed::feed {
namespace {

constexpr core::rve at{1627377065994}; // 20210727.091105994

TEST(ControlPackets, ReadyNamesTheRveAsALiteralAndTheWantsAsAsked) {
    const std::vector want{core::event_type::levels, core::event_type::products};
    EXPECT_EQ(ready_event(want, at, packet_format::json),
              "event: ready\ndata: "
              "{\"Ready\":[{\"RVE\":20210727.091105994,\"Want\":[\"levels\",\"products\"]}]}\n\n");
    EXPECT_EQ(ready_event(want, at, packet_format::xml),
              "event: ready\ndata: <Ready><Ready><RVE>20210727.091105994</RVE><Want><Item>levels"
              "</Item><Item>products</Item></Want></Ready></Ready>\n\n");
}

TEST(ControlPackets, ReadyAtZeroBeforeAnyWrite) {
    const std::vector want{core::event_type::sale};
    EXPECT_EQ(ready_event(want, core::rve{}, packet_format::json),
              "event: ready\ndata: {\"Ready\":[{\"RVE\":0,\"Want\":[\"sale\"]}]}\n\n");
}

TEST(ControlPackets, ResetListsLostTypesOnlyWhenThereAreAny) {
    EXPECT_EQ(reset_event("cursor_ahead", at, 0, packet_format::json),
              "event: reset\ndata: "
              "{\"Reset\":[{\"Reason\":\"cursor_ahead\",\"From\":20210727.091105994}]}\n\n");
    const core::type_mask lost =
        core::bit(core::event_type::barcode) | core::bit(core::event_type::usermessage);
    EXPECT_EQ(reset_event("history_expired", at, lost, packet_format::json),
              "event: reset\ndata: {\"Reset\":[{\"Reason\":\"history_expired\",\"From\":"
              "20210727.091105994,\"Lost\":[\"usermessage\",\"barcode\"]}]}\n\n");
}

TEST(ControlPackets, ResetInXml) {
    EXPECT_EQ(
        reset_event("history_expired", at, core::bit(core::event_type::sale), packet_format::xml),
        "event: reset\ndata: <Reset><Reset><Reason>history_expired</Reason><From>"
        "20210727.091105994</From><Lost><Item>sale</Item></Lost></Reset></Reset>\n\n");
}

} // namespace
} // namespace posfeed::feed
