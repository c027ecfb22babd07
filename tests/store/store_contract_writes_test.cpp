// The store contract: RmSystems, RVEs, writes, the commit listener and callbacks.

#include "store_contract.hpp"

namespace posfeed::store::contract {
namespace {

// ---- RmSystems ------------------------------------------------------------------------------

TEST_P(StoreContract, CreatesRmsystemsWithValidIds) {
    const std::string ids[] = {
        "1", "1_2_3_4", "_", "Retailer_A9", std::string(64, 'z'), std::string(64, '9')};
    for (const auto& id : ids) {
        SCOPED_TRACE(id);
        EXPECT_TRUE(valid_rmsystem_id(id));
        EXPECT_FALSE(db_->rmsystem_exists(id));
        const auto s = db_->create_rmsystem(id);
        ASSERT_TRUE(s.ok()) << s.err().message;
        EXPECT_TRUE(db_->rmsystem_exists(id));
        EXPECT_EQ(db_->newest_rve(id), core::rve{0});
    }
}

TEST_P(StoreContract, RejectsMalformedRmsystemIdsNamingThem) {
    const std::string ids[] = {
        "",    std::string(65, 'a'), std::string(65, '9'),          "a-b", "a b", "a.b", "a/b",
        "a:b", "caf\xC3\xA9",        "1'; DROP TABLE rmsystems; --"};
    for (const auto& id : ids) {
        SCOPED_TRACE(id);
        EXPECT_FALSE(valid_rmsystem_id(id));
        const auto s = db_->create_rmsystem(id);
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.err().code, core::error_code::invalid_argument);
        EXPECT_NE(s.err().message.find("'" + id + "'"), std::string::npos) << s.err().message;
        EXPECT_FALSE(db_->rmsystem_exists(id));
    }
    EXPECT_TRUE(db_->rmsystem_exists("rm1"));
}

TEST_P(StoreContract, DuplicateRmsystemIsAConflict) {
    const auto s = db_->create_rmsystem("rm1");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().code, core::error_code::conflict);
    EXPECT_NE(s.err().message.find("rm1"), std::string::npos);
    // Ids are case-sensitive: RM1 is another RmSystem.
    EXPECT_TRUE(db_->create_rmsystem("RM1").ok());
}

// ---- RVEs -----------------------------------------------------------------------------------

TEST_P(StoreContract, WriteGetsItsRveFromTheInjectedClock) {
    const auto r = write(emit_events({product_event(1)}, R"({"data":1})"));
    ASSERT_TRUE(r.body.ok()) << r.body.err().message;
    EXPECT_EQ(*r.body, R"({"data":1})");
    ASSERT_TRUE(r.rve.has_value());
    EXPECT_EQ(r.rve->ms, t0);
    EXPECT_EQ(db_->newest_rve("rm1").ms, t0);
}

TEST_P(StoreContract, WritesInABurstGetStrictlyIncreasingRves) {
    core::rve previous{0};
    for (int i = 0; i < 50; ++i) {
        const auto r = write(emit_events({product_event(i)}));
        ASSERT_TRUE(r.rve.has_value());
        EXPECT_GT(*r.rve, previous);
        previous = *r.rve;
    }
    EXPECT_EQ(previous.ms, t0 + 49) << "a burst runs ahead of the frozen clock";
}

