// The store contract: what several processes (nodes) share through one database, and the
// parts of the interface that exist for them (follow, login failures, presence).

#include "store_contract.hpp"

namespace posfeed::store::contract {
namespace {

/// Skips a test of several nodes on a store whose database one process owns.
#define REQUIRE_SHARED()                                                                           \
    if (!GetParam().shared) {                                                                      \
        GTEST_SKIP() << GetParam().name << ": one process per database";                           \
    }

TEST_P(StoreContract, LoginFailuresCountUntilCleared) {
    const auto none = db_->get_login_failures("alice");
    EXPECT_EQ(none.count, 0);
    EXPECT_GT(none.now_ms, 0) << "the database's clock";
    for (int i = 1; i <= 3; ++i) {
        db_->record_login_failure("alice");
        const auto f = db_->get_login_failures("alice");
        EXPECT_EQ(f.count, i);
        EXPECT_GE(f.last_ms, none.now_ms);
        EXPECT_LE(f.last_ms, f.now_ms);
    }
    EXPECT_EQ(db_->get_login_failures("Alice").count, 0) << "names are case-sensitive";
    EXPECT_EQ(db_->get_login_failures("bob").count, 0);
    db_->clear_login_failures("alice");
    EXPECT_EQ(db_->get_login_failures("alice").count, 0);
    db_->clear_login_failures("nobody"); // nothing to clear is fine
}

TEST_P(StoreContract, AFollowedRmsystemReachesTheListenerFromWhenFollowIsReady) {
    ASSERT_TRUE(db_->create_rmsystem("late").ok());
    follow("late", *db_);
    const auto r = write(emit_events({product_event(1)}), "late");
    ASSERT_TRUE(r.rve.has_value());
    const auto groups = committed_through(*r.rve, "late");
    ASSERT_FALSE(groups.empty());
    EXPECT_EQ(groups.back()->rve, *r.rve);
    db_->unfollow("late");
    EXPECT_EQ(db_->stats().followed, GetParam().shared ? 1u : 0u) << "rm1 is still followed";
}

TEST_P(StoreContract, PresenceIsWhatOtherNodesPublished) {
    if (!GetParam().shared) {
        EXPECT_TRUE(db_->exchange_presence("a", {{"s1", 1}}).empty())
            << "one process per database: no other node";
        return;
    }
    store& b = open_other();
    EXPECT_FALSE(db_->exchange_presence("a", {{"s1", 1}}).contains("s1")) << "not its own";
    EXPECT_EQ(b.exchange_presence("b", {{"s1", 2}, {"s2", 1}}),
              (std::unordered_map<std::string, int>{{"s1", 1}}));
    EXPECT_EQ(db_->exchange_presence("a", {{"s1", 1}}),
              (std::unordered_map<std::string, int>{{"s1", 2}, {"s2", 1}}));
    // A node's new report replaces its last.
    EXPECT_EQ(b.exchange_presence("b", {}), (std::unordered_map<std::string, int>{{"s1", 1}}));
    EXPECT_TRUE(db_->exchange_presence("a", {}).empty());
}

TEST_P(StoreContract, WritesThroughTwoNodesReachBothListenersInRveOrder) {
    REQUIRE_SHARED();
    store& b = open_other();
    follow("rm1", b);
    constexpr int threads = 6;
    constexpr int per_thread = 40;
    std::mutex mu;
    std::vector<core::rve> rves;
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
        writers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                store& node = (t + i) % 2 == 0 ? *db_ : b;
                const auto r =
                    write_and_wait(node, "rm1", emit_events({product_event(t * 1000 + i)}));
                EXPECT_TRUE(r.body.ok());
                if (r.rve) {
                    const std::lock_guard lock(mu);
                    rves.push_back(*r.rve);
                }
            }
        });
    }
    for (auto& w : writers) {
        w.join();
    }
    ASSERT_EQ(rves.size(), static_cast<std::size_t>(threads * per_thread));
    std::sort(rves.begin(), rves.end());
    EXPECT_EQ(std::adjacent_find(rves.begin(), rves.end()), rves.end()) << "RVEs are unique";
    // Each node's listener: every committed group, once, in RVE order, whichever node wrote it.
    EXPECT_EQ(rves_of(committed_through(rves.back())), rves) << "node a";
    other_log_.wait_for("rm1", rves.back());
    EXPECT_EQ(rves_of(other_log_.groups("rm1")), rves) << "node b";
    EXPECT_EQ(rves_of(read_all(core::all_types)), rves) << "the log";
}

TEST_P(StoreContract, ARevocationOnOneNodeIsSeenByTheOther) {
    REQUIRE_SHARED();
    store& b = open_other();
    ASSERT_TRUE(db_->add_api_key({"00000000000000aa", "rm1", "h", "*", false}).ok());
    const auto before = db_->revoked_since(std::numeric_limits<std::int64_t>::max()).now_ms;
    ASSERT_TRUE(b.revoke_api_key("00000000000000aa").ok());
    EXPECT_TRUE(db_->find_api_key("00000000000000aa")->revoked);
    EXPECT_EQ(db_->revoked_since(before).ids, std::vector<std::string>{"00000000000000aa"});
}

TEST_P(StoreContract, AKeyRevokedOnOneNodeCannotCommitOnTheOther) {
    REQUIRE_SHARED();
    store& b = open_other();
    ASSERT_TRUE(db_->add_api_key({"00000000000000ab", "rm1", "h", "*", false}).ok());
    const auto emit = [](write_txn& tx) -> core::result<std::string> {
        tx.emit(product_event(1));
        return std::string("{}");
    };
    ASSERT_TRUE(write(emit, "rm1", write_guard{"00000000000000ab"}).body.ok());
    ASSERT_TRUE(b.revoke_api_key("00000000000000ab").ok());
    const auto r = write(emit, "rm1", write_guard{"00000000000000ab"});
    ASSERT_FALSE(r.body.ok());
    EXPECT_EQ(r.body.err().code, core::error_code::unauthenticated);
}

TEST_P(StoreContract, LoginFailuresAreSharedByEveryNode) {
    REQUIRE_SHARED();
    store& b = open_other();
    db_->record_login_failure("carol");
    b.record_login_failure("carol");
    EXPECT_EQ(db_->get_login_failures("carol").count, 2);
    b.clear_login_failures("carol");
    EXPECT_EQ(db_->get_login_failures("carol").count, 0);
}

TEST_P(StoreContract, OneNodePrunesWhileAnotherPrunesToo) {
    REQUIRE_SHARED();
    store& b = open_other();
    std::vector<core::rve> rves;
    for (int i = 0; i < 20; ++i) {
        now_ = t0 + i * 1000;
        rves.push_back(*write(emit_events({product_event(i)})).rve);
    }
    const core::rve cutoff{t0 + 10 * 1000};
    std::size_t a_deleted = 0;
    std::size_t b_deleted = 0;
    std::thread other([&] { b_deleted = b.prune_events(cutoff); });
    a_deleted = db_->prune_events(cutoff);
    other.join();
    // Whichever ran (one, or both one after the other), the ten older events are gone once.
    EXPECT_LE(a_deleted + b_deleted, 10u);
    db_->prune_events(cutoff);
    const auto left = read_all(core::all_types);
    EXPECT_EQ(rves_of(left), std::vector<core::rve>(rves.begin() + 10, rves.end()));
    EXPECT_EQ(db_->read_events({"rm1", core::rve{0}, core::all_types, "", 1}).history_from,
              rves[9]);
}

} // namespace
} // namespace posfeed::store::contract
