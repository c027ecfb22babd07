// What the SQLite store promises beyond the store contract (sqlite_store.hpp). The contract
// itself is checked against every store by store_conformance_test.cpp.

#include "store/sqlite/sqlite_store.hpp"

#include "store/open_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <future>
#include <latch>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace posfeed::store {
namespace {

namespace fs = std::filesystem;

/// A fresh temporary directory for the database, removed afterwards.
class SqliteStore : public ::testing::Test {
  protected:
    void SetUp() override {
        std::random_device rd;
        dir_ = fs::temp_directory_path() /
               ("posfeed_sqlite_test_" + std::to_string(rd()) + "_" + std::to_string(rd()));
        ASSERT_TRUE(fs::create_directories(dir_));
    }

    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    fs::path dir_;
};

// The writer thread hands a batch's groups to the listener before it calls their writes' done,
// which the store contract leaves open: whoever is told "done" may rely on the hub having the
// group already.
TEST_F(SqliteStore, CommitListenerSeesEveryGroupOfABatchBeforeItsWriteIsDone) {
    sqlite::sqlite_store db((dir_ / "t.db").string(), store_options{});
    ASSERT_TRUE(db.create_rmsystem("rm1").ok());
    std::mutex mu;
    std::int64_t published_ms = 0; // the newest RVE the listener has received
    db.set_commit_listener([&](group_ptr g) {
        const std::lock_guard lock(mu);
        published_ms = std::max(published_ms, g->rve.ms);
    });

    // Hold the writer inside a first write while the others queue up, so that they are
    // committed together in one batch, failing ones among them.
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    db.submit(
        "rm1",
        [released](write_txn&) -> core::result<std::string> {
            released.wait();
            return std::string("gate");
        },
        [](write_result) {});

    constexpr int total = 60;
    std::vector<write_result> results(total);
    std::vector<std::int64_t> published_at_done(total);
    std::latch all_done(total);
    for (int n = 0; n < total; ++n) {
        write_fn fn = [n](write_txn& tx) -> core::result<std::string> {
            tx.emit(event{core::event_type::products, "", "", "{}"});
            if (n % 3 == 0) {
                return core::invalid_argument("write " + std::to_string(n) + " fails");
            }
            return std::string("{}");
        };
        db.submit("rm1", std::move(fn), [&, n](write_result r) {
            {
                const std::lock_guard lock(mu);
                published_at_done[n] = published_ms;
            }
            results[n] = std::move(r);
            all_done.count_down();
        });
    }
    release.set_value();
    all_done.wait();

    for (int n = 0; n < total; ++n) {
        SCOPED_TRACE(n);
        ASSERT_EQ(results[n].rve.has_value(), n % 3 != 0);
        if (results[n].rve) {
            EXPECT_GE(published_at_done[n], results[n].rve->ms);
        }
    }
}

TEST(OpenStore, RejectsUnknownUrls) {
    EXPECT_THROW(open_store("mysql://localhost/db"), store_error);
    EXPECT_THROW(open_store("posfeed.db"), store_error);
}

} // namespace
} // namespace posfeed::store
