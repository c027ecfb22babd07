#include "feed/hub.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace posfeed::feed {
namespace {

namespace asio = boost::asio;
using core::event_type;

constexpr std::int64_t base_ms = 1627377065994; // 20210727.091105994

constexpr core::type_mask products = core::bit(event_type::products);
constexpr core::type_mask customers = core::bit(event_type::customers);
constexpr core::type_mask levels = core::bit(event_type::levels);
constexpr core::type_mask sales = core::bit(event_type::sales);
constexpr core::type_mask sale = core::bit(event_type::sale);
constexpr core::type_mask usermessage = core::bit(event_type::usermessage);
constexpr core::type_mask barcode = core::bit(event_type::barcode);

constexpr std::size_t roomy = std::size_t{1} << 30; ///< a queue limit no test reaches

/// One io_context per shard, run only when a test says so and on the test thread: what the hub
/// posts to shard i happens exactly at run(i), in the order it was posted.
class shard_loops {
  public:
    explicit shard_loops(std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            loops_.push_back(std::make_unique<asio::io_context>());
        }
    }

    std::vector<asio::any_io_executor> executors() const {
        std::vector<asio::any_io_executor> out;
        for (const auto& l : loops_) {
            out.emplace_back(l->get_executor());
        }
        return out;
    }

    /// Runs what is posted to shard `i` by now; returns how many handlers ran.
    std::size_t run(std::size_t i) {
        loops_[i]->restart();
        return loops_[i]->poll();
    }

    std::size_t run_all() {
        std::size_t n = 0;
        for (std::size_t i = 0; i < loops_.size(); ++i) {
            n += run(i);
        }
        return n;
    }

  private:
    std::vector<std::unique_ptr<asio::io_context>> loops_;
};

/// A subscriber as a stream holds it, counting its wake-ups and overflows.
struct stream {
    stream(std::size_t shard, std::string rmsystem, subscription_filter f,
           std::size_t queue_limit = roomy, std::string credential = "k1")
        : sub(shard, std::move(rmsystem), std::move(f), queue_limit, std::move(credential)) {
        sub.on_wake([this] { ++wakes; });
        sub.on_overflow([this] { ++overflows; });
    }
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;

    subscriber sub;
    int wakes = 0;
    int overflows = 0;
};

subscription_filter filter(core::type_mask want, std::string location = "",
                           std::string session = "", packet_format fmt = packet_format::json) {
    subscription_filter f;
    f.want = want;
    f.location = std::move(location);
    f.session = std::move(session);
    f.format = fmt;
    return f;
}

store::event ev(event_type type, std::string body, std::string location = "",
                std::string session = "") {
    return store::event{type, std::move(location), std::move(session), std::move(body)};
}

/// Group number `n` of `rmsystem`: its RVE is base_ms + n, so numbers are in RVE order.
store::group_ptr group(std::string rmsystem, std::int64_t n, std::vector<store::event> events) {
    return std::make_shared<const store::event_group>(
        store::event_group{std::move(rmsystem), core::rve{base_ms + n}, std::move(events)});
}

/// A one-product group; every one has the same size for a given filter.
store::group_ptr product_group(std::string rmsystem, std::int64_t n) {
    return group(std::move(rmsystem), n, {ev(event_type::products, R"({"Pid":1})")});
}

/// A barcode scan aimed at `session` (Owner depends on its barcode watchers when encoded).
store::group_ptr scan(std::string rmsystem, std::int64_t n, std::string session) {
    return group(
        std::move(rmsystem), n,
        {ev(event_type::barcode, R"({"RawScan":"4006381333931"})", "7", std::move(session))});
}

std::vector<encoded_ptr> take(subscriber& s) {
    std::vector<encoded_ptr> out;
    s.take(out);
    return out;
}

/// The group numbers (RVE - base_ms) of `groups`, in queue order.
std::vector<std::int64_t> numbers(const std::vector<encoded_ptr>& groups) {
    std::vector<std::int64_t> out;
    for (const auto& g : groups) {
        out.push_back(g->rve().ms - base_ms);
    }
    return out;
}

std::vector<std::string> frames(const encoded_group& g, const subscription_filter& f) {
    std::vector<std::string> out;
    g.for_each_frame(f, [&](const std::string& frame) { out.push_back(frame); });
    return out;
}

/// The address of the first frame `f` receives of `g`: the shared buffer itself, not a copy.
const std::string* first_frame(const encoded_group& g, const subscription_filter& f) {
    const std::string* first = nullptr;
    g.for_each_frame(f, [&](const std::string& frame) {
        if (first == nullptr) {
            first = &frame;
        }
    });
    return first;
}

std::size_t packet_count(const encoded_group& g, const subscription_filter& f) {
    std::size_t n = 0;
    g.for_each_packet(f, [&](event_type, const std::string&) { ++n; });
    return n;
}

/// The Owner of the one barcode packet `f` receives of `g`; -1 when it receives none or several.
int owner(const encoded_group& g, const subscription_filter& f) {
    const auto got = frames(g, f);
    if (got.size() != 1) {
        return -1;
    }
    const std::string_view key = R"("Owner":)";
    const auto at = got[0].find(key);
    if (at == std::string::npos || at + key.size() >= got[0].size()) {
        return -1;
    }
    return got[0][at + key.size()] - '0';
}

std::int64_t queued(const std::vector<const stream*>& streams) {
    std::int64_t n = 0;
    for (const auto* s : streams) {
        n += static_cast<std::int64_t>(s->sub.queued_bytes());
    }
    return n;
}

// --- attach and detach --------------------------------------------------------------------

TEST(Hub, DeliversOnTheShardOnlyGroupsPublishedAfterAttach) {
    shard_loops loops(1);
    hub h(loops.executors());
    h.publish(product_group("rm1", 1));
    loops.run_all();

    stream s(0, "rm1", filter(products));
    h.attach(s.sub);
    h.publish(product_group("rm1", 2));
    EXPECT_TRUE(take(s.sub).empty()) << "publish must not touch a shard's subscribers itself";
    EXPECT_EQ(s.wakes, 0);

    loops.run_all();
    EXPECT_EQ(numbers(take(s.sub)), std::vector<std::int64_t>{2});
    EXPECT_EQ(s.wakes, 1);
    EXPECT_EQ(h.groups_published(), 2u);
    h.detach(s.sub);
}

