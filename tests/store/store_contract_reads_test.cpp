// The store contract: reading events, pruning the history, reading records.

#include "store_contract.hpp"

namespace posfeed::store::contract {
namespace {

// ---- Reading events -------------------------------------------------------------------------

TEST_P(StoreContract, ReadsOnlyTheRequestedTypes) {
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

TEST_P(StoreContract, SessionScopedTypesAreFilteredBySession) {
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

TEST_P(StoreContract, PagingNeverCutsAGroup) {
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

TEST_P(StoreContract, PageSmallerThanTheFirstGroupReturnsTheWholeGroup) {
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

TEST_P(StoreContract, PageDropsAGroupTheLimitWouldCut) {
    const auto a = write(emit_events({product_event(1)}));
    const auto b = write(emit_events({product_event(2), product_event(3), product_event(4)}));
    ASSERT_TRUE(a.rve && b.rve);
    const auto page = db_->read_events({"rm1", core::rve{0}, bit(event_type::products), "", 3});
    ASSERT_EQ(page.groups.size(), 1u);
    EXPECT_EQ(page.groups[0].rve, *a.rve);
    EXPECT_TRUE(page.more);
}

TEST_P(StoreContract, PageReportsMoreOnlyWhenCut) {
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

TEST_P(StoreContract, ReadStartsAfterTheGivenRveExclusive) {
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

TEST_P(StoreContract, PageReportsTheNewestRve) {
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

// ---- Pruning the history --------------------------------------------------------------------

TEST_P(StoreContract, PruningDeletesOlderEventsAndRaisesTheHistoryHorizon) {
    ASSERT_TRUE(create_followed("rm2").ok());
    // rm1: groups of sizes 2, 1, 3, 1, 2 a second apart, each with a record; rm2: one group
    // between rm1's third and fourth.
    const std::vector<std::size_t> sizes = {2, 1, 3, 1, 2};
    std::vector<core::rve> rves;
    int pid = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        now_ = t0 + 1000 * static_cast<std::int64_t>(i);
        std::vector<event> events;
        for (std::size_t k = 0; k < sizes[i]; ++k) {
            events.push_back(level_event(++pid, "1"));
        }
        const auto r = write([&events, i](write_txn& tx) -> core::result<std::string> {
            tx.put(make_record(record_kind::product, std::to_string(i), "", "{}"));
            for (const auto& e : events) {
                tx.emit(e);
            }
            return std::string("{}");
        });
        ASSERT_TRUE(r.rve);
        rves.push_back(*r.rve);
    }
    now_ = t0 + 2500;
    const auto rm2 = write(emit_events({product_event(1)}), "rm2");
    ASSERT_TRUE(rm2.rve);
    const core::rve newest = rves.back();

    struct row {
        const char* name;
        core::rve cutoff;
        std::size_t deleted;    ///< what prune_events returns
        core::rve horizon;      ///< rm1's history_from after it
        std::size_t first_kept; ///< rm1's oldest group left
        core::rve rm2_horizon;
    };
    // Applied in order, each to what the rows before it left.
    const row rows[] = {
        {"a cutoff before every event deletes nothing", core::rve{t0 - 1}, 0, {}, 0, {}},
        {"events at the cutoff are kept", rves[0], 0, {}, 0, {}},
        {"groups before the cutoff go, whole", core::rve{rves[0].ms + 1}, 2, rves[0], 1, {}},
        {"in every rmsystem", rves[3], 1 + 3 + 1, rves[2], 3, *rm2.rve},
        {"a lower cutoff later moves nothing back", rves[1], 0, rves[2], 3, *rm2.rve},
        {"a cutoff past the newest deletes every event", core::rve{newest.ms + 1000}, 1 + 2, newest,
         sizes.size(), *rm2.rve},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.name);
        EXPECT_EQ(db_->prune_events(r.cutoff), r.deleted);
        const auto page = db_->read_events({"rm1", core::rve{0}, core::all_types, "", 1000});
        EXPECT_EQ(page.history_from, r.horizon);
        EXPECT_EQ(page.newest, newest) << "pruning does not move the newest RVE";
        ASSERT_EQ(page.groups.size(), sizes.size() - r.first_kept);
        for (std::size_t i = 0; i < page.groups.size(); ++i) {
            EXPECT_EQ(page.groups[i].rve, rves[r.first_kept + i]);
            EXPECT_EQ(page.groups[i].events.size(), sizes[r.first_kept + i]);
        }
        // The horizon is the RmSystem's, whatever the page asks for.
        EXPECT_EQ(db_->read_events({"rm1", newest, bit(event_type::sale), "", 1}).history_from,
                  r.horizon);
        const auto other = db_->read_events({"rm2", core::rve{0}, core::all_types, "", 1000});
        EXPECT_EQ(other.history_from, r.rm2_horizon);
        EXPECT_EQ(other.groups.size(), r.rm2_horizon == core::rve{} ? 1u : 0u);
    }
    // Records are state, not history: pruning keeps them.
    for (std::size_t i = 0; i < rves.size(); ++i) {
        const auto rec = db_->get_record("rm1", record_kind::product, std::to_string(i));
        ASSERT_TRUE(rec.has_value()) << i;
        EXPECT_EQ(rec->rve, rves[i]);
    }
    // Events committed later stay, above the horizon.
    const auto later = write(emit_events({product_event(99)}));
    ASSERT_TRUE(later.rve);
    EXPECT_GT(*later.rve, newest);
    EXPECT_EQ(db_->prune_events(*later.rve), 0u);
    const auto page = db_->read_events({"rm1", core::rve{0}, core::all_types, "", 1000});
    ASSERT_EQ(page.groups.size(), 1u);
    EXPECT_EQ(page.groups[0].rve, *later.rve);
    EXPECT_EQ(page.history_from, newest);
}

TEST_P(StoreContract, PruningWhileWritesGoOnNeverLeavesAGapBelowTheHorizon) {
    constexpr int old_groups = 100;
    std::vector<core::rve> old;
    for (int i = 0; i < old_groups; ++i) {
        const auto r = write(emit_events({product_event(i)}));
        ASSERT_TRUE(r.rve);
        old.push_back(*r.rve);
    }

    // A reader checks every page: each old event above the page's horizon is in it.
    std::atomic<bool> stop{false};
    std::optional<std::string> gap;
    std::thread reader([&] {
        while (!stop && !gap) {
            const auto page = db_->read_events({"rm1", core::rve{0}, core::all_types, "", 100000});
            std::set<core::rve> seen;
            for (const auto& g : page.groups) {
                seen.insert(g.rve);
            }
            for (const auto& v : old) {
                if (v > page.history_from && !seen.contains(v)) {
                    gap = "event " + v.str() + " is missing above the horizon " +
                          page.history_from.str();
                    break;
                }
            }
        }
    });
    std::vector<write_result> later;
    std::thread writer([&] {
        for (int i = 0; i < 100; ++i) {
            later.push_back(write(emit_events({product_event(1000 + i)})));
        }
    });
    for (int k = 10; k < old_groups; k += 10) {
        EXPECT_EQ(db_->prune_events(old[k]), 10u) << "cutoff " << k;
    }
    writer.join();
    stop = true;
    reader.join();
    EXPECT_FALSE(gap.has_value()) << *gap;

    std::vector<core::rve> expected(old.begin() + 90, old.end());
    for (const auto& r : later) {
        ASSERT_TRUE(r.rve.has_value());
        expected.push_back(*r.rve);
    }
    const auto page = db_->read_events({"rm1", core::rve{0}, core::all_types, "", 100000});
    EXPECT_EQ(rves_of(page.groups), expected);
    EXPECT_EQ(page.history_from, old[89]);
}

// ---- Reading records ------------------------------------------------------------------------

TEST_P(StoreContract, RecordCursorSeesOnlyWhatWasCommittedWhenItOpened) {
    struct row {
        const char* name;
        int pages_before; ///< pages of 2 read before the write
    };
    const row rows[] = {
        {"a write before the first page", 0},
        {"a write between pages", 1},
        {"a write before the last page", 2},
    };
    for (std::size_t i = 0; i < std::size(rows); ++i) {
        const row& r = rows[i];
        SCOPED_TRACE(r.name);
        const std::string rm = "cursor" + std::to_string(i);
        ASSERT_TRUE(create_followed(rm).ok());
        std::vector<core::rve> rves;
        for (int id = 1; id <= 5; ++id) {
            const auto w = write(put_records({make_record(record_kind::product, std::to_string(id),
                                                          "", R"({"v":1})")}),
                                 rm);
            ASSERT_TRUE(w.rve);
            rves.push_back(*w.rve);
        }

        const auto cursor = db_->open_records(rm, {record_kind::product}, core::rve{}, "");
        EXPECT_EQ(cursor->at(), rves.back());
        EXPECT_EQ(cursor->at(), db_->newest_rve(rm));
        std::vector<record> seen;
        for (int p = 0; p < r.pages_before; ++p) {
            for (auto& rec : cursor->next(2)) {
                seen.push_back(std::move(rec));
            }
        }
        // Committed after the cursor opened: a change, a delete and a new record.
        const auto change =
            write(put_records({make_record(record_kind::product, "3", "", R"({"v":2})"),
                               make_tombstone(record_kind::product, "4"),
                               make_record(record_kind::product, "6", "", "{}")}),
                  rm);
        ASSERT_TRUE(change.rve);
        const auto now = db_->get_record(rm, record_kind::product, "3");
        ASSERT_TRUE(now.has_value());
        ASSERT_EQ(now->body, R"({"v":2})") << "the write is committed and readable";
        for (auto& rec : drain(*cursor, 2)) {
            seen.push_back(std::move(rec));
        }

        EXPECT_EQ(cursor->at(), rves.back());
        seen = by_kind_and_id(std::move(seen));
        ASSERT_EQ(ids_of(seen), (std::vector<std::string>{"1", "2", "3", "4", "5"}));
        for (std::size_t k = 0; k < seen.size(); ++k) {
            EXPECT_EQ(seen[k].body, R"({"v":1})") << seen[k].id;
            EXPECT_FALSE(seen[k].deleted) << seen[k].id;
            EXPECT_EQ(seen[k].rve, rves[k]) << seen[k].id;
        }

        // A cursor opened now sees the write.
        const auto fresh = db_->open_records(rm, {record_kind::product}, core::rve{}, "");
        EXPECT_EQ(fresh->at(), *change.rve);
        const auto after = by_kind_and_id(drain(*fresh, 2));
        ASSERT_EQ(ids_of(after), (std::vector<std::string>{"1", "2", "3", "5", "6"}));
        EXPECT_EQ(after[2].body, R"({"v":2})");
    }
}

TEST_P(StoreContract, RecordCursorIncludesTombstonesOnlyWhenSinceIsNotZero) {
    const auto a = write(put_records({make_record(record_kind::product, "1", "", R"({"v":1})"),
                                      make_record(record_kind::product, "2", "", R"({"v":1})"),
                                      make_record(record_kind::product, "3", "", R"({"v":1})")}));
    const auto b = write(put_records({make_tombstone(record_kind::product, "2"),
                                      make_record(record_kind::product, "3", "", R"({"v":2})")}));
    ASSERT_TRUE(a.rve && b.rve);

    struct expected {
        std::string id;
        bool deleted;
        core::rve rve;
    };
    struct row {
        const char* name;
        core::rve since;
        std::vector<expected> records;
    };
    const row rows[] = {
        {"since 0: a snapshot of what exists",
         core::rve{0},
         {{"1", false, *a.rve}, {"3", false, *b.rve}}},
        {"since before every change: deletes too",
         core::rve{1},
         {{"1", false, *a.rve}, {"2", true, *b.rve}, {"3", false, *b.rve}}},
        {"since the first write: what changed after it",
         *a.rve,
         {{"2", true, *b.rve}, {"3", false, *b.rve}}},
        {"since the newest: nothing", *b.rve, {}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.name);
        const auto cursor = db_->open_records("rm1", {record_kind::product}, r.since, "");
        EXPECT_EQ(cursor->at(), *b.rve);
        const auto got = by_kind_and_id(drain(*cursor, 100));
        ASSERT_EQ(got.size(), r.records.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            EXPECT_EQ(got[i].id, r.records[i].id);
            EXPECT_EQ(got[i].deleted, r.records[i].deleted) << got[i].id;
            EXPECT_EQ(got[i].rve, r.records[i].rve) << got[i].id;
        }
    }
}

TEST_P(StoreContract, RecordCursorFiltersByLocationAndReadsKindsInTheOrderGiven) {
    // One write each, so that the order of change differs from the order of ids.
    const record records[] = {
        make_record(record_kind::level, "2@1", "1", "{}"),
        make_record(record_kind::level, "1@1", "1", "{}"),
        make_record(record_kind::level, "1@2", "2", "{}"),
        make_record(record_kind::product, "2", "", "{}"),
        make_record(record_kind::product, "1", "", "{}"),
        make_record(record_kind::customer, "7", "", "{}"),
    };
    for (const auto& rec : records) {
        ASSERT_TRUE(write(put_records({rec})).rve);
    }
    using kind_id = std::pair<record_kind, std::string>;
    struct row {
        const char* name;
        std::string location;
        std::vector<record_kind> kinds;
        std::vector<kind_id> expected; ///< in the kind order asked for, by id within a kind
    };
    const row rows[] = {
        {"every location",
         "",
         {record_kind::level, record_kind::product},
         {{record_kind::level, "1@1"},
          {record_kind::level, "1@2"},
          {record_kind::level, "2@1"},
          {record_kind::product, "1"},
          {record_kind::product, "2"}}},
        {"one location keeps records without one",
         "1",
         {record_kind::level, record_kind::product},
         {{record_kind::level, "1@1"},
          {record_kind::level, "2@1"},
          {record_kind::product, "1"},
          {record_kind::product, "2"}}},
        {"another location",
         "2",
         {record_kind::level, record_kind::product},
         {{record_kind::level, "1@2"}, {record_kind::product, "1"}, {record_kind::product, "2"}}},
        {"a location without records",
         "9",
         {record_kind::level, record_kind::product},
         {{record_kind::product, "1"}, {record_kind::product, "2"}}},
        {"kinds in the order given",
         "",
         {record_kind::product, record_kind::level},
         {{record_kind::product, "1"},
          {record_kind::product, "2"},
          {record_kind::level, "1@1"},
          {record_kind::level, "1@2"},
          {record_kind::level, "2@1"}}},
        {"only the kinds asked for", "1", {record_kind::customer}, {{record_kind::customer, "7"}}},
        {"no kinds", "", {}, {}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.name);
        for (const std::size_t limit : {1, 2, 100}) {
            SCOPED_TRACE(limit);
            const auto cursor = db_->open_records("rm1", r.kinds, core::rve{}, r.location);
            const auto got = drain(*cursor, limit);
            EXPECT_TRUE(cursor->next(limit).empty()) << "a finished cursor stays finished";
            // Kind after kind in the order given; by id within a kind (the contract does not
            // order records within a kind).
            std::vector<kind_id> actual;
            for (const auto& rec : got) {
                actual.emplace_back(rec.kind, rec.id);
            }
            const auto rank = [&](record_kind k) {
                return std::find(r.kinds.begin(), r.kinds.end(), k) - r.kinds.begin();
            };
            EXPECT_TRUE(std::is_sorted(
                actual.begin(), actual.end(),
                [&](const kind_id& x, const kind_id& y) { return rank(x.first) < rank(y.first); }))
                << "kinds are read one after the other";
            std::stable_sort(actual.begin(), actual.end(), [&](const kind_id& x, const kind_id& y) {
                return std::pair(rank(x.first), x.second) < std::pair(rank(y.first), y.second);
            });
            EXPECT_EQ(actual, r.expected);
        }
    }
}

TEST_P(StoreContract, ListsRecordsInRveThenIdOrderWithFiltersAndKeysetPaging) {
    // r1: 1@2 and 1@1 together; r2: 2@1 and 3@1; r3: 10@1; r4: 3@1 deleted; a product aside.
    const auto r1 = write(put_records({make_record(record_kind::level, "1@2", "2", R"({"n":1})"),
                                       make_record(record_kind::level, "1@1", "1", R"({"n":1})"),
                                       make_record(record_kind::product, "1", "", "{}")}));
    const auto r2 = write(put_records({make_record(record_kind::level, "2@1", "1", R"({"n":2})"),
                                       make_record(record_kind::level, "3@1", "1", R"({"n":2})")}));
    const auto r3 = write(put_records({make_record(record_kind::level, "10@1", "1", "{}")}));
    const auto r4 = write(put_records({make_tombstone(record_kind::level, "3@1", "1")}));
    ASSERT_TRUE(r1.rve && r2.rve && r3.rve && r4.rve);

    const auto query = [](auto&& adjust) {
        record_query q = records_query("rm1", record_kind::level);
        adjust(q);
        return q;
    };
    struct row {
        const char* name;
        record_query q;
        std::vector<std::string> ids;
    };
    const row rows[] = {
        {"live records by rve, then id",
         query([](record_query&) {}),
         {"1@1", "1@2", "2@1", "10@1"}},
        {"with tombstones",
         query([](record_query& q) { q.include_deleted = true; }),
         {"1@1", "1@2", "2@1", "10@1", "3@1"}},
        {"changed after an rve",
         query([&](record_query& q) { q.since = *r1.rve; }),
         {"2@1", "10@1"}},
        {"changed after an rve, with tombstones",
         query([&](record_query& q) {
             q.since = *r1.rve;
             q.include_deleted = true;
         }),
         {"2@1", "10@1", "3@1"}},
        {"after a keyset cursor",
         query([&](record_query& q) { q.after = std::pair(*r1.rve, std::string("1@1")); }),
         {"1@2", "2@1", "10@1"}},
        {"one location", query([](record_query& q) { q.location = "1"; }), {"1@1", "2@1", "10@1"}},
        {"another location", query([](record_query& q) { q.location = "2"; }), {"1@2"}},
        {"an id prefix", query([](record_query& q) { q.id_prefix = "1@"; }), {"1@1", "1@2"}},
        {"a limit", query([](record_query& q) { q.limit = 3; }), {"1@1", "1@2", "2@1"}},
        {"another kind", query([](record_query& q) { q.kind = record_kind::product; }), {"1"}},
        {"a kind without records", query([](record_query& q) { q.kind = record_kind::sale; }), {}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.name);
        const auto got = db_->list_records(r.q);
        EXPECT_EQ(ids_of(got), r.ids);
        for (const auto& rec : got) {
            EXPECT_EQ(rec.kind, r.q.kind);
        }
    }

    // Keyset paging one record at a time reads the same as one page.
    record_query q = records_query("rm1", record_kind::level);
    q.include_deleted = true;
    q.limit = 1;
    std::vector<record> paged;
    for (int pages = 0; pages < 100; ++pages) {
        const auto page = db_->list_records(q);
        ASSERT_LE(page.size(), 1u);
        if (page.empty()) {
            break;
        }
        paged.push_back(page[0]);
        q.after = std::pair(page[0].rve, page[0].id);
    }
    EXPECT_EQ(ids_of(paged), (std::vector<std::string>{"1@1", "1@2", "2@1", "10@1", "3@1"}));
    ASSERT_EQ(paged.size(), 5u);
    EXPECT_EQ(paged[0].rve, *r1.rve);
    EXPECT_EQ(paged[0].location, "1");
    EXPECT_EQ(paged[0].body, R"({"n":1})");
    EXPECT_EQ(paged[2].rve, *r2.rve);
    EXPECT_EQ(paged[3].rve, *r3.rve);
    EXPECT_EQ(paged[4].rve, *r4.rve);
    EXPECT_TRUE(paged[4].deleted);
}

} // namespace
} // namespace posfeed::store::contract
