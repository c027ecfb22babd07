#pragma once

// The store contract (the class comment of store::store and the comments of its methods) as one
// suite that every implementation must pass: the fixture and helpers here, the tests in
// store_contract_*_test.cpp. A store joins by adding a factory to store_factories()
// (store_contract_stores.cpp).

#include "store/store.hpp"

#include "store/open_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <latch>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace posfeed::core {
/// Readable RVEs in assertion failures.
inline void PrintTo(const rve& v, std::ostream* os) {
    *os << v.str();
}
} // namespace posfeed::core

namespace posfeed::store::contract {

namespace fs = std::filesystem;
using core::event_type;
using core::record_kind;

inline constexpr std::int64_t t0 = 1627377065994; // 20210727.091105994

/// How the suite gets stores of one implementation.
struct store_factory {
    std::string name; ///< the test name suffix: letters, digits and `_` only
    /// Opens a store on a fresh, empty database. `scratch` is an empty directory of the test,
    /// removed after it; a store that keeps its data elsewhere (a database server) can name its
    /// fresh database after it.
    std::function<std::unique_ptr<store>(const fs::path& scratch, store_options)> create;
    /// Opens the database that `create` made for `scratch` again, as a restarted process or
    /// another node would. Empty when the implementation cannot: tests that need it skip.
    std::function<std::unique_ptr<store>(const fs::path& scratch, store_options)> reopen;
    /// Whether several stores may share one database at once (nodes): the tests of several
    /// nodes open a second store with `reopen` while the first is open.
    bool shared = false;
    /// Why the implementation cannot run here ("" when it can): its tests skip, saying so.
    std::function<std::string()> unavailable;
    /// Removes what `create` made outside `scratch` (e.g. a database on a server).
    std::function<void(const fs::path& scratch)> destroy;
};

inline void PrintTo(const store_factory& f, std::ostream* os) {
    *os << f.name;
}

std::vector<store_factory> store_factories();

/// True while this thread is inside store::submit() (through StoreContract::submit), to catch
/// a callback run on the caller's stack.
inline thread_local bool inside_submit = false;

/// What the commit listener received, from whichever store thread calls it. Checks as it goes
/// that it is never called inside submit() nor concurrently with itself for one RmSystem.
class commit_log {
  public:
    std::function<void(group_ptr)> listener() {
        return [this](group_ptr g) { receive(std::move(g)); };
    }

    /// Blocks until the listener has received a group of `rmsystem` at or after `rve`. Only a
    /// guard against hanging has a time limit: the contract says the group must come.
    void wait_for(const std::string& rmsystem, core::rve rve) {
        std::unique_lock lock(mu_);
        const bool seen = cv_.wait_for(lock, std::chrono::minutes(1), [&] {
            const auto it = newest_.find(rmsystem);
            return it != newest_.end() && it->second >= rve;
        });
        if (!seen) {
            ADD_FAILURE() << "the commit listener never received the group at " << rve.str()
                          << " of rmsystem " << rmsystem;
        }
    }

    /// The groups of `rmsystem` received so far, in the order received.
    std::vector<group_ptr> groups(const std::string& rmsystem) const {
        const std::lock_guard lock(mu_);
        std::vector<group_ptr> out;
        for (const auto& g : groups_) {
            if (g->rmsystem == rmsystem) {
                out.push_back(g);
            }
        }
        return out;
    }

    /// Whether the listener was ever called on thread `id`.
    bool ran_on(std::thread::id id) const {
        const std::lock_guard lock(mu_);
        return threads_.contains(id);
    }