TEST(Hub, NewestPublishedCountsOnlyWhileTheRmsystemHasSubscribers) {
    shard_loops loops(2);
    hub h(loops.executors());
    h.publish(product_group("rm1", 1));
    loops.run_all();
    EXPECT_EQ(h.newest_published("rm1"), std::nullopt) << "no subscriber: the store knows";

    stream a(0, "rm1", filter(products));
    h.attach(a.sub);
    EXPECT_EQ(h.newest_published("rm1"), std::nullopt) << "none published since the attach";
    h.publish(product_group("rm1", 2));
    h.publish(product_group("rm2", 3));
    // Set as it is published, before any shard ran: a stream that reads it was attached
    // earlier, so group 2 still reaches its queue.
    EXPECT_EQ(h.newest_published("rm1"), core::rve{base_ms + 2});
    EXPECT_EQ(h.newest_published("rm2"), std::nullopt);
    loops.run_all();
    stream b(1, "rm1", filter(products));
    h.attach(b.sub);
    h.publish(product_group("rm1", 4));
    EXPECT_EQ(h.newest_published("rm1"), core::rve{base_ms + 4});
    loops.run_all();
    EXPECT_EQ(numbers(take(a.sub)), (std::vector<std::int64_t>{2, 4}));
    EXPECT_EQ(numbers(take(b.sub)), std::vector<std::int64_t>{4});

    // While the last subscriber is gone, groups may commit unseen (another node's, or of an
    // RmSystem this node no longer follows): forgotten.
    h.detach(a.sub);
    EXPECT_EQ(h.newest_published("rm1"), core::rve{base_ms + 4}) << "b still attached";
    h.detach(b.sub);
    EXPECT_EQ(h.newest_published("rm1"), std::nullopt);
    h.attach(a.sub);
    EXPECT_EQ(h.newest_published("rm1"), std::nullopt);
    h.detach(a.sub);
}

TEST(Hub, CountsAttachedSubscribersOverAllShards) {
    shard_loops loops(2);
    hub h(loops.executors());
    stream s[] = {
        {0, "rm1", filter(products)}, // a
        {1, "rm1", filter(products)}, // b: another shard, same RmSystem
        {1, "rm2", filter(products)}, // c: another RmSystem
        {0, "rm1", filter(products)}, // never attached, its RmSystem followed on its shard
        {1, "rm3", filter(products)}, // never attached, its RmSystem followed by nobody
    };
    enum class op { attach, detach };
    struct row {
        std::string_view name;
        op what;
        int index;
        std::size_t count;
    };
    const row rows[] = {
        {"attach a", op::attach, 0, 1},
        {"attach b on another shard", op::attach, 1, 2},
        {"attach c of another RmSystem", op::attach, 2, 3},
        {"detach one never attached, RmSystem followed", op::detach, 3, 3},
        {"detach one never attached, RmSystem not followed", op::detach, 4, 3},
        {"detach b", op::detach, 1, 2},
        {"detach b again", op::detach, 1, 2},
        {"detach c, the last of rm2", op::detach, 2, 1},
        {"detach a, the last of all", op::detach, 0, 0},
        {"attach a again", op::attach, 0, 1},
        {"detach a", op::detach, 0, 0},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.name));
        if (r.what == op::attach) {
            h.attach(s[r.index].sub);
        } else {
            h.detach(s[r.index].sub);
        }
        EXPECT_EQ(h.subscriber_count(), r.count);
    }
}

TEST(Hub, DetachedSubscriberReceivesNothingAndLosesItsQueue) {
    shard_loops loops(1);
    hub h(loops.executors());
    stream a(0, "rm1", filter(products));
    stream b(0, "rm1", filter(products));
    h.attach(a.sub);
    h.attach(b.sub);
    h.publish(product_group("rm1", 1));
    loops.run_all();
    ASSERT_GT(a.sub.queued_bytes(), 0u);
    ASSERT_EQ(h.queued_bytes(), queued({&a, &b}));

    h.detach(a.sub);
    EXPECT_EQ(a.sub.queued_bytes(), 0u);
    EXPECT_TRUE(take(a.sub).empty());
    EXPECT_EQ(h.queued_bytes(), static_cast<std::int64_t>(b.sub.queued_bytes()))
        << "a detached queue still counts in the hub's gauge";

    h.publish(product_group("rm1", 2));
    loops.run_all();
    EXPECT_TRUE(take(a.sub).empty());
    EXPECT_EQ(a.wakes, 1) << "woken after detach";
    EXPECT_EQ(numbers(take(b.sub)), (std::vector<std::int64_t>{1, 2}));

    // A group already posted to the shard when the subscriber detaches is not delivered either.
    h.publish(product_group("rm1", 3));
    h.detach(b.sub);
    loops.run_all();
    EXPECT_TRUE(take(b.sub).empty());
    EXPECT_EQ(b.wakes, 2);
    EXPECT_EQ(h.queued_bytes(), 0);
}

TEST(Hub, DetachingTheLastSubscriberOfAnRmSystemLeavesTheOthersServed) {
    struct row {
        std::string_view name;
        std::vector<int> order; ///< detach order of rm1's three subscribers
    };
    const row rows[] = {
        {"first to last", {0, 1, 2}},
        {"last to first", {2, 1, 0}},
        {"middle first", {1, 0, 2}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.name));
        shard_loops loops(1);
        hub h(loops.executors());
        stream rm1[] = {{0, "rm1", filter(products)},
                        {0, "rm1", filter(products)},
                        {0, "rm1", filter(products)}};
        stream rm2(0, "rm2", filter(products));
        for (auto& s : rm1) {
            h.attach(s.sub);
        }
        h.attach(rm2.sub);
        std::vector<bool> detached(3, false);
        std::int64_t n = 0;
        for (const int i : r.order) {
            SCOPED_TRACE("after detaching " + std::to_string(i));
            h.detach(rm1[i].sub);
            detached[i] = true;
            ++n;
            h.publish(product_group("rm1", n));
            h.publish(product_group("rm2", n));
            loops.run_all();
            for (int j = 0; j < 3; ++j) {
                EXPECT_EQ(numbers(take(rm1[j].sub)),
                          detached[j] ? std::vector<std::int64_t>{} : std::vector<std::int64_t>{n})
                    << "subscriber " << j;
            }
            EXPECT_EQ(numbers(take(rm2.sub)), std::vector<std::int64_t>{n});
        }
        EXPECT_EQ(h.subscriber_count(), 1u);

        // rm1 is followed by nobody now; a new subscriber of it is served again.
        stream again(0, "rm1", filter(products));
        h.attach(again.sub);
        h.publish(product_group("rm1", 10));
        loops.run_all();
        EXPECT_EQ(numbers(take(again.sub)), std::vector<std::int64_t>{10});
        h.detach(again.sub);
        h.detach(rm2.sub);
    }
}

