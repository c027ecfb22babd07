// The store contract: credentials, tenancy and restarts.

#include "store_contract.hpp"

namespace posfeed::store::contract {
namespace {

// ---- Credentials ----------------------------------------------------------------------------

TEST_P(StoreContract, AddsFindsAndRevokesApiKeys) {
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

TEST_P(StoreContract, AWriteGuardedByARevokedOrUnknownKeyDoesNotRunAndItsBatchMatesCommit) {
    ASSERT_TRUE(db_->add_api_key({"000000000000000a", "rm1", "h", "*", false}).ok());
    ASSERT_TRUE(db_->add_api_key({"000000000000000b", "rm1", "h", "*", false}).ok());
    const auto guarded = [this](const std::string& key) {
        auto ran = std::make_shared<std::atomic<bool>>(false);
        const auto r = write(
            [ran](write_txn& tx) -> core::result<std::string> {
                ran->store(true);
                tx.emit(product_event(1));
                return std::string("{}");
            },
            "rm1", write_guard{key});
        return std::pair(r, ran->load());
    };
    const auto [ok, ran_ok] = guarded("000000000000000a");
    ASSERT_TRUE(ok.body.ok()) << ok.body.err().message;
    EXPECT_TRUE(ran_ok);
    EXPECT_TRUE(ok.rve.has_value());

    ASSERT_TRUE(db_->revoke_api_key("000000000000000a").ok());
    for (const char* key : {"000000000000000a", "00000000000000ff"}) {
        SCOPED_TRACE(key);
        const auto [refused, ran] = guarded(key);
        ASSERT_FALSE(refused.body.ok());
        EXPECT_EQ(refused.body.err().code, core::error_code::unauthenticated);
        EXPECT_EQ(refused.body.err().message, "the X-Api-Key has been revoked");
        EXPECT_FALSE(refused.rve.has_value());
        EXPECT_FALSE(ran) << "a write whose guard fails does not run";
    }
    EXPECT_EQ(read_all(core::all_types).size(), 1U) << "only the first write committed";

    // In one batch: the writes of the revoked key fail, the others commit.
    std::vector<std::future<write_result>> results;
    std::vector<std::shared_ptr<std::promise<write_result>>> promises;
    for (int i = 0; i < 20; ++i) {
        auto p = std::make_shared<std::promise<write_result>>();
        results.push_back(p->get_future());
        promises.push_back(p);
        submit(
            "rm1",
            [](write_txn& tx) -> core::result<std::string> {
                tx.emit(product_event(2));
                return std::string("{}");
            },
            [p](write_result r) { p->set_value(std::move(r)); },
            write_guard{i % 2 == 0 ? "000000000000000a" : "000000000000000b"});
    }
    for (int i = 0; i < 20; ++i) {
        const auto r = results[static_cast<std::size_t>(i)].get();
        EXPECT_EQ(r.body.ok(), i % 2 == 1) << i;
    }
    EXPECT_EQ(read_all(core::all_types).size(), 11U);
}

TEST_P(StoreContract, UnknownApiKeyIsNotFound) {
    EXPECT_FALSE(db_->find_api_key("ffffffffffffffff").has_value());
    const auto s = db_->revoke_api_key("ffffffffffffffff");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().code, core::error_code::not_found);
    EXPECT_NE(s.err().message.find("ffffffffffffffff"), std::string::npos);
}

TEST_P(StoreContract, ApiKeyOfUnknownRmsystemIsRejected) {
    const auto s = db_->add_api_key(api_key_row{"0011223344556677", "nope", "h", "*", false});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().code, core::error_code::not_found);
    EXPECT_NE(s.err().message.find("nope"), std::string::npos);
    EXPECT_FALSE(db_->find_api_key("0011223344556677").has_value());
}

TEST_P(StoreContract, UserNamesAreUniqueAcrossRmsystems) {
    ASSERT_TRUE(create_followed("rm2").ok());
    struct row {
        user_row user;
        std::optional<core::error_code> error;
    };
    const row rows[] = {
        {{"rm1", "alice", "hash-a"}, std::nullopt},
        {{"rm2", "alice", "hash-b"}, core::error_code::conflict},
        {{"rm1", "alice", "hash-c"}, core::error_code::conflict},
        {{"rm2", "bob", "hash-d"}, std::nullopt},
        {{"nope", "carol", "hash-e"}, core::error_code::not_found},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.user.rmsystem + "/" + r.user.name);
        const auto s = db_->add_user(r.user);
        ASSERT_EQ(s.ok(), !r.error.has_value());
        if (r.error) {
            EXPECT_EQ(s.err().code, *r.error);
            const std::string named =
                *r.error == core::error_code::conflict ? r.user.name : r.user.rmsystem;
            EXPECT_NE(s.err().message.find(named), std::string::npos) << s.err().message;
        }
    }
    const auto alice = db_->find_user("alice");
    ASSERT_TRUE(alice.has_value());
    EXPECT_EQ(alice->rmsystem, "rm1");
    EXPECT_EQ(alice->name, "alice");
    EXPECT_EQ(alice->password_hash, "hash-a") << "a conflicting add changes nothing";
    const auto bob = db_->find_user("bob");
    ASSERT_TRUE(bob.has_value());
    EXPECT_EQ(bob->rmsystem, "rm2");
    EXPECT_EQ(bob->password_hash, "hash-d");
    EXPECT_FALSE(db_->find_user("carol").has_value());
    EXPECT_FALSE(db_->find_user("nobody").has_value());
}

