#include "duplicate_filter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace posfeed::client {
namespace {

/// One step of a sequence: a new connection, or an event and whether it must be delivered.
struct step {
    std::string type; // "connect" starts a new connection
    std::string rve;  // the RVE in the packet
    std::string id;   // the event's own id ("" for none)
    bool deliver = true;
};

step connect() {
    return step{"connect", "", "", true};
}

std::string packet(const std::string& type, const std::string& rve) {
    if (type == "ready") {
        return R"({"Ready":[{"RVE":)" + rve + R"(,"Want":["products"]}]})";
    }
    if (type == "reset") {
        return R"({"Reset":[{"Reason":"cursor_ahead","From":)" + rve + "}]}";
    }
    return R"({"X":[{"Pid":1,"RVE":)" + rve + "}]}";
}

struct sequence {
    std::string name;
    resume_state initial;
    std::vector<step> steps;
    resume_state final_state;
};

const std::string r1 = "20210727.091105001";
const std::string r2 = "20210727.091105002";
const std::string r3 = "20210727.091105003";
const std::string ahead = "20991231.235959999";

TEST(DuplicateFilter, FollowsTheSharedRuleOverTheseSequences) {
    const std::vector<sequence> sequences = {
        {"complete groups pass",
         {},
         {connect(), {"products", r1, r1}, {"sales", r2, ""}, {"levels", r2, r2}},
         {r2, std::nullopt}},
        {"cut mid-group: the replayed start of the group is dropped",
         {},
         {connect(),
          {"products", r1, r1},
          {"sales", r2, ""},
          connect(),
          {"sales", r2, "", false},
          {"levels", r2, r2}},
         {r2, std::nullopt}},
        {"cut after two of three events of a group",
         {r1, std::nullopt},
         {connect(),
          {"sales", r2, ""},
          {"levels", r2, ""},
          connect(),
          {"sales", r2, "", false},
          {"levels", r2, "", false},
          {"sale", r2, r2},
          {"products", r3, r3}},
         {r3, std::nullopt}},
        {"two cuts inside one group",
         {},
         {connect(),
          {"sales", r2, ""},
          connect(),
          {"sales", r2, "", false},
          {"levels", r2, ""},
          connect(),
          {"sales", r2, "", false},
          {"levels", r2, "", false},
          {"sale", r2, r2}},
         {r2, std::nullopt}},
        {"a restart from a state file inside a group",
         {r1, partial_group{r2, 1}},
         {connect(), {"sales", r2, "", false}, {"levels", r2, r2}},
         {r2, std::nullopt}},
        {"a group the server ends differently on the next connection (fewer wanted types)",
         {r1, partial_group{r2, 2}},
         {connect(), {"sales", r2, "", false}, {"levels", r2, r2, false}, {"products", r3, r3}},
         {r3, std::nullopt}},
        {"replayed complete groups are dropped by RVE",
         {},
         {connect(),
          {"products", r1, r1},
          {"sales", r2, ""},
          {"levels", r2, r2},
          connect(),
          {"sales", r2, "", false},
          {"levels", r2, r2, false},
          {"products", r3, r3}},
         {r3, std::nullopt}},
        {"ready, debug and reset always pass",
         {r3, std::nullopt},
         {connect(), {"debug", r1, ""}, {"ready", r1, ""}, {"reset", r1, ""}},
         {r3, std::nullopt}},
        {"reset cursor_ahead: lower RVEs after it are delivered and become the resume point",
         {ahead, std::nullopt},
         {connect(),
          {"reset", ahead, ""},
          {"products", r1, ""},
          {"products", r2, r2},
          {"ready", r2, ""},
          {"products", r3, r3}},
         {r3, std::nullopt}},
        {"reset keeps the resume point until a new id, and clears the partial group",
         {r1, partial_group{r2, 1}},
         {connect(), {"reset", r1, ""}},
         {r1, std::nullopt}},
        {"a reset on a second connection inside a replay starts over",
         {ahead, std::nullopt},
         {connect(),
          {"reset", ahead, ""},
          {"products", r1, ""},
          connect(),
          {"reset", ahead, ""},
          {"products", r1, ""},
          {"products", r2, r2}},
         {r2, std::nullopt}},
        {"snapshot packets without ids, cut before the last: delivered again (at least once)",
         {},
         {connect(),
          {"products", r1, ""},
          {"products", r2, ""},
          connect(),
          {"products", r1, ""},
          {"products", r2, ""},
          {"levels", r2, r3}},
         {r3, std::nullopt}},
        {"snapshot packets with the same first RVE are one group",
         {},
         {connect(),
          {"products", r1, ""},
          {"products", r1, ""},
          connect(),
          {"products", r1, "", false},
          {"products", r1, "", false},
          {"products", r1, ""},
          {"levels", r2, r3}},
         {r3, std::nullopt}},
        {"a dropped event's id never moves the resume point back",
         {r2, std::nullopt},
         {connect(),
          {"products", r1, r1, false},
          {"products", r2, "", false},
          {"products", r3, r3}},
         {r3, std::nullopt}},
        {"ready without a resume point makes its RVE the resume point",
         {},
         {connect(),
          {"ready", r1, ""},
          {"products", r1, "", false},
          {"sales", r2, ""},
          connect(),
          {"sales", r2, "", false},
          {"levels", r2, r2}},
         {r2, std::nullopt}},
        {"ready keeps a resume point there is (even after a reset)",
         {ahead, std::nullopt},
         {connect(), {"reset", ahead, ""}, {"ready", r1, ""}, {"products", r1, r1}},
         {r1, std::nullopt}},
        {"a packet without an RVE passes and changes nothing",
         {r2, std::nullopt},
         {connect(), {"message", "", ""}},
         {r2, std::nullopt}},
    };
    for (const sequence& s : sequences) {
        SCOPED_TRACE(s.name);
        duplicate_filter filter(s.initial);
        int i = 0;
        for (const step& st : s.steps) {
            SCOPED_TRACE("step " + std::to_string(i++) + ": " + st.type + " " + st.rve + " id " +
                         st.id);
            if (st.type == "connect") {
                filter.new_connection();
                continue;
            }
            const std::string data = st.rve.empty() ? "{}" : packet(st.type, st.rve);
            const resume_state before = filter.state();
            const decision d = filter.on_event(st.type, data, st.id, !st.id.empty());
            EXPECT_EQ(d.what == verdict::deliver, st.deliver);
            EXPECT_EQ(d.state_changed, !(filter.state() == before));
        }
        EXPECT_EQ(filter.state().last_id, s.final_state.last_id);
        EXPECT_EQ(filter.state().partial, s.final_state.partial);
    }
}

TEST(DuplicateFilter, TakesTheRveOfAnXmlPacket) {
    duplicate_filter filter(resume_state{r2, std::nullopt});
    filter.new_connection();
    const std::string old_packet =
        "<Products><Product><Pid>1</Pid><RVE>" + r1 + "</RVE></Product></Products>";
    const std::string new_packet = "<Sales><Sale><Sid>1</Sid><RVE>" + r3 + "</RVE></Sale></Sales>";
    EXPECT_EQ(filter.on_event("products", old_packet, "", false).what, verdict::drop);
    EXPECT_EQ(filter.on_event("sales", new_packet, "", false).what, verdict::deliver);
    ASSERT_TRUE(filter.state().partial.has_value());
    EXPECT_EQ(filter.state().partial->rve, r3);
}

TEST(DuplicateFilter, AnEmptyIdCountsAsNone) {
    duplicate_filter filter;
    filter.new_connection();
    EXPECT_EQ(filter.on_event("products", packet("products", r1), "", true).what, verdict::deliver);
    EXPECT_EQ(filter.state().last_id, "");
    ASSERT_TRUE(filter.state().partial.has_value());
}

} // namespace
} // namespace posfeed::client
