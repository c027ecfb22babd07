#include "store/open_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <latch>
#include <mutex>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace posfeed::core {
/// Readable RVEs in assertion failures.
inline void PrintTo(const rve& v, std::ostream* os) {
    *os << v.str();
}
} // namespace posfeed::core

namespace posfeed::store {
namespace {

namespace fs = std::filesystem;
using core::event_type;

constexpr std::int64_t t0 = 1627377065994; // 20210727.091105994

/// A write that logs `events` (and puts one record per event) and answers `body`.
write_fn emit_events(std::vector<event> events, std::string body = R"({"ok":true})") {
    return [events = std::move(events),
            body = std::move(body)](write_txn& tx) -> core::result<std::string> {
        for (const auto& e : events) {
            tx.emit(e);
        }
        return body;
    };
}

/// A live record; its rve is set by write_txn::put.
record make_record(core::record_kind kind, std::string id, std::string location, std::string body) {
    record r;
    r.kind = kind;
    r.id = std::move(id);
    r.location = std::move(location);
    r.body = std::move(body);
    return r;
}

event product_event(int pid) {
    return event{event_type::products, "", "", R"({"Pid":)" + std::to_string(pid) + "}"};
}

event level_event(int pid, std::string location) {
    return event{event_type::levels, location, "",
                 R"({"Pid":)" + std::to_string(pid) + R"(,"Location":")" + location + R"("})"};
}

event session_event(event_type type, std::string session, std::string body) {
    return event{type, "", std::move(session), std::move(body)};
}

/// A store in a fresh temporary directory with a clock the test sets by hand.
class SqliteStore : public ::testing::Test {
  protected:
    void SetUp() override {
        std::random_device rd;
        dir_ = fs::temp_directory_path() /
               ("posfeed_store_test_" + std::to_string(rd()) + "_" + std::to_string(rd()));
        ASSERT_TRUE(fs::create_directories(dir_));
        open();
        ASSERT_TRUE(db_->create_rmsystem("rm1").ok());
    }

    void TearDown() override {
        db_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    void open() {
        store_options opts;
        opts.now = [this] { return now_.load(); };
        db_ = open_store("sqlite:" + (dir_ / "t.db").string(), std::move(opts));
    }

    void reopen() {
        db_->close();
        db_.reset();
        open();
    }

    write_result write(write_fn fn, std::string rmsystem = "rm1") {
        return write_and_wait(*db_, std::move(rmsystem), std::move(fn));
    }

    /// Every event of `types` (and of `session`) in rm1, read page by page with `limit`.
    std::vector<event_group> read_all(core::type_mask types, std::size_t limit = 1000,
                                      std::string session = "") {
        std::vector<event_group> out;
        event_query q{"rm1", core::rve{0}, types, std::move(session), limit};
        for (int pages = 0; pages < 10000; ++pages) {
            event_page page = db_->read_events(q);
            for (auto& g : page.groups) {
                out.push_back(std::move(g));
            }
            if (!page.more) {
                return out;
            }
            EXPECT_FALSE(out.empty()) << "a page with more=true must not be empty";
            if (out.empty()) {
                return out;
            }
            q.after = out.back().rve;
        }
        ADD_FAILURE() << "paging did not end";
        return out;
    }

    fs::path dir_;
    std::atomic<std::int64_t> now_{t0};
    std::unique_ptr<store> db_;
};

TEST_F(SqliteStore, CreatesRmsystemsWithValidIds) {
    const std::string ids[] = {"1", "1_2_3_4", "_", "Retailer_A9", std::string(64, 'z')};
    for (const auto& id : ids) {
        SCOPED_TRACE(id);
        EXPECT_FALSE(db_->rmsystem_exists(id));
        const auto s = db_->create_rmsystem(id);
        ASSERT_TRUE(s.ok()) << s.err().message;
        EXPECT_TRUE(db_->rmsystem_exists(id));
        EXPECT_EQ(db_->newest_rve(id), core::rve{0});
    }
}

TEST_F(SqliteStore, RejectsMalformedRmsystemIdsNamingThem) {
    const std::string ids[] = {"",
                               std::string(65, 'a'),
                               "a-b",
                               "a b",
                               "a.b",
                               "a/b",
                               "caf\xC3\xA9",
                               "1'; DROP TABLE rmsystems; --"};
    for (const auto& id : ids) {
        SCOPED_TRACE(id);
        const auto s = db_->create_rmsystem(id);
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.err().code, core::error_code::invalid_argument);
        EXPECT_NE(s.err().message.find("'" + id + "'"), std::string::npos) << s.err().message;
        EXPECT_FALSE(db_->rmsystem_exists(id));
    }
    EXPECT_TRUE(db_->rmsystem_exists("rm1"));
}

TEST_F(SqliteStore, DuplicateRmsystemIsAConflict) {
    const auto s = db_->create_rmsystem("rm1");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().code, core::error_code::conflict);
    EXPECT_NE(s.err().message.find("rm1"), std::string::npos);
    // Ids are case-sensitive: RM1 is another RmSystem.
    EXPECT_TRUE(db_->create_rmsystem("RM1").ok());
}

TEST_F(SqliteStore, ValidRmsystemIdFollowsTheSpec) {
    EXPECT_TRUE(valid_rmsystem_id("1_2_3_4"));
    EXPECT_TRUE(valid_rmsystem_id(std::string(64, '9')));
    EXPECT_FALSE(valid_rmsystem_id(std::string(65, '9')));
    EXPECT_FALSE(valid_rmsystem_id(""));
    EXPECT_FALSE(valid_rmsystem_id("a:b"));
}

TEST_F(SqliteStore, AddsFindsAndRevokesApiKeys) {
    const api_key_row key{"00112233aabbccdd", "rm1", std::string(64, 'f'), "products,write", false};
    ASSERT_TRUE(db_->add_api_key(key).ok());
    auto found = db_->find_api_key("00112233aabbccdd");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, key.id);
    EXPECT_EQ(found->rmsystem, "rm1");
    EXPECT_EQ(found->hash, key.hash);
    EXPECT_EQ(found->scopes, "products,write");
    EXPECT_FALSE(found->revoked);