void expect_same_session(const session_row& got, const session_row& want) {
    EXPECT_EQ(got.key, want.key);
    EXPECT_EQ(got.token_hash, want.token_hash);
    EXPECT_EQ(got.rmsystem, want.rmsystem);
    EXPECT_EQ(got.user, want.user);
    EXPECT_EQ(got.location, want.location);
    EXPECT_EQ(got.terminal, want.terminal);
    EXPECT_EQ(got.created_ms, want.created_ms);
    EXPECT_EQ(got.last_seen_ms, want.last_seen_ms);
    EXPECT_EQ(got.ended, want.ended);
}

TEST_P(StoreContract, AddsFindsTouchesAndEndsSessions) {
    session_row s{
        std::string(64, 'a'), std::string(64, 'b'), "rm1", "alice", "2", "till-3", t0, t0, false};
    const session_row other{
        std::string(64, 'c'), std::string(64, 'd'), "rm1", "bob", "", "", t0 + 5, t0 + 5, false};
    ASSERT_TRUE(db_->add_session(s).ok());
    ASSERT_TRUE(db_->add_session(other).ok());

    const auto by_key = [&](const std::string& key) { return db_->find_session(key); };
    const auto by_token = [&](const std::string& t) { return db_->find_session_by_token(t); };
    const auto expect_found = [&](const session_row& want) {
        const auto k = by_key(want.key);
        ASSERT_TRUE(k.has_value());
        expect_same_session(*k, want);
        const auto t = by_token(want.token_hash);
        ASSERT_TRUE(t.has_value());
        expect_same_session(*t, want);
    };
    expect_found(s);
    expect_found(other);
    EXPECT_FALSE(by_key(s.token_hash).has_value()) << "a token hash is not a key";
    EXPECT_FALSE(by_token(s.key).has_value()) << "a key is not a token hash";
    EXPECT_FALSE(by_key(std::string(64, 'e')).has_value());

    db_->touch_session(s.key, t0 + 60000);
    s.last_seen_ms = t0 + 60000;
    expect_found(s);
    expect_found(other);
    db_->touch_session(std::string(64, 'e'), t0 + 60000);
    EXPECT_FALSE(by_key(std::string(64, 'e')).has_value()) << "touching makes no session";

    EXPECT_TRUE(db_->end_session(s.key));
    s.ended = true;
    expect_found(s);
    expect_found(other);
    EXPECT_FALSE(db_->end_session(s.key)) << "already ended";
    EXPECT_FALSE(db_->end_session(std::string(64, 'e'))) << "unknown";
}