// --- order and tenancy --------------------------------------------------------------------

TEST(Hub, DeliversGroupsOfAnRmSystemInRveOrder) {
    enum class schedule { after_all, after_each, one_shard_after_each };
    struct row {
        std::string_view name;
        schedule when;
    };
    const row rows[] = {
        {"shards run once, after every publish", schedule::after_all},
        {"every shard runs after each publish", schedule::after_each},
        {"one shard in turn runs after each publish", schedule::one_shard_after_each},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.name));
        shard_loops loops(3);
        hub h(loops.executors());
        stream a(0, "rm1", filter(products));
        stream b(2, "rm1", filter(products));
        stream c(0, "rm1", filter(products, "", "", packet_format::xml));
        stream d(1, "rm2", filter(products));
        for (auto* s : {&a, &b, &c, &d}) {
            h.attach(s->sub);
        }
        std::vector<std::int64_t> of_rm1;
        std::vector<std::int64_t> of_rm2;
        for (std::int64_t n = 1; n <= 30; ++n) {
            const bool two = n % 3 == 0;
            h.publish(product_group(two ? "rm2" : "rm1", n));
            (two ? of_rm2 : of_rm1).push_back(n);
            if (r.when == schedule::after_each) {
                loops.run_all();
            } else if (r.when == schedule::one_shard_after_each) {
                loops.run(static_cast<std::size_t>(n % 3));
            }
        }
        loops.run_all();
        EXPECT_EQ(numbers(take(a.sub)), of_rm1);
        EXPECT_EQ(numbers(take(b.sub)), of_rm1);
        EXPECT_EQ(numbers(take(c.sub)), of_rm1);
        EXPECT_EQ(numbers(take(d.sub)), of_rm2);
    }
}

TEST(Hub, SubscribersOfAnotherRmSystemReceiveNothing) {
    const std::string_view others[] = {"rm2", "RM1", "rm10", "rm", " rm1", ""};
    for (const auto other : others) {
        SCOPED_TRACE("subscriber of \"" + std::string(other) + "\"");
        shard_loops loops(2);
        hub h(loops.executors());
        stream tenant(0, "rm1", filter(core::all_types, "", "sA"));
        stream same_shard(0, std::string(other), filter(core::all_types, "", "sA"));
        stream other_shard(1, std::string(other), filter(core::all_types, "", "sA"));
        for (auto* s : {&tenant, &same_shard, &other_shard}) {
            h.attach(s->sub);
        }
        h.publish(product_group("rm1", 1));
        h.publish(group("rm1", 2, {ev(event_type::levels, R"({"Pid":1})", "1")}));
        h.publish(group("rm1", 3, {ev(event_type::sale, R"({"Sid":1})", "", "sA")}));
        h.publish(scan("rm1", 4, "sA"));
        loops.run_all();
        EXPECT_EQ(numbers(take(tenant.sub)), (std::vector<std::int64_t>{1, 2, 3, 4}));
        for (auto* s : {&same_shard, &other_shard}) {
            EXPECT_TRUE(take(s->sub).empty());
            EXPECT_EQ(s->wakes, 0);
            EXPECT_EQ(s->sub.queued_bytes(), 0u);
        }
    }
}

// --- filters ------------------------------------------------------------------------------

/// Markers in the records below, found in frames of either format.
constexpr std::string_view markers[] = {"Zp1", "Zl1", "Zl2", "Zs2", "Zsa",
                                        "Zmb", "Zc1", "Zl3", "Zb0"};

/// What `f` receives of `groups`, one entry per packet: "g<number> <type> <markers>".
std::vector<std::string> received(const std::vector<encoded_ptr>& groups,
                                  const subscription_filter& f) {
    std::vector<std::string> out;
    for (const auto& g : groups) {
        g->for_each_packet(f, [&](event_type type, const std::string& frame) {
            std::string entry = "g" + std::to_string(g->rve().ms - base_ms) + " " +
                                std::string(core::to_string(type));
            for (const auto m : markers) {
                if (frame.find(m) != std::string::npos) {
                    entry += " " + std::string(m);
                }
            }
            out.push_back(std::move(entry));
        });
    }
    return out;
}