    ASSERT_TRUE(db_->revoke_api_key("00112233aabbccdd").ok());
    found = db_->find_api_key("00112233aabbccdd");
    ASSERT_TRUE(found.has_value());
    EXPECT_TRUE(found->revoked);
}

TEST_F(SqliteStore, UnknownApiKeyIsNotFound) {
    EXPECT_FALSE(db_->find_api_key("ffffffffffffffff").has_value());
    const auto s = db_->revoke_api_key("ffffffffffffffff");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().code, core::error_code::not_found);
    EXPECT_NE(s.err().message.find("ffffffffffffffff"), std::string::npos);
}

TEST_F(SqliteStore, ApiKeyOfUnknownRmsystemIsRejected) {
    const auto s = db_->add_api_key(api_key_row{"0011223344556677", "nope", "h", "*", false});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().code, core::error_code::not_found);
    EXPECT_NE(s.err().message.find("nope"), std::string::npos);
    EXPECT_FALSE(db_->find_api_key("0011223344556677").has_value());
}

TEST_F(SqliteStore, WriteGetsItsRveFromTheInjectedClock) {
    const auto r = write(emit_events({product_event(1)}, R"({"data":1})"));
    ASSERT_TRUE(r.body.ok()) << r.body.err().message;
    EXPECT_EQ(*r.body, R"({"data":1})");
    ASSERT_TRUE(r.rve.has_value());
    EXPECT_EQ(r.rve->ms, t0);
    EXPECT_EQ(db_->newest_rve("rm1").ms, t0);
}

TEST_F(SqliteStore, WriteThatChangesNothingGetsNoRve) {
    const auto nothing = write([](write_txn& tx) -> core::result<std::string> {
        EXPECT_EQ(tx.rmsystem(), "rm1");
        EXPECT_FALSE(tx.get(core::record_kind::product, "1").has_value());
        return std::string("{}");
    });
    ASSERT_TRUE(nothing.body.ok());
    EXPECT_FALSE(nothing.rve.has_value());
    EXPECT_EQ(db_->newest_rve("rm1"), core::rve{0});
    EXPECT_TRUE(read_all(core::all_types).empty());

    // The clock did not move, and the next change still gets now: no RVE was used up.
    const auto change = write(emit_events({product_event(1)}));
    ASSERT_TRUE(change.rve.has_value());
    EXPECT_EQ(change.rve->ms, t0);
}

