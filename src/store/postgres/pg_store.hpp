#pragma once

#include "store/postgres/pg_pool.hpp"
#include "store/store.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace posfeed::store::postgres {

/// Where a batch's commit announcement (NOTIFY) goes: in its own round trip right after the
/// COMMIT (the default), or inside the transaction, where PostgreSQL takes a cluster-wide lock
/// from the NOTIFY to the end of the commit's WAL flush (kept to measure it: bench/).
enum class notify_placement { after_commit, in_transaction };

/// The store of several nodes: one PostgreSQL database shared by every node (SPEC 8).
///
/// - **Writes** are queued and committed by one writer thread per node, many per transaction
///   (group commit). A batch first locks the rows of its RmSystems in `rmsystems` (`FOR
///   UPDATE`, in id order, so two nodes never deadlock); each write then runs against an
///   in-memory overlay (its reads go to the database through it, its changes stay in memory),
///   its RVE follows the locked `last_rve`, and the batch writes every change in one statement
///   per table and commits. The row lock orders the commits of an RmSystem across nodes, so
///   commit order is RVE order (docs/architecture.md, "Several nodes").
/// - **Fan-out**: one thread per node keeps a connection that `LISTEN`s; each commit is
///   announced with `NOTIFY posfeed '<rmsystem> <rve>'`. For every followed RmSystem the thread
///   reads the events after its cursor, in RVE order, and hands the groups to the commit
///   listener: this node's commits and every other node's take the same path. A safety poll
///   (every `poll_ms`) covers lost announcements; after a lost connection it listens again,
///   then re-reads every followed RmSystem from its cursor.
/// - **Reads** use a pool of connections; each read method runs as one statement or one
///   REPEATABLE READ transaction, so it sees one consistent point.
class pg_store final : public store {
  public:
    /// Connects to `url` (libpq's URL or key=value form; `posfeed_notify=in_transaction` is
    /// ours, taken out before libpq sees it) and migrates the schema. Throws store_error.
    pg_store(const std::string& url, store_options options);
    ~pg_store() override;

    core::status create_rmsystem(const std::string& id) override;
    bool rmsystem_exists(const std::string& id) override;
    core::status add_api_key(const api_key_row& key) override;
    std::optional<api_key_row> find_api_key(std::string_view id) override;
    core::status revoke_api_key(std::string_view id) override;
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
    std::unordered_map<std::string, int>
    exchange_presence(const std::string& node,
                      const std::unordered_map<std::string, int>& local) override;
    void follow(const std::string& rmsystem, std::function<void(core::status)> ready) override;
    void unfollow(const std::string& rmsystem) override;
    store_stats stats() override;
    std::optional<record> find_record(const std::string& rmsystem, core::record_kind kind,
                                      std::string_view lookup) override;
    std::optional<record> get_record(const std::string& rmsystem, core::record_kind kind,
                                     std::string_view id) override;
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
    /// Not done by posfeed: unavailable, naming pg_dump and pg_basebackup.
    core::status backup(const std::string& file) override;
    void close() override;

  private:
    struct job {
        std::string rmsystem;
        write_fn fn;
        std::function<void(write_result)> done;
        write_guard guard;
    };

    /// One followed RmSystem of the fan-out.
    struct follower {
        int refs = 0;                    ///< open follows; erased at zero
        std::optional<core::rve> cursor; ///< last RVE handed to the listener; unset: pending
        std::vector<std::function<void(core::status)>> waiting; ///< follows not yet ready
    };

    void writer_loop();
    void run_batch(std::vector<job>& batch);
    void fanout_loop();
    /// One life of the LISTEN connection; returns when it fails or the store closes.
    void listen_on(connection& c);
    /// Hands every group of `rmsystem` after its cursor to the listener, in RVE order.
    void deliver_new(connection& c, const std::string& rmsystem);
    /// Sets the cursors of pending follows and answers their waiters.
    void start_pending(connection& c);
    /// Answers every pending follow with `err` (the database cannot be read).
    void fail_pending(const core::error& err);
    void wake_fanout();

    std::string conninfo_;
    notify_placement notify_;
    store_options options_;
    core::rve_clock clock_;
    pool pool_;

    // Writes (the writer thread owns writer_conn_).
    std::unique_ptr<connection> writer_conn_;
    std::mutex queue_mu_;
    std::condition_variable queue_cv_;
    std::deque<job> queue_;
    bool closing_ = false;
    std::thread writer_;

    // Fan-out.
    std::function<void(group_ptr)> listener_;
    std::mutex follow_mu_;
    std::unordered_map<std::string, follower> followers_;
    bool unreachable_ = false; ///< the LISTEN connection failed and is not back (follow_mu_)
    int wake_fd_ = -1;         ///< an eventfd that wakes the fan-out thread
    std::atomic<bool> stopping_{false};
    std::thread fanout_;
    std::atomic<std::uint64_t> notifications_{0};
    std::atomic<std::uint64_t> polls_found_{0};
    std::atomic<std::uint64_t> reconnects_{0};
    std::atomic<std::uint64_t> stale_groups_{0};
};

} // namespace posfeed::store::postgres
