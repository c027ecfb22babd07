// A damaged stored record fails only the write that touches it, never its batch-mates: the row
// is damaged with the sqlite3 library itself, beside the store's own connections.

#include "pos/products.hpp"
#include "store/open_store.hpp"
#include "store/store.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <filesystem>
#include <future>
#include <latch>
#include <random>
#include <string>
#include <vector>

namespace posfeed::pos {
namespace {

namespace fs = std::filesystem;

class DamagedRecord : public ::testing::Test {
  protected:
    void SetUp() override {
        std::random_device rd;
        dir_ = fs::temp_directory_path() / ("posfeed_damaged_" + std::to_string(rd()));
        fs::create_directories(dir_);
        db_ = store::open_store("sqlite:" + path());
        ASSERT_TRUE(db_->create_rmsystem("rm1").ok());
        log_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
        previous_ = spdlog::default_logger();
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", log_));
    }

    void TearDown() override {
        spdlog::set_default_logger(previous_);
        db_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    std::string path() const { return (dir_ / "t.db").string(); }

    store::write_result create(const std::string& body) {
        return store::write_and_wait(*db_, "rm1", create_product(*parse_product_input(body, true)));
    }

    /// Overwrites the stored body of product `pid` with text that is no JSON, as a disk or a
    /// hand edit might.
    void damage(int pid) {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(path().c_str(), &raw), SQLITE_OK);
        const std::string sql = "UPDATE records SET body = '{\"Pid\":' WHERE kind = 'product' "
                                "AND id = '" +
                                std::to_string(pid) + "'";
        char* err = nullptr;
        EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
        EXPECT_EQ(sqlite3_changes(raw), 1);
        sqlite3_free(err);
        sqlite3_close(raw);
    }

    fs::path dir_;
    std::unique_ptr<store::store> db_;
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_;
    std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(DamagedRecord, FailsOnlyTheWriteThatTouchesIt) {
    ASSERT_TRUE(create(R"({"Description":"damaged","Price":1})").body.ok());
    ASSERT_TRUE(create(R"({"Description":"healthy","Price":2})").body.ok());
    damage(1);

    // The writer is held by a first write until every other write is queued, so the patch of
    // the damaged product and its neighbours run in one batch (one transaction).
    std::latch queued(1);
    std::promise<void> first_done;
    db_->submit(
        "rm1",
        [&queued](store::write_txn&) -> core::result<std::string> {
            queued.wait();
            return std::string("{}");
        },
        [&first_done](store::write_result) { first_done.set_value(); });
    const auto patch = [](int pid, const char* body) {
        return patch_product(pid, *parse_product_input(body, false));
    };
    std::vector<std::future<store::write_result>> results;
    const auto submit = [&](store::write_fn fn) {
        auto p = std::make_shared<std::promise<store::write_result>>();
        results.push_back(p->get_future());
        db_->submit("rm1", std::move(fn), [p](store::write_result r) { p->set_value(r); });
    };
    submit(patch(2, R"({"Price":3})"));
    submit(patch(1, R"({"Price":4})"));
    submit(create_product(*parse_product_input(R"({"Description":"new","Price":5})", true)));
    submit(patch(2, R"({"Description":"still healthy"})"));
    queued.count_down();
    first_done.get_future().get();

    std::vector<store::write_result> r;
    for (auto& f : results) {
        r.push_back(f.get());
    }
    EXPECT_TRUE(r[0].body.ok()) << r[0].body.err().message;
    ASSERT_FALSE(r[1].body.ok());
    EXPECT_EQ(r[1].body.err().code, core::error_code::internal);
    EXPECT_NE(r[1].body.err().message.find("product '1' is damaged"), std::string::npos)
        << r[1].body.err().message;
    EXPECT_FALSE(r[1].rve.has_value());
    EXPECT_TRUE(r[2].body.ok()) << r[2].body.err().message;
    EXPECT_TRUE(r[3].body.ok()) << r[3].body.err().message;

    // The neighbours committed; the damaged row is as it was.
    EXPECT_NE(db_->get_record("rm1", core::record_kind::product, "2")->body.find("still healthy"),
              std::string::npos);
    EXPECT_TRUE(db_->get_record("rm1", core::record_kind::product, "3").has_value());
    EXPECT_EQ(db_->get_record("rm1", core::record_kind::product, "1")->body, "{\"Pid\":");

    // One log line, naming the RmSystem and the record.
    int lines = 0;
    for (const auto& line : log_->last_formatted()) {
        if (line.find("damaged") != std::string::npos) {
            ++lines;
            EXPECT_NE(line.find("rm1"), std::string::npos) << line;
            EXPECT_NE(line.find("product '1'"), std::string::npos) << line;
        }
    }
    EXPECT_EQ(lines, 1);
}

} // namespace
} // namespace posfeed::pos