TEST_F(SqliteStore, EveryEventAndRecordOfAWriteSharesOneRve) {
    const auto r = write([](write_txn& tx) -> core::result<std::string> {
        const core::rve first = tx.rve();
        tx.put(make_record(core::record_kind::product, "7", "", R"({"Pid":7})"));
        tx.emit(product_event(7));
        tx.emit(level_event(7, "1"));
        EXPECT_EQ(tx.rve(), first);
        const auto own = tx.get(core::record_kind::product, "7");
        EXPECT_TRUE(own.has_value());
        if (own) {
            EXPECT_EQ(own->rve, first);
            EXPECT_EQ(own->body, R"({"Pid":7})");
        }
        return std::string("{}");
    });
    ASSERT_TRUE(r.rve.has_value());
    const auto rec = db_->get_record("rm1", core::record_kind::product, "7");
    ASSERT_TRUE(rec.has_value());
    EXPECT_EQ(rec->rve, *r.rve);
    const auto groups = read_all(core::all_types);
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0].rve, *r.rve);
    EXPECT_EQ(groups[0].rmsystem, "rm1");
    ASSERT_EQ(groups[0].events.size(), 2u);
    EXPECT_EQ(groups[0].events[0].type, event_type::products);
    EXPECT_EQ(groups[0].events[1].type, event_type::levels);
    EXPECT_EQ(groups[0].events[1].location, "1");
}

TEST_F(SqliteStore, WritesInABurstGetStrictlyIncreasingRves) {
    core::rve previous{0};
    for (int i = 0; i < 50; ++i) {
        const auto r = write(emit_events({product_event(i)}));
        ASSERT_TRUE(r.rve.has_value());
        EXPECT_GT(*r.rve, previous);
        previous = *r.rve;
    }
    EXPECT_EQ(previous.ms, t0 + 49) << "a burst runs ahead of the frozen clock";
}

TEST_F(SqliteStore, FailingWriteIsRolledBack) {
    const auto r = write([](write_txn& tx) -> core::result<std::string> {
        tx.put(make_record(core::record_kind::product, "1", "", R"({"Pid":1})"));
        tx.emit(product_event(1));
        (void)tx.next_id("pid");
        return core::invalid_argument("field 'Price' is bad");
    });
    ASSERT_FALSE(r.body.ok());
    EXPECT_EQ(r.body.err().code, core::error_code::invalid_argument);
    EXPECT_EQ(r.body.err().message, "field 'Price' is bad");
    EXPECT_FALSE(r.rve.has_value());
    EXPECT_FALSE(db_->get_record("rm1", core::record_kind::product, "1").has_value());
    EXPECT_TRUE(read_all(core::all_types).empty());
    EXPECT_EQ(db_->newest_rve("rm1"), core::rve{0});

    // The counter increment was rolled back too, and so was the RVE.
    const auto next = write([](write_txn& tx) -> core::result<std::string> {
        tx.emit(product_event(1));
        return std::to_string(tx.next_id("pid"));
    });
    ASSERT_TRUE(next.body.ok());
    EXPECT_EQ(*next.body, "1");
    EXPECT_EQ(next.rve->ms, t0);
}

TEST_F(SqliteStore, ThrowingWriteIsAnInternalErrorAndRolledBack) {
    const auto r = write([](write_txn& tx) -> core::result<std::string> {
        tx.emit(product_event(1));
        throw std::runtime_error("boom");
    });
    ASSERT_FALSE(r.body.ok());
    EXPECT_EQ(r.body.err().code, core::error_code::internal);
    EXPECT_FALSE(r.rve.has_value());
    EXPECT_TRUE(read_all(core::all_types).empty());
}