  private:
    void receive(group_ptr g) {
        EXPECT_FALSE(inside_submit) << "the commit listener ran on the caller's stack in submit()";
        {
            const std::lock_guard lock(mu_);
            EXPECT_TRUE(busy_.insert(g->rmsystem).second)
                << "the commit listener ran concurrently with itself for " << g->rmsystem;
        }
        std::this_thread::yield(); // widen the window in which an overlap would show
        {
            const std::lock_guard lock(mu_);
            busy_.erase(g->rmsystem);
            threads_.insert(std::this_thread::get_id());
            core::rve& newest = newest_[g->rmsystem];
            newest = std::max(newest, g->rve);
            groups_.push_back(std::move(g));
        }
        cv_.notify_all();
    }

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<group_ptr> groups_;
    std::map<std::string, core::rve> newest_;
    std::set<std::string> busy_;
    std::set<std::thread::id> threads_;
};

/// A write that logs `events` (it puts no record) and answers `body`.
inline write_fn emit_events(std::vector<event> events, std::string body = R"({"ok":true})") {
    return [events = std::move(events),
            body = std::move(body)](write_txn& tx) -> core::result<std::string> {
        for (const auto& e : events) {
            tx.emit(e);
        }
        return body;
    };
}

/// A live record; its rve is set by write_txn::put.
inline record make_record(record_kind kind, std::string id, std::string location,
                          std::string body) {
    record r;
    r.kind = kind;
    r.id = std::move(id);
    r.location = std::move(location);
    r.body = std::move(body);
    return r;
}

/// A tombstone of the record `id`.
inline record make_tombstone(record_kind kind, std::string id, std::string location = "") {
    record r = make_record(kind, std::move(id), std::move(location), "{}");
    r.deleted = true;
    return r;
}

/// A write that puts `records` (and logs nothing).
inline write_fn put_records(std::vector<record> records) {
    return [records = std::move(records)](write_txn& tx) -> core::result<std::string> {
        for (const auto& r : records) {
            tx.put(r);
        }
        return std::string("{}");
    };
}

inline event product_event(int pid) {
    return event{event_type::products, "", "", R"({"Pid":)" + std::to_string(pid) + "}"};
}

inline event level_event(int pid, std::string location) {
    return event{event_type::levels, location, "",
                 R"({"Pid":)" + std::to_string(pid) + R"(,"Location":")" + location + R"("})"};
}

inline event session_event(event_type type, std::string session, std::string body) {
    return event{type, "", std::move(session), std::move(body)};
}

inline std::vector<core::rve> rves_of(const std::vector<event_group>& groups) {
    std::vector<core::rve> out;
    for (const auto& g : groups) {
        out.push_back(g.rve);
    }
    return out;
}

inline std::vector<core::rve> rves_of(const std::vector<group_ptr>& groups) {
    std::vector<core::rve> out;
    for (const auto& g : groups) {
        out.push_back(g->rve);
    }
    return out;
}

/// A query for every live record of `kind` in `rmsystem`, to adjust.
inline record_query records_query(std::string rmsystem, record_kind kind) {
    record_query q;
    q.rmsystem = std::move(rmsystem);
    q.kind = kind;
    return q;
}

inline std::vector<std::string> ids_of(const std::vector<record>& records) {
    std::vector<std::string> out;
    for (const auto& r : records) {
        out.push_back(r.id);
    }
    return out;
}

/// Everything `cursor` reads, `limit` records at a time; checks that no page is over `limit`.
inline std::vector<record> drain(record_cursor& cursor, std::size_t limit) {
    std::vector<record> out;
    for (int pages = 0; pages < 100000; ++pages) {
        auto page = cursor.next(limit);
        EXPECT_LE(page.size(), limit);
        if (page.empty()) {
            return out;
        }
        for (auto& r : page) {
            out.push_back(std::move(r));
        }
    }
    ADD_FAILURE() << "the cursor did not end";
    return out;
}

/// The records sorted by (kind, id): the contract orders a cursor's records by kind only.
inline std::vector<record> by_kind_and_id(std::vector<record> records) {
    std::sort(records.begin(), records.end(), [](const record& a, const record& b) {
        return std::pair(a.kind, a.id) < std::pair(b.kind, b.id);
    });
    return records;
}

/// A store of the implementation under test, on a fresh database with one RmSystem `rm1`,
/// a clock the test sets by hand and a commit listener recording into log_.
class StoreContract : public ::testing::TestWithParam<store_factory> {
  protected:
    void SetUp() override {
        if (GetParam().unavailable) {
            if (const auto why = GetParam().unavailable(); !why.empty()) {
                GTEST_SKIP() << why;
            }
        }
        std::random_device rd;
        dir_ = fs::temp_directory_path() /
               ("posfeed_conformance_" + std::to_string(rd()) + "_" + std::to_string(rd()));
        ASSERT_TRUE(fs::create_directories(dir_));
        db_ = GetParam().create(dir_, options());
        db_->set_commit_listener(log_.listener());
        ASSERT_TRUE(create_followed("rm1").ok());
    }