TEST_P(StoreContract, RevokedSinceListsCredentialsRevokedOrEndedAtOrAfterATime) {
    // Revocations are stamped with the database's clock, which every answer reports as now_ms
    // (never the RVE clock, nor a node's own clock).
    const auto db_now = [this] {
        return db_->revoked_since(std::numeric_limits<std::int64_t>::max()).now_ms;
    };
    for (const char* id : {"000000000000000a", "000000000000000b", "000000000000000c"}) {
        ASSERT_TRUE(db_->add_api_key({id, "rm1", "h", "*", false}).ok());
    }
    for (const char c : {'1', '2', '3'}) {
        ASSERT_TRUE(
            db_->add_session({std::string(64, c), std::string(64, static_cast<char>(c + 16)), "rm1",
                              "u", "", "", t0, t0, false})
                .ok());
    }
    const std::int64_t before = db_now();
    ASSERT_TRUE(db_->revoke_api_key("000000000000000a").ok());
    ASSERT_TRUE(db_->end_session(std::string(64, '1')));
    const std::int64_t after_first = db_now();
    EXPECT_GE(after_first, before);
    std::int64_t between = db_now();
    while (between <= after_first) { // the next millisecond of the database's clock
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        between = db_now();
    }
    ASSERT_TRUE(db_->revoke_api_key("000000000000000b").ok());
    ASSERT_TRUE(db_->end_session(std::string(64, '2')));
    // Key c and session 3 stay live.

    struct row {
        const char* name;
        std::int64_t since;
        std::vector<std::string> ids;
    };
    const row rows[] = {
        {"since before every revocation",
         before,
         {"000000000000000a", "000000000000000b", std::string(64, '1'), std::string(64, '2')}},
        {"since between the revocations", between, {"000000000000000b", std::string(64, '2')}},
        {"since an hour ahead", db_now() + 3600000, {}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.name);
        auto ids = db_->revoked_since(r.since).ids;
        std::sort(ids.begin(), ids.end());
        EXPECT_EQ(ids, r.ids);
    }
}

// ---- Tenancy --------------------------------------------------------------------------------