TEST_F(SqliteStore, KeepOnErrorCommitsAWriteThatAnswersWithAnError) {
    std::vector<group_ptr> committed;
    db_->set_commit_listener([&](group_ptr g) { committed.push_back(std::move(g)); });
    const auto r = write([](write_txn& tx) -> core::result<std::string> {
        tx.emit(session_event(event_type::usermessage, "sA", R"({"Text":"unknown barcode"})"));
        tx.keep_on_error();
        return core::not_found("no product has barcode '123'");
    });
    ASSERT_FALSE(r.body.ok());
    EXPECT_EQ(r.body.err().code, core::error_code::not_found);
    ASSERT_TRUE(r.rve.has_value());
    ASSERT_EQ(committed.size(), 1u);
    EXPECT_EQ(committed[0]->rve, *r.rve);
    const auto groups = read_all(core::session_types, 1000, "sA");
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0].events[0].body, R"({"Text":"unknown barcode"})");
}

TEST_F(SqliteStore, ThrowingWriteIsRolledBackEvenAfterKeepOnError) {
    // The error says "it was not applied": it must not be.
    std::vector<group_ptr> committed;
    db_->set_commit_listener([&](group_ptr g) { committed.push_back(std::move(g)); });
    const auto r = write([](write_txn& tx) -> core::result<std::string> {
        tx.keep_on_error();
        tx.put(make_record(core::record_kind::product, "1", "", "{}"));
        tx.emit(product_event(1));
        throw std::runtime_error("boom");
    });
    ASSERT_FALSE(r.body.ok());
    EXPECT_EQ(r.body.err().code, core::error_code::internal);
    EXPECT_FALSE(r.rve.has_value());
    EXPECT_TRUE(committed.empty());
    EXPECT_FALSE(db_->get_record("rm1", core::record_kind::product, "1").has_value());
    EXPECT_TRUE(read_all(core::all_types).empty());
}

TEST_F(SqliteStore, FindsTheFirstLiveRecordByLookupKey) {
    const auto r = write([](write_txn& tx) -> core::result<std::string> {
        record deleted = make_record(core::record_kind::product, "1", "", R"({"Pid":1})");
        deleted.lookup = "4006381333931";
        deleted.deleted = true;
        tx.put(deleted);
        record live = make_record(core::record_kind::product, "2", "", R"({"Pid":2})");
        live.lookup = "4006381333931";
        tx.put(live);
        record other = make_record(core::record_kind::product, "3", "", R"({"Pid":3})");
        other.lookup = "5012345678900";
        tx.put(other);
        const auto found = tx.find(core::record_kind::product, "4006381333931");
        if (!found || found->id != "2") {
            return core::internal_error("find did not return the live record");
        }
        if (tx.find(core::record_kind::product, "0000000000000") ||
            tx.find(core::record_kind::customer, "4006381333931")) {
            return core::internal_error("find returned a record for an unknown key or kind");
        }
        return std::string("{}");
    });
    EXPECT_TRUE(r.body.ok()) << r.body.err().message;
}

TEST_F(SqliteStore, CountersStartAtOneAndArePerName) {
    const auto r = write([](write_txn& tx) -> core::result<std::string> {
        std::string out;
        out += std::to_string(tx.next_id("pid"));
        out += std::to_string(tx.next_id("pid"));
        out += std::to_string(tx.next_id("cid"));
        out += std::to_string(tx.next_id("pid"));
        return out;
    });
    ASSERT_TRUE(r.body.ok());
    EXPECT_EQ(*r.body, "1213");
}