TEST(Hub, QueuesForEachSubscriberWhatItsFilterSelects) {
    struct row {
        std::string_view name;
        subscription_filter f;
        std::vector<std::string> packets;
    };
    const row rows[] = {
        {"products only", filter(products), {"g1 products Zp1"}},
        {"every type, no session, no location",
         filter(core::all_types),
         {"g1 products Zp1", "g2 levels Zl1 Zl2", "g3 sales Zs2", "g5 customers Zc1",
          "g5 levels Zl3", "g6 barcode Zb0"}},
        {"levels at location 1", filter(levels, "1"), {"g2 levels Zl1", "g5 levels Zl3"}},
        {"levels and sales at location 2",
         filter(levels | sales, "2"),
         {"g2 levels Zl2", "g3 sales Zs2"}},
        {"a location with nothing: types without a location still come",
         filter(products | customers | levels | sales, "9"),
         {"g1 products Zp1", "g5 customers Zc1"}},
        {"barcode at its location", filter(barcode, "7"), {"g6 barcode Zb0"}},
        {"barcode at another location", filter(barcode, "8"), {}},
        {"session sA, every type",
         filter(core::all_types, "", "sA"),
         {"g1 products Zp1", "g2 levels Zl1 Zl2", "g3 sales Zs2", "g4 sale Zsa", "g5 customers Zc1",
          "g5 levels Zl3", "g6 barcode Zb0"}},
        {"session sB, session types", filter(sale | usermessage, "", "sB"), {"g4 usermessage Zmb"}},
        {"session sC, session types", filter(sale | usermessage, "", "sC"), {}},
        {"no session, session types", filter(sale | usermessage), {}},
        {"session sA in xml", filter(sale, "", "sA", packet_format::xml), {"g4 sale Zsa"}},
        {"levels at location 1 in xml",
         filter(levels, "1", "", packet_format::xml),
         {"g2 levels Zl1", "g5 levels Zl3"}},
        {"nothing wanted", filter(0), {}},
    };
    constexpr std::size_t shard_n = 2;
    shard_loops loops(shard_n);
    hub h(loops.executors());
    std::vector<std::unique_ptr<stream>> streams;
    for (std::size_t i = 0; i < std::size(rows); ++i) {
        streams.push_back(std::make_unique<stream>(i % shard_n, "rm1", rows[i].f));
        h.attach(streams.back()->sub);
    }
    h.publish(group("rm1", 1, {ev(event_type::products, R"({"Id":"Zp1"})")}));
    h.publish(group("rm1", 2,
                    {ev(event_type::levels, R"({"Id":"Zl1"})", "1"),
                     ev(event_type::levels, R"({"Id":"Zl2"})", "2")}));
    h.publish(group("rm1", 3, {ev(event_type::sales, R"({"Id":"Zs2"})", "2")}));
    h.publish(group("rm1", 4,
                    {ev(event_type::sale, R"({"Id":"Zsa"})", "", "sA"),
                     ev(event_type::usermessage, R"({"Id":"Zmb"})", "", "sB")}));
    h.publish(group("rm1", 5,
                    {ev(event_type::customers, R"({"Id":"Zc1"})"),
                     ev(event_type::levels, R"({"Id":"Zl3"})", "1")}));
    h.publish(group("rm1", 6, {ev(event_type::barcode, R"({"Id":"Zb0"})", "7")}));
    loops.run_all();

    std::int64_t total = 0;
    const std::int64_t gauge = h.queued_bytes();
    for (std::size_t i = 0; i < std::size(rows); ++i) {
        const auto& r = rows[i];
        SCOPED_TRACE(std::string(r.name));
        stream& s = *streams[i];
        const std::size_t bytes = s.sub.queued_bytes();
        const auto groups = take(s.sub);
        EXPECT_EQ(received(groups, r.f), r.packets);
        // Only groups it receives something of are queued, and each wakes the writer.
        std::size_t expected_bytes = 0;
        for (const auto& g : groups) {
            EXPECT_GT(g->bytes_for(r.f), 0u) << "queued a group it receives nothing of";
            expected_bytes += g->bytes_for(r.f);
        }
        EXPECT_EQ(bytes, expected_bytes);
        EXPECT_EQ(s.wakes, static_cast<int>(groups.size()));
        total += static_cast<std::int64_t>(bytes);
        const std::string_view want_start =
            r.f.format == packet_format::json ? "data: {" : "data: <";
        for (const auto& g : groups) {
            g->for_each_frame(r.f, [&](const std::string& frame) {
                EXPECT_NE(frame.find(want_start), std::string::npos) << frame;
            });
        }
    }
    EXPECT_EQ(gauge, total);
    EXPECT_EQ(h.queued_bytes(), 0) << "taking every queue empties the gauge";
}

TEST(Hub, SessionScopedTypesGoOnlyToThatSessionsSubscribers) {
    struct row {
        std::string_view name;
        std::size_t shard;
        std::string session;
        bool receives;
    };
    const row rows[] = {
        {"the session, on shard 0", 0, "sA", true},
        {"the session, on shard 1", 1, "sA", true},
        {"another session", 0, "sB", false},
        {"a session differing in case", 1, "SA", false},
        {"no session", 1, "", false},
    };
    shard_loops loops(2);
    hub h(loops.executors());
    std::vector<std::unique_ptr<stream>> streams;
    for (const auto& r : rows) {
        streams.push_back(
            std::make_unique<stream>(r.shard, "rm1", filter(sale | usermessage, "", r.session)));
        h.attach(streams.back()->sub);
    }
    h.publish(group("rm1", 1,
                    {ev(event_type::sale, R"({"Sid":1})", "", "sA"),
                     ev(event_type::usermessage, R"({"Text":"hi"})", "", "sA")}));
    loops.run_all();
    for (std::size_t i = 0; i < std::size(rows); ++i) {
        SCOPED_TRACE(std::string(rows[i].name));
        const auto groups = take(streams[i]->sub);
        if (rows[i].receives) {
            ASSERT_EQ(groups.size(), 1u);
            EXPECT_EQ(packet_count(*groups[0], streams[i]->sub.filter()), 2u);
        } else {
            EXPECT_TRUE(groups.empty());
            EXPECT_EQ(streams[i]->wakes, 0);
        }
    }
}

TEST(Hub, EachSubscriberReadsItsFormatFromOneSharedGroup) {
    shard_loops loops(2);
    hub h(loops.executors());
    const auto json = filter(products);
    const auto xml = filter(products, "", "", packet_format::xml);
    stream json0(0, "rm1", json);
    stream json1(1, "rm1", json);
    stream xml1(1, "rm1", xml);
    for (auto* s : {&json0, &json1, &xml1}) {
        h.attach(s->sub);
    }
    h.publish(group("rm1", 0, {ev(event_type::products, R"({"Pid":6017})")}));
    loops.run_all();
    const std::size_t xml_bytes = xml1.sub.queued_bytes();
    const std::size_t json_bytes = json0.sub.queued_bytes();
    const auto j0 = take(json0.sub);
    const auto j1 = take(json1.sub);
    const auto x1 = take(xml1.sub);
    ASSERT_EQ(j0.size(), 1u);
    ASSERT_EQ(j1.size(), 1u);
    ASSERT_EQ(x1.size(), 1u);
    EXPECT_EQ(j0[0].get(), j1[0].get()) << "each shard got its own encoded group";
    EXPECT_EQ(j0[0].get(), x1[0].get()) << "each format got its own encoded group";

    EXPECT_EQ(frames(*j0[0], json),
              std::vector<std::string>{"event: products\ndata: "
                                       R"({"Products":[{"Pid":6017,"RVE":20210727.091105994}]})"
                                       "\n"});
    EXPECT_EQ(frames(*x1[0], xml),
              std::vector<std::string>{"event: products\ndata: "
                                       "<Products><Product><Pid>6017</Pid>"
                                       "<RVE>20210727.091105994</RVE></Product></Products>\n"});
    EXPECT_EQ(first_frame(*j0[0], json), first_frame(*j1[0], json));
    EXPECT_EQ(json_bytes, j0[0]->bytes_for(json));
    EXPECT_EQ(xml_bytes, x1[0]->bytes_for(xml));
    EXPECT_NE(json_bytes, xml_bytes);
}