TEST_P(StoreContract, NoReadOfOneRmsystemReturnsAnothersRows) {
    ASSERT_TRUE(create_followed("rm2").ok());
    ASSERT_TRUE(create_followed("rm3").ok()); // stays empty
    // The same ids, lookup key, location and session in both, with bodies naming the owner.
    const auto owned = [](const std::string& owner) {
        return [owner](write_txn& tx) -> core::result<std::string> {
            const std::string body = R"({"Owner":")" + owner + R"("})";
            record p = make_record(record_kind::product, "2", "", body);
            p.lookup = "4006381333931";
            tx.put(p);
            tx.put(make_record(record_kind::level, "2@1", "1", body));
            tx.emit(event{event_type::products, "", "", body});
            tx.emit(session_event(event_type::sale, "sA", body));
            return std::to_string(tx.next_id("pid"));
        };
    };
    struct tenant {
        std::string rm;
        std::vector<core::rve> rves;
        std::vector<std::string> products;
    };
    tenant one{"rm1", {}, {"1", "2"}};
    tenant two{"rm2", {}, {"2"}};
    const auto step = [&](tenant& t, write_fn fn, const std::string& answer) {
        now_ += 1000;
        const auto r = write(std::move(fn), t.rm);
        ASSERT_TRUE(r.body.ok()) << r.body.err().message;
        EXPECT_EQ(*r.body, answer);
        ASSERT_TRUE(r.rve);
        t.rves.push_back(*r.rve);
    };
    step(
        one,
        [](write_txn& tx) -> core::result<std::string> {
            tx.put(make_record(record_kind::product, "1", "", R"({"Pid":1})"));
            tx.emit(product_event(1));
            return std::string("first");
        },
        "first");
    step(two, emit_events({product_event(2)}, "first"), "first");
    step(one, owned("rm1"), "1");
    step(two, owned("rm2"), "1"); // counters are per RmSystem
    step(two, owned("rm2"), "2");

    // Each RmSystem's first group is its own.
    const auto rm2 = db_->read_events({"rm2", core::rve{0}, core::all_types, "", 10});
    ASSERT_FALSE(rm2.groups.empty());
    EXPECT_EQ(rm2.groups[0].rmsystem, "rm2");
    EXPECT_EQ(rm2.groups[0].events[0].body, product_event(2).body);
    EXPECT_FALSE(db_->get_record("rm2", record_kind::product, "1").has_value());

    for (const tenant* t : {&one, &two}) {
        SCOPED_TRACE(t->rm);
        const std::string body = R"({"Owner":")" + t->rm + R"("})";
        EXPECT_EQ(db_->newest_rve(t->rm), t->rves.back());

        const auto groups = read_all(core::all_types, 1000, "sA", t->rm);
        EXPECT_EQ(rves_of(groups), t->rves);
        for (std::size_t i = 1; i < groups.size(); ++i) {
            for (const auto& e : groups[i].events) {
                EXPECT_EQ(e.body, body);
            }
        }
        EXPECT_EQ(rves_of(committed_through(t->rves.back(), t->rm)), t->rves);

        const auto product = db_->get_record(t->rm, record_kind::product, "2");
        ASSERT_TRUE(product.has_value());
        EXPECT_EQ(product->body, body);
        EXPECT_EQ(product->rve, t->rves.back());
        const auto found = db_->find_record(t->rm, record_kind::product, "4006381333931");
        ASSERT_TRUE(found.has_value());
        EXPECT_EQ(found->body, body);

        const auto products = db_->list_records(records_query(t->rm, record_kind::product));
        EXPECT_EQ(ids_of(products), t->products);
        const auto levels = db_->list_records(records_query(t->rm, record_kind::level));
        ASSERT_EQ(levels.size(), 1u);
        EXPECT_EQ(levels[0].body, body);

        const auto cursor =
            db_->open_records(t->rm, {record_kind::product, record_kind::level}, core::rve{}, "");
        EXPECT_EQ(cursor->at(), t->rves.back());
        const auto records = drain(*cursor, 100);
        EXPECT_EQ(records.size(), t->products.size() + 1);
        for (const auto& rec : records) {
            if (rec.id != "1") {
                EXPECT_EQ(rec.body, body) << rec.id;
            }
        }
    }

    SCOPED_TRACE("rm3");
    EXPECT_EQ(db_->newest_rve("rm3"), core::rve{0});
    EXPECT_TRUE(read_all(core::all_types, 1000, "sA", "rm3").empty());
    EXPECT_FALSE(db_->get_record("rm3", record_kind::product, "2").has_value());
    EXPECT_FALSE(db_->find_record("rm3", record_kind::product, "4006381333931").has_value());
    EXPECT_TRUE(db_->list_records(records_query("rm3", record_kind::product)).empty());
    const auto cursor =
        db_->open_records("rm3", {record_kind::product, record_kind::level}, core::rve{1}, "");
    EXPECT_EQ(cursor->at(), core::rve{0});
    EXPECT_TRUE(cursor->next(100).empty());
}

// ---- Restarts (stores that can reopen their database) ---------------------------------------

TEST_P(StoreContract, RveContinuesAfterRestartEvenIfTheClockWentBackwards) {
    if (!GetParam().reopen) {
        GTEST_SKIP() << GetParam().name << " cannot reopen its database";
    }
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

TEST_P(StoreContract, DataSurvivesReopening) {
    if (!GetParam().reopen) {
        GTEST_SKIP() << GetParam().name << " cannot reopen its database";
    }
    ASSERT_TRUE(db_->add_api_key({"0123456789abcdef", "rm1", "h", "*", false}).ok());
    ASSERT_TRUE(write([](write_txn& tx) -> core::result<std::string> {
                    tx.put(make_record(record_kind::level, "1@2", "2", R"({"Qty":3})"));
                    return std::to_string(tx.next_id("pid"));
                }).rve);
    reopen();
    EXPECT_TRUE(db_->find_api_key("0123456789abcdef").has_value());
    const auto rec = db_->get_record("rm1", record_kind::level, "1@2");
    ASSERT_TRUE(rec.has_value());
    EXPECT_EQ(rec->location, "2");
    EXPECT_EQ(rec->body, R"({"Qty":3})");
    const auto next = write([](write_txn& tx) -> core::result<std::string> {
        return std::to_string(tx.next_id("pid"));
    });
    EXPECT_EQ(*next.body, "2");
}

} // namespace
} // namespace posfeed::store::contract