TEST_F(SqliteStore, FailingWritesDoNotAffectOthersInTheSameBatch) {
    std::mutex mu;
    std::vector<group_ptr> committed;
    db_->set_commit_listener([&](group_ptr g) {
        const std::lock_guard lock(mu);
        committed.push_back(std::move(g));
    });

    // Hold the writer inside a first write while the others queue up, so that they are
    // committed together in one batch.
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<write_result> gate_done;
    db_->submit(
        "rm1",
        [released](write_txn&) -> core::result<std::string> {
            released.wait();
            return std::string("gate");
        },
        [&](write_result r) { gate_done.set_value(std::move(r)); });

    constexpr int threads = 4;
    constexpr int per_thread = 50;
    constexpr int total = threads * per_thread;
    std::vector<write_result> results(total);
    std::vector<core::rve> seen_by_listener_at_done(total);
    std::latch all_done(total);
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
        submitters.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const int n = t * per_thread + i;
                write_fn fn = [n](write_txn& tx) -> core::result<std::string> {
                    tx.put(make_record(core::record_kind::product, std::to_string(n), "", "{}"));
                    tx.emit(product_event(n));
                    if (n % 3 == 0) {
                        return core::invalid_argument("write " + std::to_string(n) + " fails");
                    }
                    if (n % 7 == 0) {
                        throw std::runtime_error("write throws");
                    }
                    return std::to_string(n);
                };
                db_->submit("rm1", std::move(fn), [&, n](write_result r) {
                    {
                        const std::lock_guard lock(mu);
                        if (!committed.empty()) {
                            seen_by_listener_at_done[n] = committed.back()->rve;
                        }
                    }
                    results[n] = std::move(r);
                    all_done.count_down();
                });
            }
        });
    }
    for (auto& t : submitters) {
        t.join();
    }
    release.set_value();
    all_done.wait();
    ASSERT_TRUE(gate_done.get_future().get().body.ok());

    std::vector<core::rve> rves;
    for (int n = 0; n < total; ++n) {
        SCOPED_TRACE(n);
        const auto& r = results[n];
        const bool should_fail = n % 3 == 0 || n % 7 == 0;
        EXPECT_EQ(r.body.ok(), !should_fail);
        EXPECT_EQ(r.rve.has_value(), !should_fail);
        EXPECT_EQ(db_->get_record("rm1", core::record_kind::product, std::to_string(n)).has_value(),
                  !should_fail);
        if (r.body.ok()) {
            EXPECT_EQ(*r.body, std::to_string(n));
            rves.push_back(*r.rve);
            // The group reached the listener before the write was reported done.
            EXPECT_GE(seen_by_listener_at_done[n], *r.rve);
        } else {
            EXPECT_EQ(r.body.err().code,
                      n % 3 == 0 ? core::error_code::invalid_argument : core::error_code::internal);
        }
    }
    std::sort(rves.begin(), rves.end());
    EXPECT_EQ(std::adjacent_find(rves.begin(), rves.end()), rves.end()) << "RVEs must be unique";

    const auto groups = read_all(bit(event_type::products));
    ASSERT_EQ(groups.size(), rves.size());
    for (std::size_t i = 0; i < groups.size(); ++i) {
        EXPECT_EQ(groups[i].rve, rves[i]);
        EXPECT_EQ(groups[i].events.size(), 1u);
    }

    const std::lock_guard lock(mu);
    ASSERT_EQ(committed.size(), rves.size());
    for (std::size_t i = 0; i < committed.size(); ++i) {
        EXPECT_EQ(committed[i]->rve, rves[i]) << "listener order";
        EXPECT_EQ(committed[i]->rmsystem, "rm1");
    }
}

TEST_F(SqliteStore, CommitListenerReceivesGroupsInRveOrderWithTheirEvents) {
    std::vector<group_ptr> committed; // written on the writer thread only, read after waits
    db_->set_commit_listener([&](group_ptr g) { committed.push_back(std::move(g)); });
    std::vector<core::rve> rves;
    for (int i = 0; i < 20; ++i) {
        if (i == 10) {
            now_ -= 3600000; // the clock steps back an hour mid-way
        }
        const auto r = write(emit_events({product_event(i), level_event(i, "3")}));
        ASSERT_TRUE(r.rve.has_value());
        rves.push_back(*r.rve);
    }
    // A write without events is not published.
    ASSERT_TRUE(
        write([](write_txn&) -> core::result<std::string> { return std::string("{}"); }).body.ok());

    ASSERT_EQ(committed.size(), rves.size());
    for (std::size_t i = 0; i < committed.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(committed[i]->rve, rves[i]);
        if (i > 0) {
            EXPECT_GT(committed[i]->rve, committed[i - 1]->rve);
        }
        ASSERT_EQ(committed[i]->events.size(), 2u);
        EXPECT_EQ(committed[i]->events[0].body, product_event(static_cast<int>(i)).body);
        EXPECT_EQ(committed[i]->events[1].location, "3");
    }
}