// --- encoded once, lazily -----------------------------------------------------------------
//
// The hub's encoded_group asks hub::barcode_watchers for a scan's Owner when, and only when,
// it is encoded: with one barcode watcher of the session Owner is 1, with two it is 2. Adding
// a watcher between two shards' turns therefore shows when (and whether again) the group was
// encoded, without touching the hub.

TEST(Hub, EncodesAGroupOnceForSubscribersOnEveryShard) {
    shard_loops loops(3);
    hub h(loops.executors());
    const auto mine = filter(barcode, "", "sA");
    const auto rest = filter(barcode);
    stream first(0, "rm1", mine);
    stream rest1(1, "rm1", rest);
    stream rest2(2, "rm1", rest);
    for (auto* s : {&first, &rest1, &rest2}) {
        h.attach(s->sub);
    }
    ASSERT_EQ(h.barcode_watchers("sA"), 1);

    h.publish(scan("rm1", 1, "sA"));
    loops.run(0); // shard 0 offers it first: encoded now, with one watcher of sA
    stream late(1, "rm1", mine);
    h.attach(late.sub);
    ASSERT_EQ(h.barcode_watchers("sA"), 2);
    loops.run(1);
    loops.run(2);

    const auto g_first = take(first.sub);
    const auto g_late = take(late.sub);
    const auto g_rest1 = take(rest1.sub);
    const auto g_rest2 = take(rest2.sub);
    for (const auto* got : {&g_first, &g_late, &g_rest1, &g_rest2}) {
        ASSERT_EQ(got->size(), 1u);
        EXPECT_EQ((*got)[0].get(), g_first[0].get()) << "a shard got a group of its own";
    }
    EXPECT_EQ(owner(*g_late[0], mine), 1) << "encoded again after shard 0 had encoded it";
    EXPECT_EQ(owner(*g_first[0], mine), 1);
    EXPECT_EQ(owner(*g_rest1[0], rest), 0);
    EXPECT_EQ(packet_count(*g_first[0], mine), 1u) << "encoded twice into the same group";
    EXPECT_EQ(packet_count(*g_first[0], rest), 1u);
    EXPECT_EQ(first_frame(*g_first[0], mine), first_frame(*g_late[0], mine));
    EXPECT_EQ(first_frame(*g_rest1[0], rest), first_frame(*g_rest2[0], rest));

    // The observation can fail: a group encoded after the second watcher attached says so.
    h.publish(scan("rm1", 2, "sA"));
    loops.run_all();
    const auto next = take(late.sub);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(owner(*next[0], mine), 2);
    for (auto* s : {&first, &rest1, &rest2, &late}) {
        h.detach(s->sub);
    }
}

TEST(Hub, DoesNotEncodeAtPublishNorOnAShardWhereNobodyFollowsTheRmSystem) {
    shard_loops loops(2);
    hub h(loops.executors());
    const auto mine = filter(barcode, "", "sA");
    stream elsewhere(0, "rm2", filter(core::all_types, "", "sZ")); // shard 0 follows rm2 only
    stream watcher1(1, "rm1", mine);
    h.attach(elsewhere.sub);
    h.attach(watcher1.sub);
    ASSERT_EQ(h.barcode_watchers("sA"), 1);

    h.publish(scan("rm1", 1, "sA"));
    EXPECT_EQ(loops.run(0), 1u); // the group's turn on shard 0, where nobody follows rm1
    stream watcher0(0, "rm1", mine);
    h.attach(watcher0.sub);
    ASSERT_EQ(h.barcode_watchers("sA"), 2);
    loops.run(1);

    const auto got = take(watcher1.sub);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(owner(*got[0], mine), 2)
        << "encoded before shard 1 offered it (at publish, or on shard 0, which follows nobody "
           "of rm1), when sA had one watcher";
    EXPECT_TRUE(take(watcher0.sub).empty()) << "attached after shard 0's turn";
    EXPECT_TRUE(take(elsewhere.sub).empty());

    // A group of an RmSystem nobody follows anywhere reaches nobody, and is kept by nobody.
    const auto unfollowed = scan("rm9", 2, "sA");
    h.publish(unfollowed);
    loops.run_all();
    EXPECT_EQ(unfollowed.use_count(), 1);
    for (auto* s : {&elsewhere, &watcher0, &watcher1}) {
        EXPECT_TRUE(take(s->sub).empty());
    }
    EXPECT_EQ(h.groups_published(), 2u);
    for (auto* s : {&elsewhere, &watcher0, &watcher1}) {
        h.detach(s->sub);
    }
}

TEST(Hub, EncodesEachGroupOnceWhenShardsRunOnTheirOwnThreads) {
    constexpr std::size_t shard_n = 4;
    constexpr std::int64_t group_n = 200;
    std::vector<std::unique_ptr<asio::io_context>> loops;
    std::vector<asio::any_io_executor> executors;
    for (std::size_t i = 0; i < shard_n; ++i) {
        loops.push_back(std::make_unique<asio::io_context>());
        executors.emplace_back(loops.back()->get_executor());
    }
    hub h(executors);
    const auto json = filter(products | levels);
    const auto xml = filter(products | levels, "", "", packet_format::xml);
    const auto at1 = filter(levels, "1");
    std::vector<std::unique_ptr<stream>> followers;
    std::vector<std::unique_ptr<stream>> others;
    for (std::size_t i = 0; i < shard_n; ++i) {
        followers.push_back(std::make_unique<stream>(i, "rm1", json));
        followers.push_back(std::make_unique<stream>(i, "rm1", xml));
        followers.push_back(std::make_unique<stream>(i, "rm1", at1));
        others.push_back(std::make_unique<stream>(i, "rm2", json));
    }
    // Attached before the shards' threads start, which orders it before all they run.
    for (auto* list : {&followers, &others}) {
        for (auto& s : *list) {
            h.attach(s->sub);
        }
    }
    {
        std::vector<asio::executor_work_guard<asio::io_context::executor_type>> busy;
        std::vector<std::thread> threads;
        for (auto& l : loops) {
            busy.push_back(asio::make_work_guard(*l));
            threads.emplace_back([&io = *l] { io.run(); });
        }
        for (std::int64_t n = 1; n <= group_n; ++n) {
            h.publish(group("rm1", n,
                            {ev(event_type::products, R"({"Pid":)" + std::to_string(n) + "}"),
                             ev(event_type::levels, R"({"Pid":1,"Location":1})", "1"),
                             ev(event_type::levels, R"({"Pid":1,"Location":2})", "2")}));
        }
        for (auto& b : busy) {
            b.reset();
        }
        for (auto& t : threads) {
            t.join();
        }
    }

    std::vector<std::vector<encoded_ptr>> got;
    std::vector<std::int64_t> all(group_n);
    for (std::int64_t n = 1; n <= group_n; ++n) {
        all[static_cast<std::size_t>(n - 1)] = n;
    }
    for (auto& s : followers) {
        got.push_back(take(s->sub));
        ASSERT_EQ(numbers(got.back()), all) << "in RVE order, each once";
    }
    for (auto& s : others) {
        EXPECT_TRUE(take(s->sub).empty());
    }
    for (std::size_t n = 0; n < static_cast<std::size_t>(group_n); ++n) {
        SCOPED_TRACE("group " + std::to_string(n + 1));
        const encoded_group& g = *got[0][n];
        for (std::size_t i = 0; i < followers.size(); ++i) {
            EXPECT_EQ(got[i][n].get(), &g) << "follower " << i << " got a group of its own";
        }
        // A second encoding would have appended its packets to the same group.
        EXPECT_EQ(packet_count(g, json), 2u);
        EXPECT_EQ(packet_count(g, xml), 2u);
        EXPECT_EQ(packet_count(g, at1), 1u);
    }
    EXPECT_EQ(h.queued_bytes(), 0);
}