    void TearDown() override {
        other_.reset();
        db_.reset();
        if (!dir_.empty() && GetParam().destroy) {
            GetParam().destroy(dir_);
        }
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    /// Creates an RmSystem and makes the store follow it (store::follow), so the commit
    /// listener sees its groups on every implementation.
    core::status create_followed(const std::string& id, store* s = nullptr) {
        store& target = s != nullptr ? *s : *db_;
        auto created = target.create_rmsystem(id);
        if (created.ok()) {
            follow(id, target);
        }
        return created;
    }

    /// store::follow, waiting for it to be ready (and expecting it to succeed).
    void follow(const std::string& id, store& s) {
        std::promise<core::status> ready;
        s.follow(id, [&ready](core::status st) { ready.set_value(std::move(st)); });
        const auto st = ready.get_future().get();
        EXPECT_TRUE(st.ok()) << "follow " << id << ": " << st.err().message;
    }

    /// A second store on the same database, as another node (factories with `shared`), with
    /// its own commit log.
    store& open_other() {
        other_ = GetParam().reopen(dir_, options());
        other_->set_commit_listener(other_log_.listener());
        return *other_;
    }

    store_options options() {
        store_options opts;
        opts.now = [this] { return now_.load(); };
        return opts;
    }

    /// Closes the store and opens its database again (a restart). Only for tests that skipped
    /// when GetParam().reopen is empty.
    void reopen() {
        db_->close();
        db_.reset();
        db_ = GetParam().reopen(dir_, options());
        db_->set_commit_listener(log_.listener());
        follow("rm1", *db_);
    }

    /// store::submit, checking that `done` is called once and never on the caller's stack.
    void submit(std::string rmsystem, write_fn fn, std::function<void(write_result)> done,
                write_guard write_guard = {}) {
        auto calls = std::make_shared<std::atomic<int>>(0);
        struct in_submit {
            in_submit() { inside_submit = true; }
            ~in_submit() { inside_submit = false; }
        } const guard;
        db_->submit(
            std::move(rmsystem), std::move(fn),
            [calls, done = std::move(done)](write_result r) {
                EXPECT_FALSE(inside_submit) << "done ran on the caller's stack in submit()";
                if (calls->fetch_add(1) != 0) {
                    ADD_FAILURE() << "done was called more than once";
                    return;
                }
                done(std::move(r));
            },
            std::move(write_guard));
    }

    /// Submits a write and waits for its result.
    write_result write(write_fn fn, std::string rmsystem = "rm1", write_guard guard = {}) {
        std::promise<write_result> done;
        auto result = done.get_future();
        submit(
            std::move(rmsystem), std::move(fn),
            [&done](write_result r) { done.set_value(std::move(r)); }, std::move(guard));
        return result.get();
    }

    /// The groups the listener received for `rmsystem`, once it has received the one at `last`.
    std::vector<group_ptr> committed_through(core::rve last, const std::string& rmsystem = "rm1") {
        log_.wait_for(rmsystem, last);
        return log_.groups(rmsystem);
    }

    /// Every event of `types` (and of `session`) in `rmsystem`, read page by page with `limit`.
    /// Checks what every page promises: complete groups of that RmSystem after the cursor, in
    /// RVE order, and no empty page that claims more.
    std::vector<event_group> read_all(core::type_mask types, std::size_t limit = 1000,
                                      std::string session = "", std::string rmsystem = "rm1") {
        std::vector<event_group> out;
        event_query q{rmsystem, core::rve{0}, types, std::move(session), limit};
        for (int pages = 0; pages < 10000; ++pages) {
            event_page page = db_->read_events(q);
            core::rve previous = q.after;
            for (auto& g : page.groups) {
                EXPECT_GT(g.rve, previous) << "groups in RVE order, after the cursor";
                EXPECT_EQ(g.rmsystem, rmsystem);
                EXPECT_FALSE(g.events.empty()) << "a group has events";
                EXPECT_LE(g.rve, page.newest) << "newest covers every group of the page";
                previous = g.rve;
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
    commit_log log_; // outlives db_, whose threads call it
    std::unique_ptr<store> db_;
    commit_log other_log_;
    std::unique_ptr<store> other_; ///< a second node (open_other)
};

} // namespace posfeed::store::contract