TEST_F(SqliteStore, ReadsOnlyTheRequestedTypes) {
    ASSERT_TRUE(write(emit_events({product_event(1)})).rve);
    ASSERT_TRUE(write(emit_events({event{event_type::customers, "", "", R"({"Cid":1})"}})).rve);
    ASSERT_TRUE(write(emit_events({level_event(1, "2"), product_event(2)})).rve);
    ASSERT_TRUE(
        write(emit_events({event{event_type::barcode, "2", "", R"({"RawScan":"x"})"}})).rve);

    struct row {
        core::type_mask types;
        std::vector<std::size_t> group_sizes;
    };
    const row rows[] = {
        {bit(event_type::products), {1, 1}},
        {bit(event_type::customers), {1}},
        {bit(event_type::products) | bit(event_type::levels), {1, 2}},
        {bit(event_type::barcode), {1}},
        {bit(event_type::sales), {}},
        {0, {}},
        {core::all_types, {1, 1, 2, 1}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.types);
        const auto groups = read_all(r.types);
        ASSERT_EQ(groups.size(), r.group_sizes.size());
        for (std::size_t i = 0; i < groups.size(); ++i) {
            EXPECT_EQ(groups[i].events.size(), r.group_sizes[i]);
            for (const auto& e : groups[i].events) {
                EXPECT_NE(r.types & bit(e.type), 0u);
            }
        }
    }
}

TEST_F(SqliteStore, SessionScopedTypesAreFilteredBySession) {
    ASSERT_TRUE(write(emit_events({session_event(event_type::sale, "sA", R"({"Sid":1})")})).rve);
    ASSERT_TRUE(write(emit_events({session_event(event_type::sale, "sB", R"({"Sid":2})")})).rve);
    ASSERT_TRUE(write(emit_events({session_event(event_type::usermessage, "sA", R"({"Id":1})"),
                                   product_event(1)}))
                    .rve);
    ASSERT_TRUE(
        write(emit_events({session_event(event_type::userprompt, "sB", R"({"PromptId":1})")})).rve);

    const core::type_mask session_and_products = core::session_types | bit(event_type::products);
    {
        const auto groups = read_all(session_and_products, 1000, "sA");
        ASSERT_EQ(groups.size(), 2u);
        EXPECT_EQ(groups[0].events.size(), 1u);
        EXPECT_EQ(groups[0].events[0].body, R"({"Sid":1})");
        ASSERT_EQ(groups[1].events.size(), 2u);
        EXPECT_EQ(groups[1].events[0].type, event_type::usermessage);
        EXPECT_EQ(groups[1].events[0].session, "sA");
        EXPECT_EQ(groups[1].events[1].type, event_type::products);
    }
    {
        const auto groups = read_all(core::session_types, 1000, "sB");
        ASSERT_EQ(groups.size(), 2u);
        EXPECT_EQ(groups[0].events[0].body, R"({"Sid":2})");
        EXPECT_EQ(groups[1].events[0].type, event_type::userprompt);
    }
    {
        // Without a session, session-scoped types are never read; plain types still are.
        const auto groups = read_all(session_and_products, 1000, "");
        ASSERT_EQ(groups.size(), 1u);
        ASSERT_EQ(groups[0].events.size(), 1u);
        EXPECT_EQ(groups[0].events[0].type, event_type::products);
    }
    EXPECT_TRUE(read_all(core::session_types, 1000, "sC").empty());
    EXPECT_TRUE(read_all(bit(event_type::sale), 1000, "sa").empty())
        << "sessions are case-sensitive";
}

TEST_F(SqliteStore, PagingNeverCutsAGroup) {
    // Groups of sizes 1, 5, 1, 3, 4 at five RVEs; limits smaller than the big groups.
    const std::vector<std::size_t> sizes = {1, 5, 1, 3, 4};
    int pid = 0;
    for (const auto n : sizes) {
        std::vector<event> events;
        for (std::size_t i = 0; i < n; ++i) {
            events.push_back(level_event(++pid, "1"));
        }
        ASSERT_TRUE(write(emit_events(std::move(events))).rve);
    }
    for (std::size_t limit = 1; limit <= 8; ++limit) {
        SCOPED_TRACE(limit);
        const auto groups = read_all(bit(event_type::levels), limit);
        ASSERT_EQ(groups.size(), sizes.size());
        int expected_pid = 0;
        for (std::size_t i = 0; i < groups.size(); ++i) {
            ASSERT_EQ(groups[i].events.size(), sizes[i]) << "group " << i;
            for (const auto& e : groups[i].events) {
                EXPECT_EQ(e.body, level_event(++expected_pid, "1").body) << "logged order";
            }
            if (i > 0) {
                EXPECT_GT(groups[i].rve, groups[i - 1].rve);
            }
        }
    }
}