// --- the slow-consumer cut ----------------------------------------------------------------

TEST(Hub, CutsASlowConsumerWhenAGroupWouldPassItsQueueLimit) {
    const auto f = filter(products);
    const std::size_t n = encoded_group(*product_group("rm1", 1)).bytes_for(f);
    ASSERT_GT(n, 0u);
    struct row {
        std::string_view name;
        std::size_t limit;
        int fit; ///< groups queued before the one that overflows
    };
    const row rows[] = {
        {"room for exactly two groups", 2 * n, 2},
        {"one byte short of two groups", 2 * n - 1, 1},
        {"room for three groups", 3 * n + 1, 3},
        {"smaller than one group: the first is queued anyway", 1, 1},
        {"zero: the first is queued anyway", 0, 1},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.name));
        shard_loops loops(1);
        hub h(loops.executors());
        stream slow(0, "rm1", f, r.limit);
        stream fast(0, "rm1", f);
        h.attach(slow.sub);
        h.attach(fast.sub);
        std::int64_t number = 0;
        for (int i = 1; i <= r.fit; ++i) {
            h.publish(product_group("rm1", ++number));
            loops.run_all();
            EXPECT_FALSE(slow.sub.overflowed()) << "after group " << i;
            EXPECT_EQ(slow.sub.queued_bytes(), static_cast<std::size_t>(i) * n);
            EXPECT_EQ(slow.wakes, i);
            EXPECT_EQ(h.queued_bytes(), queued({&slow, &fast}));
        }
        EXPECT_EQ(slow.overflows, 0);

        h.publish(product_group("rm1", ++number));
        loops.run_all();
        EXPECT_TRUE(slow.sub.overflowed());
        EXPECT_EQ(slow.overflows, 1);
        EXPECT_EQ(slow.sub.queued_bytes(), 0u);
        EXPECT_EQ(h.queued_bytes(), static_cast<std::int64_t>(fast.sub.queued_bytes()))
            << "the dropped queue still counts in the hub's gauge";
        // Woken so that a stream not writing now sees overflowed() (conflate=1 relies on it).
        EXPECT_EQ(slow.wakes, r.fit + 1);

        // Further groups are ignored until the stream clears the overflow; no second cut.
        for (int i = 0; i < 3; ++i) {
            h.publish(product_group("rm1", ++number));
        }
        loops.run_all();
        EXPECT_TRUE(take(slow.sub).empty());
        EXPECT_EQ(slow.sub.queued_bytes(), 0u);
        EXPECT_EQ(slow.overflows, 1);
        EXPECT_EQ(slow.wakes, r.fit + 1);
        EXPECT_EQ(take(fast.sub).size(), static_cast<std::size_t>(number));
        EXPECT_EQ(h.queued_bytes(), 0);
        h.detach(slow.sub);
        h.detach(fast.sub);
    }
}

TEST(Hub, QueuesAGroupLargerThanTheLimitWheneverTheQueueIsEmpty) {
    shard_loops loops(1);
    hub h(loops.executors());
    stream s(0, "rm1", filter(products), 1);
    h.attach(s.sub);
    h.publish(product_group("rm1", 1));
    loops.run_all();
    EXPECT_FALSE(s.sub.overflowed());
    EXPECT_EQ(numbers(take(s.sub)), std::vector<std::int64_t>{1});
    EXPECT_EQ(h.queued_bytes(), 0);

    h.publish(product_group("rm1", 2)); // the queue was emptied by take: queued again
    loops.run_all();
    EXPECT_FALSE(s.sub.overflowed());
    EXPECT_GT(h.queued_bytes(), 1);

    h.publish(product_group("rm1", 3)); // now it would pass the limit
    loops.run_all();
    EXPECT_TRUE(s.sub.overflowed());
    EXPECT_EQ(s.overflows, 1);
    EXPECT_TRUE(take(s.sub).empty());
    EXPECT_EQ(h.queued_bytes(), 0);
    h.detach(s.sub);
}

TEST(Hub, ClearOverflowLetsASubscriberQueueAgainAndOverflowAgain) {
    const auto f = filter(products);
    const std::size_t n = encoded_group(*product_group("rm1", 1)).bytes_for(f);
    shard_loops loops(1);
    hub h(loops.executors());
    stream s(0, "rm1", f, n); // room for one group
    h.attach(s.sub);
    for (std::int64_t i = 1; i <= 3; ++i) { // 1 queued, 2 overflows, 3 ignored
        h.publish(product_group("rm1", i));
    }
    loops.run_all();
    ASSERT_TRUE(s.sub.overflowed());
    ASSERT_EQ(s.overflows, 1);

    // What a conflating stream does before its catch-up.
    s.sub.drop_queue();
    s.sub.clear_overflow();
    EXPECT_FALSE(s.sub.overflowed());
    h.publish(product_group("rm1", 4));
    loops.run_all();
    EXPECT_FALSE(s.sub.overflowed());
    EXPECT_EQ(s.sub.queued_bytes(), n);
    EXPECT_EQ(h.queued_bytes(), static_cast<std::int64_t>(n));

    h.publish(product_group("rm1", 5));
    loops.run_all();
    EXPECT_TRUE(s.sub.overflowed());
    EXPECT_EQ(s.overflows, 2) << "on_overflow fires once per overflow";
    EXPECT_TRUE(take(s.sub).empty());
    EXPECT_EQ(h.queued_bytes(), 0);

    s.sub.clear_overflow();
    h.publish(product_group("rm1", 6));
    loops.run_all();
    EXPECT_EQ(numbers(take(s.sub)), std::vector<std::int64_t>{6});
    h.detach(s.sub);
}