TEST_P(StoreContract, RvesStrictlyIncreasePerRmsystemUnderConcurrentSubmits) {
    struct row {
        const char* name;
        std::vector<std::string> rmsystems; ///< thread t's write i goes to [(t + i) % size]
    };
    const row rows[] = {
        {"many threads, one rmsystem", {"one"}},
        {"two rmsystems interleaved", {"left", "right"}},
    };
    constexpr int threads = 8;
    constexpr int per_thread = 40;
    constexpr int total = threads * per_thread;
    for (const auto& r : rows) {
        SCOPED_TRACE(r.name);
        for (const auto& rm : r.rmsystems) {
            ASSERT_TRUE(create_followed(rm).ok());
        }
        const auto target = [&](int n) {
            return r.rmsystems[static_cast<std::size_t>(n / per_thread + n % per_thread) %
                               r.rmsystems.size()];
        };

        // A follower per RmSystem tails the log while the writes go on, the way a subscriber
        // does: having seen RVE X, it must never later find an event at or below X it missed.
        std::atomic<bool> writes_done{false};
        std::vector<std::vector<core::rve>> followed(r.rmsystems.size());
        std::vector<std::thread> followers;
        for (std::size_t f = 0; f < r.rmsystems.size(); ++f) {
            followers.emplace_back([&, f] {
                event_query q{r.rmsystems[f], core::rve{0}, core::all_types, "", 7};
                while (true) {
                    const bool last_round = writes_done.load();
                    const event_page page = db_->read_events(q);
                    for (const auto& g : page.groups) {
                        followed[f].push_back(g.rve);
                        q.after = g.rve;
                    }
                    if (last_round && !page.more) {
                        return;
                    }
                    std::this_thread::yield();
                }
            });
        }

        std::vector<write_result> results(total);
        std::latch start(threads);
        std::latch all_done(total);
        std::vector<std::thread> submitters;
        for (int t = 0; t < threads; ++t) {
            submitters.emplace_back([&, t] {
                start.arrive_and_wait(); // all threads submit at once
                for (int i = 0; i < per_thread; ++i) {
                    const int n = t * per_thread + i;
                    write_fn fn = [n](write_txn& tx) -> core::result<std::string> {
                        tx.put(make_record(record_kind::product, std::to_string(n), "", "{}"));
                        tx.emit(product_event(n));
                        return std::to_string(n);
                    };
                    submit(target(n), std::move(fn), [&, n](write_result res) {
                        results[n] = std::move(res);
                        all_done.count_down();
                    });
                }
            });
        }
        for (auto& t : submitters) {
            t.join();
        }
        all_done.wait();
        writes_done = true;
        for (auto& t : followers) {
            t.join();
        }

        for (std::size_t f = 0; f < r.rmsystems.size(); ++f) {
            const std::string& rm = r.rmsystems[f];
            SCOPED_TRACE(rm);
            std::map<core::rve, int> write_at; // RVE -> write
            for (int n = 0; n < total; ++n) {
                if (target(n) != rm) {
                    continue;
                }
                ASSERT_TRUE(results[n].body.ok()) << results[n].body.err().message;
                ASSERT_TRUE(results[n].rve.has_value());
                EXPECT_TRUE(write_at.emplace(*results[n].rve, n).second)
                    << "RVE " << results[n].rve->str() << " given to two writes";
                const auto rec = db_->get_record(rm, record_kind::product, std::to_string(n));
                ASSERT_TRUE(rec.has_value());
                EXPECT_EQ(rec->rve, *results[n].rve);
            }
            ASSERT_EQ(write_at.size(), static_cast<std::size_t>(total / r.rmsystems.size()));
            std::vector<core::rve> rves;
            for (const auto& [v, n] : write_at) {
                // The frozen clock: each RmSystem's RVEs run on from now by one, without gaps.
                EXPECT_EQ(v.ms, t0 + static_cast<std::int64_t>(rves.size()));
                rves.push_back(v);
            }
            EXPECT_EQ(db_->newest_rve(rm), rves.back());

            const auto groups = read_all(core::all_types, 1000, "", rm);
            EXPECT_EQ(rves_of(groups), rves);
            for (const auto& g : groups) {
                ASSERT_EQ(g.events.size(), 1u);
                EXPECT_EQ(g.events[0].body, product_event(write_at[g.rve]).body);
            }
            EXPECT_EQ(followed[f], rves) << "the follower missed or repeated an event";
            EXPECT_EQ(rves_of(committed_through(rves.back(), rm)), rves) << "listener order";
        }
    }
}