TEST_F(SqliteStore, PageSmallerThanTheFirstGroupReturnsTheWholeGroup) {
    std::vector<event> big;
    for (int i = 0; i < 6; ++i) {
        big.push_back(product_event(i));
    }
    const auto first = write(emit_events(big));
    const auto second = write(emit_events({product_event(100)}));
    ASSERT_TRUE(first.rve && second.rve);

    const auto page = db_->read_events({"rm1", core::rve{0}, bit(event_type::products), "", 2});
    ASSERT_EQ(page.groups.size(), 1u);
    EXPECT_EQ(page.groups[0].rve, *first.rve);
    EXPECT_EQ(page.groups[0].events.size(), 6u);
    EXPECT_TRUE(page.more);

    const auto rest = db_->read_events({"rm1", *first.rve, bit(event_type::products), "", 2});
    ASSERT_EQ(rest.groups.size(), 1u);
    EXPECT_EQ(rest.groups[0].rve, *second.rve);
    EXPECT_FALSE(rest.more);
}

TEST_F(SqliteStore, PageDropsAGroupTheLimitWouldCut) {
    const auto a = write(emit_events({product_event(1)}));
    const auto b = write(emit_events({product_event(2), product_event(3), product_event(4)}));
    ASSERT_TRUE(a.rve && b.rve);
    const auto page = db_->read_events({"rm1", core::rve{0}, bit(event_type::products), "", 3});
    ASSERT_EQ(page.groups.size(), 1u);
    EXPECT_EQ(page.groups[0].rve, *a.rve);
    EXPECT_TRUE(page.more);
}

TEST_F(SqliteStore, PageReportsMoreOnlyWhenCut) {
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(write(emit_events({product_event(i)})).rve);
    }
    const auto all = db_->read_events({"rm1", core::rve{0}, bit(event_type::products), "", 10});
    EXPECT_EQ(all.groups.size(), 3u);
    EXPECT_FALSE(all.more);

    const auto cut = db_->read_events({"rm1", core::rve{0}, bit(event_type::products), "", 2});
    EXPECT_TRUE(cut.more);
    EXPECT_FALSE(cut.groups.empty());
}

TEST_F(SqliteStore, ReadStartsAfterTheGivenRveExclusive) {
    std::vector<core::rve> rves;
    for (int i = 0; i < 4; ++i) {
        rves.push_back(*write(emit_events({product_event(i)})).rve);
    }
    const auto page = db_->read_events({"rm1", rves[1], bit(event_type::products), "", 100});
    ASSERT_EQ(page.groups.size(), 2u);
    EXPECT_EQ(page.groups[0].rve, rves[2]);
    EXPECT_EQ(page.groups[1].rve, rves[3]);
    EXPECT_TRUE(db_->read_events({"rm1", rves[3], core::all_types, "", 100}).groups.empty());
}

TEST_F(SqliteStore, PageReportsTheNewestRve) {
    const auto empty = db_->read_events({"rm1", core::rve{0}, core::all_types, "", 10});
    EXPECT_EQ(empty.newest, core::rve{0});
    EXPECT_EQ(empty.history_from, core::rve{0});
    EXPECT_FALSE(empty.more);

    ASSERT_TRUE(write(emit_events({product_event(1)})).rve);
    const auto last = write(emit_events({level_event(1, "1")}));
    ASSERT_TRUE(last.rve);
    // newest covers every type, not just the ones asked for, and every page.
    const auto page = db_->read_events({"rm1", core::rve{0}, bit(event_type::products), "", 10});
    EXPECT_EQ(page.newest, *last.rve);
    EXPECT_EQ(db_->newest_rve("rm1"), *last.rve);
    const auto none = db_->read_events({"rm1", core::rve{0}, 0, "", 10});
    EXPECT_TRUE(none.groups.empty());
    EXPECT_EQ(none.newest, *last.rve);
}