TEST(Hub, QueuedBytesGaugeSumsTheQueuesOfEveryShard) {
    shard_loops loops(2);
    hub h(loops.executors());
    stream a(0, "rm1", filter(products | levels));
    stream b(1, "rm1", filter(levels, "1"));
    stream c(1, "rm1", filter(core::all_types, "", "", packet_format::xml));
    stream d(0, "rm2", filter(core::all_types));
    for (auto* s : {&a, &b, &c, &d}) {
        h.attach(s->sub);
    }
    const auto g = group("rm1", 1,
                         {ev(event_type::products, R"({"Pid":1})"),
                          ev(event_type::levels, R"({"Pid":1,"Location":1})", "1"),
                          ev(event_type::levels, R"({"Pid":1,"Location":2})", "2")});
    const encoded_group same(*g);
    h.publish(g);
    EXPECT_EQ(h.queued_bytes(), 0);
    loops.run_all();
    EXPECT_EQ(a.sub.queued_bytes(), same.bytes_for(a.sub.filter()));
    EXPECT_EQ(b.sub.queued_bytes(), same.bytes_for(b.sub.filter()));
    EXPECT_EQ(c.sub.queued_bytes(), same.bytes_for(c.sub.filter()));
    EXPECT_EQ(d.sub.queued_bytes(), 0u);
    EXPECT_EQ(h.queued_bytes(), queued({&a, &b, &c, &d}));

    std::vector<encoded_ptr> out = {std::make_shared<const encoded_group>(*g)};
    a.sub.take(out);
    EXPECT_EQ(out.size(), 2u) << "take appends to what the caller holds";
    EXPECT_EQ(a.sub.queued_bytes(), 0u);
    EXPECT_EQ(h.queued_bytes(), queued({&b, &c}));
    b.sub.drop_queue();
    EXPECT_EQ(h.queued_bytes(), queued({&c}));
    h.detach(c.sub);
    EXPECT_EQ(h.queued_bytes(), 0);
    for (auto* s : {&a, &b, &d}) {
        h.detach(s->sub);
    }
}

// --- closing streams ----------------------------------------------------------------------

TEST(Hub, CloseCredentialClosesOnlyThatCredentialsStreamsOnEveryShard) {
    struct row {
        std::size_t shard;
        std::string rmsystem;
        std::string credential;
        bool closed;
    };
    const row rows[] = {
        {0, "rm1", "k1", true},    {1, "rm1", "k1", true},   {2, "rm2", "k1", true},
        {0, "rm1", "k2", false},   {1, "rm2", "k10", false}, {2, "rm1", "K1", false},
        {2, "rm1", "sess", false},
    };
    shard_loops loops(3);
    hub h(loops.executors());
    std::vector<std::unique_ptr<stream>> streams;
    for (const auto& r : rows) {
        streams.push_back(
            std::make_unique<stream>(r.shard, r.rmsystem, filter(products), roomy, r.credential));
        h.attach(streams.back()->sub);
    }
    h.close_credential("k1", "api key revoked");
    for (const auto& s : streams) {
        EXPECT_FALSE(s->sub.closed()) << "closed off its shard's thread";
    }
    loops.run_all();
    h.publish(product_group("rm1", 1));
    h.publish(product_group("rm2", 2));
    loops.run_all();
    for (std::size_t i = 0; i < std::size(rows); ++i) {
        const auto& r = rows[i];
        SCOPED_TRACE(r.credential + " on shard " + std::to_string(r.shard));
        stream& s = *streams[i];
        const auto groups = take(s.sub);
        EXPECT_EQ(s.sub.closed(), r.closed);
        if (r.closed) {
            EXPECT_EQ(s.sub.close_reason(), "api key revoked");
            EXPECT_EQ(s.wakes, 1) << "woken by the close only";
            EXPECT_TRUE(groups.empty()) << "a closed stream still queues";
        } else {
            EXPECT_EQ(s.sub.close_reason(), "");
            EXPECT_EQ(groups.size(), 1u);
            EXPECT_EQ(s.wakes, 1) << "woken by its group only";
        }
    }
    EXPECT_EQ(h.subscriber_count(), std::size(rows)) << "closing is not detaching";
}

TEST(Hub, CloseAllClosesEveryStreamWithTheReason) {
    shard_loops loops(3);
    hub h(loops.executors());
    std::vector<std::unique_ptr<stream>> streams;
    for (std::size_t i = 0; i < 6; ++i) {
        streams.push_back(std::make_unique<stream>(i % 3, i < 3 ? "rm1" : "rm2", filter(products),
                                                   roomy, "k" + std::to_string(i)));
        h.attach(streams.back()->sub);
    }
    h.close_all("server shutting down");
    for (const auto& s : streams) {
        EXPECT_FALSE(s->sub.closed()) << "closed off its shard's thread";
    }
    loops.run_all();
    h.publish(product_group("rm1", 1));
    h.publish(product_group("rm2", 2));
    loops.run_all();
    for (std::size_t i = 0; i < streams.size(); ++i) {
        SCOPED_TRACE("stream " + std::to_string(i));
        const stream& s = *streams[i];
        EXPECT_TRUE(s.sub.closed());
        EXPECT_EQ(s.sub.close_reason(), "server shutting down");
        EXPECT_EQ(s.wakes, 1);
        EXPECT_EQ(s.sub.queued_bytes(), 0u);
    }
    EXPECT_EQ(h.queued_bytes(), 0);
}

// --- stream limits and barcode watchers ---------------------------------------------------