TEST_P(StoreContract, EveryEventAndRecordOfAWriteSharesOneRve) {
    const auto r = write([](write_txn& tx) -> core::result<std::string> {
        const core::rve first = tx.rve();
        tx.put(make_record(record_kind::product, "7", "", R"({"Pid":7})"));
        tx.emit(product_event(7));
        tx.emit(level_event(7, "1"));
        EXPECT_EQ(tx.rve(), first);
        const auto own = tx.get(record_kind::product, "7");
        EXPECT_TRUE(own.has_value());
        if (own) {
            EXPECT_EQ(own->rve, first);
            EXPECT_EQ(own->body, R"({"Pid":7})");
        }
        return std::string("{}");
    });
    ASSERT_TRUE(r.rve.has_value());
    const auto rec = db_->get_record("rm1", record_kind::product, "7");
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

TEST_P(StoreContract, WriteThatChangesNothingGetsNoRve) {
    const auto nothing = write([](write_txn& tx) -> core::result<std::string> {
        EXPECT_EQ(tx.rmsystem(), "rm1");
        EXPECT_FALSE(tx.get(record_kind::product, "1").has_value());
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
    std::vector<core::rve> changes = {*change.rve};

    // After a change too, whatever a write reads: the next change follows the previous one.
    struct row {
        const char* name;
        write_fn fn;
    };
    const row rows[] = {{"answers at once",
                         [](write_txn&) -> core::result<std::string> { return std::string("{}"); }},
                        {"only reads", [](write_txn& tx) -> core::result<std::string> {
                             EXPECT_FALSE(tx.get(record_kind::product, "1").has_value());
                             EXPECT_FALSE(
                                 tx.find(record_kind::product, "4006381333931").has_value());
                             return std::string("{}");
                         }}};
    for (const auto& r : rows) {
        SCOPED_TRACE(r.name);
        const core::rve before = db_->newest_rve("rm1");
        const auto res = write(r.fn);
        ASSERT_TRUE(res.body.ok());
        EXPECT_FALSE(res.rve.has_value());
        EXPECT_EQ(db_->newest_rve("rm1"), before);
        const auto next = write(emit_events({product_event(2)}));
        ASSERT_TRUE(next.rve.has_value());
        EXPECT_EQ(next.rve->ms, before.ms + 1);
        changes.push_back(*next.rve);
    }
    EXPECT_EQ(rves_of(read_all(core::all_types)), changes);
    EXPECT_EQ(rves_of(committed_through(changes.back())), changes)
        << "the listener receives nothing for a write that changed nothing";
}

// ---- Writes commit whole or not at all ------------------------------------------------------

TEST_P(StoreContract, WriteCommitsItsRecordsAndEventsTogetherOrNotAtAll) {
    using finish_fn = std::function<core::result<std::string>(write_txn&)>;
    struct row {
        const char* name;
        bool keep_on_error;
        finish_fn finish;                      ///< how the write ends after its changes
        std::optional<core::error_code> error; ///< its answer's error; nullopt: success
        bool committed;
    };
    const row rows[] = {
        {"succeeds", false,
         [](write_txn&) -> core::result<std::string> { return std::string("{}"); }, std::nullopt,
         true},
        {"answers an error", false,
         [](write_txn&) -> core::result<std::string> { return core::invalid_argument("bad"); },
         core::error_code::invalid_argument, false},
        {"throws", false,
         [](write_txn&) -> core::result<std::string> { throw std::runtime_error("boom"); },
         core::error_code::internal, false},
        {"meets a damaged row", false,
         [](write_txn&) -> core::result<std::string> {
             throw data_error("record product 'x' of rmsystem 'rm1' does not parse");
         },
         core::error_code::internal, false},
        {"meets a database failure", false,
         [](write_txn&) -> core::result<std::string> { throw store_error("disk I/O error"); },
         core::error_code::unavailable, false},
        // An answer with keep_on_error() commits (an unknown barcode's usermessage still goes
        // out); a throw never does: its error says "it was not applied", so it must not be.
        {"keeps its error", true,
         [](write_txn&) -> core::result<std::string> {
             return core::not_found("no product has barcode '123'");
         },
         core::error_code::not_found, true},
        {"throws after keep_on_error", true,
         [](write_txn&) -> core::result<std::string> { throw std::runtime_error("boom"); },
         core::error_code::internal, false},
    };
    std::vector<core::rve> committed;
    for (std::size_t i = 0; i < std::size(rows); ++i) {
        const row& r = rows[i];
        SCOPED_TRACE(r.name);
        const std::string id = std::to_string(i);
        const std::string message = R"({"Text":")" + id + R"("})";
        const core::rve before = db_->newest_rve("rm1");
        const auto res = write([&](write_txn& tx) -> core::result<std::string> {
            if (r.keep_on_error) {
                tx.keep_on_error();
            }
            tx.put(make_record(record_kind::product, id, "", "{}"));
            tx.emit(product_event(static_cast<int>(i)));
            tx.emit(session_event(event_type::usermessage, "sA", message));
            return r.finish(tx);
        });
        ASSERT_EQ(res.body.ok(), !r.error.has_value());
        if (r.error) {
            EXPECT_EQ(res.body.err().code, *r.error) << res.body.err().message;
        }
        ASSERT_EQ(res.rve.has_value(), r.committed);
        const auto rec = db_->get_record("rm1", record_kind::product, id);
        ASSERT_EQ(rec.has_value(), r.committed) << "the record";
        const auto page = db_->read_events({"rm1", before, core::all_types, "sA", 1000});
        if (!r.committed) {
            EXPECT_TRUE(page.groups.empty()) << "the events";
            EXPECT_EQ(db_->newest_rve("rm1"), before);
            continue;
        }
        EXPECT_GT(*res.rve, before);
        EXPECT_EQ(rec->rve, *res.rve);
        ASSERT_EQ(page.groups.size(), 1u);
        EXPECT_EQ(page.groups[0].rve, *res.rve);
        ASSERT_EQ(page.groups[0].events.size(), 2u);
        EXPECT_EQ(page.groups[0].events[0].body, product_event(static_cast<int>(i)).body);
        EXPECT_EQ(page.groups[0].events[1].body, message);
        EXPECT_EQ(db_->newest_rve("rm1"), *res.rve);
        committed.push_back(*res.rve);
    }
    // A last write, so that a group of a failed write, if one came, comes before its end.
    const auto last = write(emit_events({product_event(99)}));
    ASSERT_TRUE(last.rve);
    committed.push_back(*last.rve);
    const auto groups = committed_through(*last.rve);
    EXPECT_EQ(rves_of(groups), committed) << "the listener receives only committed groups";
    ASSERT_EQ(groups.size(), 3u);
    EXPECT_EQ(groups[1]->events.size(), 2u) << "the group of the kept error, whole";
}

TEST_P(StoreContract, FailingWriteIsRolledBack) {
    const auto r = write([](write_txn& tx) -> core::result<std::string> {
        tx.put(make_record(record_kind::product, "1", "", R"({"Pid":1})"));
        tx.emit(product_event(1));
        (void)tx.next_id("pid");
        return core::invalid_argument("field 'Price' is bad");
    });
    ASSERT_FALSE(r.body.ok());
    EXPECT_EQ(r.body.err().code, core::error_code::invalid_argument);
    EXPECT_EQ(r.body.err().message, "field 'Price' is bad");
    EXPECT_FALSE(r.rve.has_value());
    EXPECT_FALSE(db_->get_record("rm1", record_kind::product, "1").has_value());
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

TEST_P(StoreContract, FailingWritesDoNotFailOtherWritesSubmittedWithThem) {
    // Hold a first write inside its function while the others queue up, so that a store that
    // commits writes in batches commits them together.
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<write_result> gate_done;
    submit(
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
    std::latch all_done(total);
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
        submitters.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const int n = t * per_thread + i;
                write_fn fn = [n](write_txn& tx) -> core::result<std::string> {
                    tx.put(make_record(record_kind::product, std::to_string(n), "", "{}"));
                    tx.emit(product_event(n));
                    if (n % 3 == 0) {
                        return core::invalid_argument("write " + std::to_string(n) + " fails");
                    }
                    if (n % 7 == 0) {
                        throw std::runtime_error("write throws");
                    }
                    return std::to_string(n);
                };
                submit("rm1", std::move(fn), [&, n](write_result r) {
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
        EXPECT_EQ(db_->get_record("rm1", record_kind::product, std::to_string(n)).has_value(),
                  !should_fail);
        if (r.body.ok()) {
            EXPECT_EQ(*r.body, std::to_string(n));
            rves.push_back(*r.rve);
        } else {
            EXPECT_EQ(r.body.err().code,
                      n % 3 == 0 ? core::error_code::invalid_argument : core::error_code::internal);
        }
    }
    std::sort(rves.begin(), rves.end());
    EXPECT_EQ(std::adjacent_find(rves.begin(), rves.end()), rves.end()) << "RVEs must be unique";
    ASSERT_FALSE(rves.empty());

    const auto groups = read_all(bit(event_type::products));
    ASSERT_EQ(groups.size(), rves.size());
    for (std::size_t i = 0; i < groups.size(); ++i) {
        EXPECT_EQ(groups[i].rve, rves[i]);
        EXPECT_EQ(groups[i].events.size(), 1u);
    }

    const auto committed = committed_through(rves.back());
    ASSERT_EQ(committed.size(), rves.size());
    for (std::size_t i = 0; i < committed.size(); ++i) {
        EXPECT_EQ(committed[i]->rve, rves[i]) << "listener order";
        EXPECT_EQ(committed[i]->rmsystem, "rm1");
    }
}

TEST_P(StoreContract, WriteToUnknownRmsystemIsNotFound) {
    const auto r = write(emit_events({product_event(1)}), "nope");
    ASSERT_FALSE(r.body.ok());
    EXPECT_EQ(r.body.err().code, core::error_code::not_found);
    EXPECT_NE(r.body.err().message.find("'nope'"), std::string::npos) << r.body.err().message;
    EXPECT_FALSE(r.rve.has_value());
    EXPECT_TRUE(db_->read_events({"nope", core::rve{0}, core::all_types, "", 10}).groups.empty());
    // The failure stays with that write.
    EXPECT_TRUE(write(emit_events({product_event(1)})).rve.has_value());
}

TEST_P(StoreContract, FindsTheFirstLiveRecordByLookupKey) {
    const auto r = write([](write_txn& tx) -> core::result<std::string> {
        record deleted = make_record(record_kind::product, "1", "", R"({"Pid":1})");
        deleted.lookup = "4006381333931";
        deleted.deleted = true;
        tx.put(deleted);
        record live = make_record(record_kind::product, "2", "", R"({"Pid":2})");
        live.lookup = "4006381333931";
        tx.put(live);
        record other = make_record(record_kind::product, "3", "", R"({"Pid":3})");
        other.lookup = "5012345678900";
        tx.put(other);
        const auto found = tx.find(record_kind::product, "4006381333931");
        if (!found || found->id != "2") {
            return core::internal_error("find did not return the live record");
        }
        if (tx.find(record_kind::product, "0000000000000") ||
            tx.find(record_kind::customer, "4006381333931")) {
            return core::internal_error("find returned a record for an unknown key or kind");
        }
        return std::string("{}");
    });
    EXPECT_TRUE(r.body.ok()) << r.body.err().message;
    // The same through the store, after the commit.
    const auto found = db_->find_record("rm1", record_kind::product, "4006381333931");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, "2");
    EXPECT_EQ(found->body, R"({"Pid":2})");
    EXPECT_FALSE(db_->find_record("rm1", record_kind::product, "0000000000000").has_value());
    EXPECT_FALSE(db_->find_record("rm1", record_kind::customer, "4006381333931").has_value());
}

TEST_P(StoreContract, CountersStartAtOneAndArePerName) {
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

// ---- The commit listener and callbacks ------------------------------------------------------

TEST_P(StoreContract, CommitListenerReceivesGroupsInRveOrderWithTheirEvents) {
    std::vector<core::rve> rves;
    for (int i = 0; i <= 20; ++i) {
        SCOPED_TRACE(i);
        if (i == 10) {
            now_ -= 3600000; // the clock steps back an hour mid-way
        }
        // Failed writes in between are not published.
        if (i % 4 == 1) {
            ASSERT_FALSE(write([](write_txn& tx) -> core::result<std::string> {
                             tx.emit(product_event(-1));
                             return core::invalid_argument("fails");
                         }).body.ok());
        }
        if (i % 4 == 3) {
            ASSERT_FALSE(write([](write_txn& tx) -> core::result<std::string> {
                             tx.emit(product_event(-1));
                             throw std::runtime_error("throws");
                         }).body.ok());
        }
        if (i == 20) {
            // A write without events is not published, whether or not it changed a record.
            ASSERT_TRUE(write([](write_txn&) -> core::result<std::string> {
                            return std::string("{}");
                        }).body.ok());
            ASSERT_TRUE(write(put_records({make_record(record_kind::product, "1", "", "{}")})).rve);
        }
        const auto r = write(emit_events({product_event(i), level_event(i, "3")}));
        ASSERT_TRUE(r.rve.has_value());
        rves.push_back(*r.rve);
    }

    const auto committed = committed_through(rves.back());
    ASSERT_EQ(committed.size(), rves.size());
    for (std::size_t i = 0; i < committed.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(committed[i]->rve, rves[i]);
        EXPECT_EQ(committed[i]->rmsystem, "rm1");
        if (i > 0) {
            EXPECT_GT(committed[i]->rve, committed[i - 1]->rve);
        }
        ASSERT_EQ(committed[i]->events.size(), 2u);
        EXPECT_EQ(committed[i]->events[0].body, product_event(static_cast<int>(i)).body);
        EXPECT_EQ(committed[i]->events[1].location, "3");
    }
}

TEST_P(StoreContract, CallbacksRunOnAStoreThreadNeverTheCallers) {
    const auto caller = std::this_thread::get_id();
    std::promise<std::thread::id> fn_thread;
    std::promise<std::pair<std::thread::id, write_result>> done;
    db_->submit(
        "rm1",
        [&](write_txn& tx) -> core::result<std::string> {
            fn_thread.set_value(std::this_thread::get_id());
            tx.emit(product_event(1));
            return std::string("{}");
        },
        [&](write_result r) {
            done.set_value({std::this_thread::get_id(), std::move(r)});
        });
    const auto [done_thread, result] = done.get_future().get();
    EXPECT_NE(fn_thread.get_future().get(), caller) << "the write function";
    EXPECT_NE(done_thread, caller) << "done";
    ASSERT_TRUE(result.rve.has_value());
    ASSERT_EQ(committed_through(*result.rve).size(), 1u);
    EXPECT_FALSE(log_.ran_on(caller)) << "the commit listener";
}

TEST_P(StoreContract, CloseFinishesTheWritesAlreadySubmitted) {
    constexpr int n = 50;
    std::mutex mu;
    std::vector<std::optional<write_result>> results(n);
    for (int i = 0; i < n; ++i) {
        submit("rm1", emit_events({product_event(i)}), [&, i](write_result r) {
            const std::lock_guard lock(mu);
            results[i] = std::move(r);
        });
    }
    db_->close();
    {
        const std::lock_guard lock(mu);
        for (int i = 0; i < n; ++i) {
            SCOPED_TRACE(i);
            ASSERT_TRUE(results[i].has_value()) << "close() returned before this write's done";
            ASSERT_TRUE(results[i]->body.ok()) << results[i]->body.err().message;
            EXPECT_TRUE(results[i]->rve.has_value());
        }
    }
    db_->close(); // idempotent
    EXPECT_EQ(read_all(core::all_types).size(), static_cast<std::size_t>(n));
}

TEST_P(StoreContract, SubmitAfterCloseIsUnavailable) {
    db_->close();
    // Through write_and_wait, not write(), which checks where done runs: after close() the
    // SQLite store calls done inside submit() ("at once", says submit()), which the class
    // comment ("never on the caller's stack inside submit()") rules out. The two disagree.
    const auto r = write_and_wait(*db_, "rm1", emit_events({product_event(1)}));
    ASSERT_FALSE(r.body.ok());
    EXPECT_EQ(r.body.err().code, core::error_code::unavailable);
    EXPECT_FALSE(r.rve.has_value());
    EXPECT_TRUE(db_->healthy()) << "reads still work after the writer stopped";
}

} // namespace
} // namespace posfeed::store::contract