TEST_F(SqliteStore, RmsystemsAreIsolated) {
    ASSERT_TRUE(db_->create_rmsystem("rm2").ok());
    ASSERT_TRUE(write(emit_events({product_event(1)}), "rm1").rve);
    ASSERT_TRUE(write(emit_events({product_event(2)}), "rm2").rve);
    const auto rm2 = db_->read_events({"rm2", core::rve{0}, core::all_types, "", 10});
    ASSERT_EQ(rm2.groups.size(), 1u);
    EXPECT_EQ(rm2.groups[0].rmsystem, "rm2");
    EXPECT_EQ(rm2.groups[0].events[0].body, product_event(2).body);
    EXPECT_FALSE(db_->get_record("rm2", core::record_kind::product, "1").has_value());
}

TEST_F(SqliteStore, RveContinuesAfterRestartEvenIfTheClockWentBackwards) {
    core::rve last;
    for (int i = 0; i < 5; ++i) {
        const auto r = write(emit_events({product_event(i)}));
        ASSERT_TRUE(r.rve);
        last = *r.rve;
    }
    ASSERT_EQ(last.ms, t0 + 4);

    now_ = t0 - 24 * 3600000LL; // restarted with a clock a day behind
    reopen();
    EXPECT_EQ(db_->newest_rve("rm1"), last);
    const auto after = write(emit_events({product_event(99)}));
    ASSERT_TRUE(after.rve);
    EXPECT_EQ(after.rve->ms, last.ms + 1);

    const auto groups = read_all(core::all_types);
    ASSERT_EQ(groups.size(), 6u);
    EXPECT_EQ(groups.back().rve, *after.rve);
    EXPECT_TRUE(db_->rmsystem_exists("rm1"));
}

TEST_F(SqliteStore, DataSurvivesReopening) {
    ASSERT_TRUE(db_->add_api_key({"0123456789abcdef", "rm1", "h", "*", false}).ok());
    ASSERT_TRUE(write([](write_txn& tx) -> core::result<std::string> {
                    tx.put(make_record(core::record_kind::level, "1@2", "2", R"({"Qty":3})"));
                    return std::to_string(tx.next_id("pid"));
                }).rve);
    reopen();
    EXPECT_TRUE(db_->find_api_key("0123456789abcdef").has_value());
    const auto rec = db_->get_record("rm1", core::record_kind::level, "1@2");
    ASSERT_TRUE(rec.has_value());
    EXPECT_EQ(rec->location, "2");
    EXPECT_EQ(rec->body, R"({"Qty":3})");
    const auto next = write([](write_txn& tx) -> core::result<std::string> {
        return std::to_string(tx.next_id("pid"));
    });
    EXPECT_EQ(*next.body, "2");
}

TEST_F(SqliteStore, WriteToUnknownRmsystemIsNotFound) {
    const auto r = write(emit_events({product_event(1)}), "nope");
    ASSERT_FALSE(r.body.ok());
    EXPECT_EQ(r.body.err().code, core::error_code::not_found);
    EXPECT_NE(r.body.err().message.find("'nope'"), std::string::npos) << r.body.err().message;
    EXPECT_FALSE(r.rve.has_value());
    EXPECT_TRUE(db_->read_events({"nope", core::rve{0}, core::all_types, "", 10}).groups.empty());
    // The failure stays with that write.
    EXPECT_TRUE(write(emit_events({product_event(1)})).rve.has_value());
}

TEST_F(SqliteStore, SubmitAfterCloseIsUnavailable) {
    db_->close();
    const auto r = write(emit_events({product_event(1)}));
    ASSERT_FALSE(r.body.ok());
    EXPECT_EQ(r.body.err().code, core::error_code::unavailable);
    EXPECT_TRUE(db_->healthy()) << "reads still work after the writer stopped";
}

TEST(OpenStore, RejectsUnknownUrls) {
    EXPECT_THROW(open_store("mysql://localhost/db"), store_error);
    EXPECT_THROW(open_store("posfeed.db"), store_error);
}

} // namespace
} // namespace posfeed::store