TEST(Hub, LimitsOpenStreamsPerCredential) {
    hub h(std::vector<asio::any_io_executor>{});
    enum class op { open, close };
    struct row {
        std::string_view name;
        op what;
        std::string credential;
        int limit;
        bool opened;
    };
    const row rows[] = {
        {"first of k1", op::open, "k1", 2, true},
        {"second of k1", op::open, "k1", 2, true},
        {"third of k1 is refused", op::open, "k1", 2, false},
        {"refused again", op::open, "k1", 2, false},
        {"another credential has its own count", op::open, "k2", 2, true},
        {"close one of k1", op::close, "k1", 0, false},
        {"k1 has room for one again", op::open, "k1", 2, true},
        {"and no more", op::open, "k1", 2, false},
        {"a higher limit lets one more in", op::open, "k1", 3, true},
        {"closing one never opened does nothing", op::close, "k3", 0, false},
        {"k3 still counts from zero", op::open, "k3", 1, true},
        {"up to its limit", op::open, "k3", 1, false},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.name));
        if (r.what == op::open) {
            EXPECT_EQ(h.try_open_stream(r.credential, r.limit), r.opened);
        } else {
            h.close_stream(r.credential);
        }
    }
}

TEST(Hub, StreamCredentialsListsCredentialsWithOpenStreams) {
    hub h(std::vector<asio::any_io_executor>{});
    const auto sorted = [&] {
        auto ids = h.stream_credentials();
        std::sort(ids.begin(), ids.end());
        return ids;
    };
    using ids = std::vector<std::string>;
    EXPECT_EQ(sorted(), ids{});
    ASSERT_TRUE(h.try_open_stream("k1", 1));
    EXPECT_FALSE(h.try_open_stream("k1", 1));
    ASSERT_TRUE(h.try_open_stream("sess", 5));
    ASSERT_TRUE(h.try_open_stream("sess", 5));
    EXPECT_EQ(sorted(), (ids{"k1", "sess"}));

    h.close_stream("k1"); // its one stream: the refused open was not counted
    EXPECT_EQ(sorted(), ids{"sess"});
    h.close_stream("sess");
    EXPECT_EQ(sorted(), ids{"sess"});
    h.close_stream("sess");
    EXPECT_EQ(sorted(), ids{});
    h.close_stream("sess");
    EXPECT_EQ(sorted(), ids{});
    EXPECT_TRUE(h.try_open_stream("sess", 1)) << "an extra close_stream left a negative count";
    EXPECT_FALSE(h.try_open_stream("sess", 1));
}

TEST(Hub, CountsBarcodeWatchersOfEachSessionOverShardsAndRmSystems) {
    shard_loops loops(2);
    hub h(loops.executors());
    stream s[] = {
        {0, "rm1", filter(barcode, "", "sA")},             // 0: watches sA
        {1, "rm1", filter(core::all_types, "", "sA")},     // 1: watches sA, on shard 1
        {1, "rm1", filter(products | sale, "", "sA")},     // 2: sA, does not want barcode
        {0, "rm1", filter(barcode | products, "7", "sB")}, // 3: watches sB
        {1, "rm1", filter(barcode)},                       // 4: no session: no one's watcher
        {0, "rm2", filter(barcode, "", "sC")},             // 5: watches sC of rm2
        {0, "rm1", filter(barcode, "", "sA", packet_format::xml)}, // 6: watches sA, never attached
    };
    const auto counts = [&] {
        return std::vector<int>{h.barcode_watchers("sA"), h.barcode_watchers("sB"),
                                h.barcode_watchers("sC"), h.barcode_watchers("")};
    };
    using v = std::vector<int>;
    EXPECT_EQ(counts(), (v{0, 0, 0, 0}));
    for (int i = 0; i < 6; ++i) {
        h.attach(s[i].sub);
    }
    EXPECT_EQ(counts(), (v{2, 1, 1, 0}));

    enum class op { attach, detach };
    struct row {
        std::string_view name;
        op what;
        int index;
        std::vector<int> counts; ///< sA, sB, sC, ""
    };
    const row rows[] = {
        {"detach a watcher of sA", op::detach, 0, {1, 1, 1, 0}},
        {"detach it again", op::detach, 0, {1, 1, 1, 0}},
        {"detach one never attached", op::detach, 6, {1, 1, 1, 0}},
        {"detach sA's non-watcher", op::detach, 2, {1, 1, 1, 0}},
        {"detach the last watcher of sA", op::detach, 1, {0, 1, 1, 0}},
        {"detach the session-less one", op::detach, 4, {0, 1, 1, 0}},
        {"detach sB's", op::detach, 3, {0, 0, 1, 0}},
        {"attach a watcher of sA again", op::attach, 0, {1, 0, 1, 0}},
        {"detach sC's", op::detach, 5, {1, 0, 0, 0}},
        {"detach the last", op::detach, 0, {0, 0, 0, 0}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.name));
        if (r.what == op::attach) {
            h.attach(s[r.index].sub);
        } else {
            h.detach(s[r.index].sub);
        }
        EXPECT_EQ(counts(), r.counts);
    }
}

TEST(Hub, GivesAScanTheOwnerItsSessionsBarcodeWatchersCallFor) {
    struct row {
        int watchers; ///< barcode subscribers of sA
        int owner;    ///< the Owner they receive
    };
    const row rows[] = {{1, 1}, {2, 2}, {3, 2}};
    for (const auto& r : rows) {
        SCOPED_TRACE(std::to_string(r.watchers) + " watchers");
        shard_loops loops(2);
        hub h(loops.executors());
        std::vector<std::unique_ptr<stream>> mine;
        for (int i = 0; i < r.watchers; ++i) {
            mine.push_back(std::make_unique<stream>(static_cast<std::size_t>(i % 2), "rm1",
                                                    filter(barcode, "", "sA")));
            h.attach(mine.back()->sub);
        }
        stream theirs(1, "rm1", filter(barcode, "", "sB"));
        stream nobody(0, "rm1", filter(barcode));
        h.attach(theirs.sub);
        h.attach(nobody.sub);
        h.publish(scan("rm1", 1, "sA"));
        loops.run_all();
        for (auto& s : mine) {
            const auto got = take(s->sub);
            ASSERT_EQ(got.size(), 1u);
            EXPECT_EQ(owner(*got[0], s->sub.filter()), r.owner);
        }
        for (auto* s : {&theirs, &nobody}) {
            const auto got = take(s->sub);
            ASSERT_EQ(got.size(), 1u);
            EXPECT_EQ(owner(*got[0], s->sub.filter()), 0);
        }
    }
}

} // namespace
} // namespace posfeed::feed
