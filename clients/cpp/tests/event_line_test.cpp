#include "tail/event_line.hpp"

#include <gtest/gtest.h>

namespace posfeed::client::tail {
namespace {

TEST(EventLine, CopiesAJsonPacketAsItIs) {
    EXPECT_EQ(
        event_line("products", "20210727.091105994",
                   R"({"Products":[{"Pid":1,"RVE":20210727.091105994}]})", true),
        R"({"event":"products","id":"20210727.091105994","data":{"Products":[{"Pid":1,"RVE":20210727.091105994}]}})");
}

TEST(EventLine, WritesXmlAndInvalidJsonAsAString) {
    EXPECT_EQ(event_line("levels", "", "<Levels><Level>\"a\"</Level></Levels>", false),
              R"({"event":"levels","id":"","data":"<Levels><Level>\"a\"</Level></Levels>"})");
    EXPECT_EQ(event_line("message", "", "{not json", true),
              R"({"event":"message","id":"","data":"{not json"})");
    EXPECT_EQ(event_line("message", "", "", true), R"({"event":"message","id":"","data":""})");
}

TEST(EventLine, KeepsOneLineWhenJsonDataHasLineBreaks) {
    EXPECT_EQ(event_line("x", "", "{\"a\":\n1}", true), R"({"event":"x","id":"","data":{"a": 1}})");
    EXPECT_EQ(event_line("x\n", "", "a\nb", true), R"({"event":"x\n","id":"","data":"a\nb"})");
}

} // namespace
} // namespace posfeed::client::tail
