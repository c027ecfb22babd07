#pragma once

#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace posfeed::store::sqlite {

/// The embedded store: one SQLite database in WAL mode. Writes are serialised on one writer
/// thread that commits them in batches (group commit: many writes, one fsync), each write in
/// its own savepoint so one failing write does not undo the others. Reads use a pool of
/// reader connections and never block the writer. The commit listener and every `done` run on
/// the writer thread, the listener first; pruning is queued like a write and runs alone in its
/// own transaction between batches.
class sqlite_store final : public store {
  public:
    /// Opens or creates the database at `path` and migrates it. Throws store_error.
    sqlite_store(const std::string& path, store_options options);
    ~sqlite_store() override;

    core::status create_rmsystem(const std::string& id) override;
    bool rmsystem_exists(const std::string& id) override;
    core::status add_api_key(const api_key_row& key) override;
    std::optional<api_key_row> find_api_key(std::string_view id) override;
    core::status revoke_api_key(std::string_view id) override;
    std::optional<record> get_record(const std::string& rmsystem, core::record_kind kind,
                                     std::string_view id) override;
    std::optional<record> find_record(const std::string& rmsystem, core::record_kind kind,
                                      std::string_view lookup) override;
    core::status add_user(const user_row& user) override;
    std::optional<user_row> find_user(std::string_view name) override;
    core::status add_session(const session_row& session) override;
    std::optional<session_row> find_session(std::string_view key) override;
    std::optional<session_row> find_session_by_token(std::string_view token_hash) override;
    void touch_session(std::string_view key, std::int64_t now_ms) override;
    bool end_session(std::string_view key) override;
    revocations revoked_since(std::int64_t since_ms) override;
    login_failures get_login_failures(std::string_view user) override;
    void record_login_failure(std::string_view user) override;
    void clear_login_failures(std::string_view user) override;
    /// One process per SQLite database: the hub's own counts are the whole truth; none here.
    std::unordered_map<std::string, int>
    exchange_presence(const std::string& node,
                      const std::unordered_map<std::string, int>& local) override;
    /// Every commit of the database goes through this process: the listener sees every group,
    /// so `ready` runs at once.
    void follow(const std::string& rmsystem, std::function<void(core::status)> ready) override;
    void unfollow(const std::string& rmsystem) override;
    store_stats stats() override;
    std::vector<record> list_records(const record_query& q) override;
    std::unique_ptr<record_cursor> open_records(const std::string& rmsystem,
                                                std::vector<core::record_kind> kinds,
                                                core::rve since, std::string location) override;
    std::size_t prune_events(core::rve cutoff) override;
    event_page read_events(const event_query& q) override;
    core::rve newest_rve(const std::string& rmsystem) override;
    using store::submit;
    void submit(std::string rmsystem, write_fn fn, std::function<void(write_result)> done,
                write_guard guard) override;
    void set_commit_listener(std::function<void(group_ptr)> listener) override;
    bool healthy() override;
    /// SQLite's online backup API from a reader connection (one read transaction: WAL lets the
    /// writer go on), into `file`.tmp, synced, then renamed to `file`.
    core::status backup(const std::string& file) override;
    void close() override;

  private:
  public:
    /// A reader connection borrowed from the pool, returned on destruction.
    class lease {
      public:
        lease(sqlite_store& owner, std::unique_ptr<db> conn)
            : owner_(&owner), conn_(std::move(conn)) {}
        ~lease();
        lease(lease&&) = default;
        lease& operator=(lease&&) = delete;
        db& operator*() const { return *conn_; }
        db* operator->() const { return conn_.get(); }

      private:
        sqlite_store* owner_;
        std::unique_ptr<db> conn_;
    };

  private:
    struct job {
        std::string rmsystem;
        write_fn fn;
        std::function<void(write_result)> done;
        write_guard guard;
        std::function<void(db&)> maintenance; ///< when set, run alone in its own transaction
        /// Called after the maintenance transaction committed (null) or failed (what it threw).
        std::function<void(std::exception_ptr)> maintenance_done;
    };

    lease reader();
    void writer_loop();
    void run_batch(std::deque<job>& batch);
    void run_maintenance(job& j);

    std::string path_;
    store_options options_;
    core::rve_clock clock_;

    std::mutex readers_mu_;
    std::vector<std::unique_ptr<db>> idle_readers_;

    std::unique_ptr<db> writer_db_;
    std::function<void(group_ptr)> listener_;
    std::mutex queue_mu_;
    std::condition_variable queue_cv_;
    std::deque<job> queue_;
    bool closing_ = false;
    std::thread writer_;
};

} // namespace posfeed::store::sqlite
