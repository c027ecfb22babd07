#include "store/sqlite/sqlite_store.hpp"

#include "store/run_write.hpp"
#include "store/sqlite/migrations.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <future>

namespace posfeed::store::sqlite {
namespace {

record read_record(const stmt& s, core::record_kind kind) {
    // columns: id, location, rve, deleted, body, lookup
    return record{kind,      s.text(0), s.text(1), core::rve{s.int64(2)}, s.int64(3) != 0,
                  s.text(4), s.text(5)};
}

/// The write_txn of one write inside a batch.
class sqlite_txn final : public write_txn {
  public:
    sqlite_txn(db& conn, const std::string& rmsystem, const core::rve_clock& clock)
        : conn_(conn), rmsystem_(rmsystem), clock_(clock) {}

    const std::string& rmsystem() const override { return rmsystem_; }

    std::optional<record> get(core::record_kind kind, std::string_view id) override {
        stmt s(conn_, "SELECT id, location, rve, deleted, body, lookup FROM records "
                      "WHERE rmsystem = ?1 AND kind = ?2 AND id = ?3");
        s.bind(1, rmsystem_).bind(2, core::to_string(kind)).bind(3, id);
        if (!s.step()) {
            return std::nullopt;
        }
        return read_record(s, kind);
    }

    std::optional<record> find(core::record_kind kind, std::string_view lookup) override {
        stmt s(conn_,
               "SELECT id, location, rve, deleted, body, lookup FROM records WHERE rmsystem = ?1 "
               "AND kind = ?2 AND lookup = ?3 AND deleted = 0 ORDER BY rve LIMIT 1");
        s.bind(1, rmsystem_).bind(2, core::to_string(kind)).bind(3, lookup);
        if (!s.step()) {
            return std::nullopt;
        }
        return read_record(s, kind);
    }

    void put(record r) override {
        r.rve = rve();
        stmt s(conn_,
               "INSERT INTO records (rmsystem, kind, id, location, rve, deleted, body, lookup) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (rmsystem, kind, id) DO "
               "UPDATE SET location = excluded.location, rve = excluded.rve, "
               "deleted = excluded.deleted, body = excluded.body, lookup = excluded.lookup");
        s.bind(1, rmsystem_)
            .bind(2, core::to_string(r.kind))
            .bind(3, r.id)
            .bind(4, r.location)
            .bind(5, r.rve);
        s.bind(6, std::int64_t{r.deleted ? 1 : 0}).bind(7, r.body).bind(8, r.lookup);
        s.run();
    }

    void emit(event e) override {
        const core::rve v = rve();
        stmt s(conn_, "INSERT INTO events (rmsystem, rve, type, location, session, body) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        s.bind(1, rmsystem_).bind(2, v).bind(3, core::to_string(e.type)).bind(4, e.location);
        s.bind(5, e.session).bind(6, e.body);
        s.run();
        events_.push_back(std::move(e));
    }

    core::rve rve() override {
        if (rve_) {
            return *rve_;
        }
        stmt sel(conn_, "SELECT last_rve FROM rmsystems WHERE id = ?1");
        sel.bind(1, rmsystem_);
        if (!sel.step()) {
            throw unknown_rmsystem{};
        }
        const core::rve next = clock_.next(core::rve{sel.int64(0)});
        stmt upd(conn_, "UPDATE rmsystems SET last_rve = ?1 WHERE id = ?2");
        upd.bind(1, next).bind(2, rmsystem_).run();
        rve_ = next;
        return next;
    }

    std::int64_t next_id(std::string_view counter) override {
        stmt s(conn_, "INSERT INTO counters (rmsystem, name, value) VALUES (?1, ?2, 1) "
                      "ON CONFLICT (rmsystem, name) DO UPDATE SET value = value + 1 "
                      "RETURNING value");
        s.bind(1, rmsystem_).bind(2, counter);
        s.step();
        return s.int64(0);
    }

    std::optional<core::rve> allocated() const { return rve_; }
    std::vector<event>& events() { return events_; }

  private:
    db& conn_;
    const std::string& rmsystem_;
    const core::rve_clock& clock_;
    std::optional<core::rve> rve_;
    std::vector<event> events_;
};

std::string type_list_sql(core::type_mask mask) {
    std::string out;
    for (int i = 0; i < core::event_type_count; ++i) {
        if ((mask & (core::type_mask{1} << i)) != 0) {
            out += out.empty() ? "'" : ",'";
            out += core::to_string(static_cast<core::event_type>(i));
            out += "'";
        }
    }
    return out;
}

} // namespace

sqlite_store::lease::~lease() {
    if (conn_) {
        const std::lock_guard lock(owner_->readers_mu_);
        owner_->idle_readers_.push_back(std::move(conn_));
    }
}

namespace {

/// A consistent read over records: one read transaction for the cursor's whole life.
class sqlite_record_cursor final : public record_cursor {
  public:
    sqlite_record_cursor(sqlite_store::lease conn, std::string rmsystem,
                         std::vector<core::record_kind> kinds, core::rve since,
                         std::string location)
        : conn_(std::move(conn)), txn_(*conn_), rmsystem_(std::move(rmsystem)),
          kinds_(std::move(kinds)), since_(since), location_(std::move(location)) {
        stmt s(*conn_, "SELECT last_rve FROM rmsystems WHERE id = ?1");
        s.bind(1, rmsystem_);
        if (s.step()) {
            at_ = core::rve{s.int64(0)};
        }
    }

    core::rve at() const override { return at_; }

    std::vector<record> next(std::size_t limit) override {
        std::vector<record> out;
        while (out.size() < limit && kind_index_ < kinds_.size()) {
            const core::record_kind kind = kinds_[kind_index_];
            // Keyset paging over (rve, id); a kind's first page starts after `since` itself.
            std::string sql =
                "SELECT id, location, rve, deleted, body, lookup FROM records WHERE rmsystem = ?1 "
                "AND kind = ?2 AND rve <= ?6 AND ";
            sql += after_id_ ? "(rve > ?3 OR (rve = ?3 AND id > ?4))" : "rve > ?3";
            if (since_.ms == 0) {
                sql += " AND deleted = 0";
            }
            if (!location_.empty()) {
                sql += " AND (location = '' OR location = ?7)";
            }
            sql += " ORDER BY rve, id LIMIT ?5";
            stmt s(*conn_, sql);
            s.bind(1, rmsystem_).bind(2, core::to_string(kind)).bind(3, after_rve_);
            if (after_id_) {
                s.bind(4, *after_id_);
            }
            s.bind(5, static_cast<std::int64_t>(limit - out.size())).bind(6, at_);
            if (!location_.empty()) {
                s.bind(7, location_);
            }
            while (s.step()) {
                out.push_back(read_record(s, kind));
                after_rve_ = out.back().rve;
                after_id_ = out.back().id;
            }
            if (out.size() < limit) {
                // this kind is exhausted
                ++kind_index_;
                after_rve_ = since_;
                after_id_.reset();
            }
        }
        return out;
    }

  private:
    sqlite_store::lease conn_;
    transaction txn_; ///< the one read transaction: every page sees the same point
    std::string rmsystem_;
    std::vector<core::record_kind> kinds_;
    core::rve since_;
    std::string location_;
    core::rve at_;
    std::size_t kind_index_ = 0;
    core::rve after_rve_ = since_;
    std::optional<std::string> after_id_; ///< none: the kind's first page
};

} // namespace

namespace {

/// Whether the API key `id` exists and is not revoked (a write_guard), as of `conn`'s
/// transaction.
bool key_usable(db& conn, const std::string& id) {
    stmt s(conn, "SELECT revoked FROM api_keys WHERE id = ?1");
    s.bind(1, id);
    return s.step() && s.int64(0) == 0;
}

/// Deletes events before `cutoff` and raises each RmSystem's history horizon.
std::size_t prune_all(db& conn, core::rve cutoff) {
    std::size_t deleted = 0;
    std::vector<std::string> rms;
    {
        stmt s(conn, "SELECT id FROM rmsystems");
        while (s.step()) {
            rms.push_back(s.text(0));
        }
    }
    for (const auto& rm : rms) {
        stmt horizon(
            conn, "UPDATE rmsystems SET history_from = max(history_from, coalesce((SELECT max(rve) "
                  "FROM events WHERE rmsystem = ?1 AND rve < ?2), 0)) WHERE id = ?1");
        horizon.bind(1, rm).bind(2, cutoff).run();
        stmt del(conn, "DELETE FROM events WHERE rmsystem = ?1 AND rve < ?2");
        del.bind(1, rm).bind(2, cutoff).run();
        deleted += static_cast<std::size_t>(sqlite3_changes(conn.handle()));
    }
    // Failed logins older than the throttle's memory (15 minutes) are forgotten.
    stmt old_failures(conn, "DELETE FROM login_failures WHERE last_ms < ?1");
    old_failures.bind(1, core::system_now_ms() - 15 * 60 * 1000).run();
    return deleted;
}

} // namespace

std::vector<record> sqlite_store::list_records(const record_query& q) {
    std::string sql = "SELECT id, location, rve, deleted, body, lookup FROM records WHERE rmsystem "
                      "= ?1 AND kind = ?2 "
                      "AND rve > ?3";
    if (q.after) {
        sql += " AND (rve > ?4 OR (rve = ?4 AND id > ?5))";
    }
    if (!q.location.empty()) {
        sql += " AND location = ?6";
    }
    if (!q.id_prefix.empty()) {
        sql += " AND substr(id, 1, length(?7)) = ?7";
    }
    if (!q.include_deleted) {
        sql += " AND deleted = 0";
    }
    sql += " ORDER BY rve, id LIMIT ?8";
    auto conn = reader();
    stmt s(*conn, sql);
    s.bind(1, q.rmsystem).bind(2, core::to_string(q.kind)).bind(3, q.since);
    if (q.after) {
        s.bind(4, q.after->first).bind(5, q.after->second);
    }
    if (!q.location.empty()) {
        s.bind(6, q.location);
    }
    if (!q.id_prefix.empty()) {
        s.bind(7, q.id_prefix);
    }
    s.bind(8, static_cast<std::int64_t>(q.limit));
    std::vector<record> out;
    while (s.step()) {
        out.push_back(read_record(s, q.kind));
    }
    return out;
}

std::unique_ptr<record_cursor> sqlite_store::open_records(const std::string& rmsystem,
                                                          std::vector<core::record_kind> kinds,
                                                          core::rve since, std::string location) {
    return std::make_unique<sqlite_record_cursor>(reader(), rmsystem, std::move(kinds), since,
                                                  std::move(location));
}

std::size_t sqlite_store::prune_events(core::rve cutoff) {
    std::promise<std::size_t> done;
    auto result = done.get_future();
    std::size_t deleted = 0;
    job j;
    j.maintenance = [cutoff, &deleted](db& conn) { deleted = prune_all(conn, cutoff); };
    // Answered once the deletion is committed, so a read after prune_events sees it.
    j.maintenance_done = [&done, &deleted](std::exception_ptr failed) {
        if (failed) {
            done.set_exception(failed);
        } else {
            done.set_value(deleted);
        }
    };

    {
        const std::lock_guard lock(queue_mu_);
        if (closing_) {
            return 0;
        }
        queue_.push_back(std::move(j));
        queue_cv_.notify_one();
    }
    return result.get();
}

sqlite_store::sqlite_store(const std::string& path, store_options options)
    : path_(path), options_(std::move(options)), clock_(options_.now) {
    const auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) {
            throw store_error("cannot create data directory '" + dir.string() +
                              "': " + ec.message());
        }
    }
    writer_db_ = std::make_unique<db>(path_);
    migrate(*writer_db_);
    writer_ = std::thread([this] { writer_loop(); });
}

sqlite_store::~sqlite_store() {
    close();
}

sqlite_store::lease sqlite_store::reader() {
    {
        const std::lock_guard lock(readers_mu_);
        if (!idle_readers_.empty()) {
            auto conn = std::move(idle_readers_.back());
            idle_readers_.pop_back();
            return lease(*this, std::move(conn));
        }
    }
    return lease(*this, std::make_unique<db>(path_));
}

std::optional<record> sqlite_store::get_record(const std::string& rmsystem, core::record_kind kind,
                                               std::string_view id) {
    auto conn = reader();
    stmt s(*conn, "SELECT id, location, rve, deleted, body, lookup FROM records "
                  "WHERE rmsystem = ?1 AND kind = ?2 AND id = ?3");
    s.bind(1, rmsystem).bind(2, core::to_string(kind)).bind(3, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_record(s, kind);
}

std::optional<record> sqlite_store::find_record(const std::string& rmsystem, core::record_kind kind,
                                                std::string_view lookup) {
    auto conn = reader();
    stmt s(*conn,
           "SELECT id, location, rve, deleted, body, lookup FROM records WHERE rmsystem = ?1 "
           "AND kind = ?2 AND lookup = ?3 AND deleted = 0 ORDER BY rve LIMIT 1");
    s.bind(1, rmsystem).bind(2, core::to_string(kind)).bind(3, lookup);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_record(s, kind);
}

event_page sqlite_store::read_events(const event_query& q) {
    event_page page;
    const core::type_mask plain = q.types & ~core::session_types;
    const core::type_mask scoped = q.session.empty() ? 0 : (q.types & core::session_types);
    auto conn = reader();
    const transaction read(*conn); // the page and the newest RVE at one point
    {
        stmt s(*conn, "SELECT last_rve, history_from FROM rmsystems WHERE id = ?1");
        s.bind(1, q.rmsystem);
        if (s.step()) {
            page.newest = core::rve{s.int64(0)};
            page.history_from = core::rve{s.int64(1)};
        }
    }
    if ((plain | scoped) == 0) {
        return page;
    }
    std::string filter;
    if (plain != 0) {
        filter = "type IN (" + type_list_sql(plain) + ")";
    }
    if (scoped != 0) {
        filter += filter.empty() ? "" : " OR ";
        filter += "(type IN (" + type_list_sql(scoped) + ") AND session = ?4)";
    }
    const std::string base = "SELECT rve, type, location, session, body FROM events "
                             "WHERE rmsystem = ?1 AND (" +
                             filter + ") AND ";
    const auto read_rows = [&](stmt& s) {
        while (s.step()) {
            const core::rve v{s.int64(0)};
            if (page.groups.empty() || page.groups.back().rve != v) {
                page.groups.push_back(event_group{q.rmsystem, v, {}});
            }
            page.groups.back().events.push_back(
                event{*core::parse_event_type(s.text_view(1)), s.text(2), s.text(3), s.text(4)});
        }
    };
    std::size_t rows = 0;
    {
        stmt s(*conn, base + "rve > ?2 ORDER BY rve, seq LIMIT ?3");
        s.bind(1, q.rmsystem).bind(2, q.after).bind(3, static_cast<std::int64_t>(q.limit));
        if (scoped != 0) {
            s.bind(4, q.session);
        }
        read_rows(s);
    }
    for (const auto& g : page.groups) {
        rows += g.events.size();
    }
    if (rows < q.limit || page.groups.empty()) {
        return page;
    }
    // The limit may have cut the last group: drop it, or if the page is that one group, read
    // the whole group (a group is never cut).
    page.more = true;
    if (page.groups.size() > 1) {
        page.groups.pop_back();
        return page;
    }
    const core::rve only = page.groups.front().rve;
    page.groups.clear();
    stmt s(*conn, base + "rve = ?2 ORDER BY seq");
    s.bind(1, q.rmsystem).bind(2, only);
    if (scoped != 0) {
        s.bind(4, q.session);
    }
    read_rows(s);
    return page;
}

core::rve sqlite_store::newest_rve(const std::string& rmsystem) {
    auto conn = reader();
    stmt s(*conn, "SELECT last_rve FROM rmsystems WHERE id = ?1");
    s.bind(1, rmsystem);
    return s.step() ? core::rve{s.int64(0)} : core::rve{};
}

void sqlite_store::submit(std::string rmsystem, write_fn fn, std::function<void(write_result)> done,
                          write_guard guard) {
    {
        const std::lock_guard lock(queue_mu_);
        if (!closing_) {
            queue_.push_back(
                job{std::move(rmsystem), std::move(fn), std::move(done), std::move(guard), {}, {}});
            queue_cv_.notify_one();
            return;
        }
    }
    write_result r;
    r.body = core::error{core::error_code::unavailable,
                         "the server is shutting down; retry on another node"};
    done(std::move(r));
}

void sqlite_store::set_commit_listener(std::function<void(group_ptr)> listener) {
    listener_ = std::move(listener);
}

core::status sqlite_store::backup(const std::string& file) {
    const std::string tmp = file + ".tmp";
    std::error_code ec;
    if (std::filesystem::equivalent(file, path_, ec)) {
        return core::error{core::error_code::invalid_argument,
                           "the backup file '" + file + "' is the database itself: name another"};
    }
    std::filesystem::remove(tmp, ec);
    auto source = reader();
    {
        db target(tmp);
        sqlite3_backup* b = sqlite3_backup_init(target.handle(), "main", source->handle(), "main");
        if (b == nullptr) {
            return core::error{core::error_code::unavailable,
                               "cannot start the backup: " +
                                   std::string(sqlite3_errmsg(target.handle()))};
        }
        // All pages in one step: one read transaction, so the copy is of one point in time
        // while the writer goes on (WAL).
        const int rc = sqlite3_backup_step(b, -1);
        sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE) {
            std::filesystem::remove(tmp, ec);
            return core::error{core::error_code::unavailable,
                               "the backup failed: " + std::string(sqlite3_errstr(rc))};
        }
        // The copy stands alone: its WAL folded in, and on disk before it gets its name.
        target.exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
    }
    std::filesystem::rename(tmp, file, ec);
    if (ec) {
        return core::error{core::error_code::unavailable,
                           "cannot move the backup to '" + file + "': " + ec.message()};
    }
    return core::ok_status();
}

bool sqlite_store::healthy() {
    try {
        auto conn = reader();
        stmt s(*conn, "SELECT count(*) FROM rmsystems");
        return s.step();
    } catch (const store_error&) {
        return false;
    }
}

void sqlite_store::close() {
    {
        const std::lock_guard lock(queue_mu_);
        if (closing_) {
            return;
        }
        closing_ = true;
        queue_cv_.notify_all();
    }
    if (writer_.joinable()) {
        writer_.join();
    }
}

void sqlite_store::writer_loop() {
    while (true) {
        std::deque<job> batch;
        std::optional<job> maintenance;
        {
            std::unique_lock lock(queue_mu_);
            queue_cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;
            }
            while (!queue_.empty() && batch.size() < options_.max_batch &&
                   !queue_.front().maintenance) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            if (batch.empty()) {
                maintenance = std::move(queue_.front());
                queue_.pop_front();
            }
        }
        if (maintenance) {
            run_maintenance(*maintenance);
            continue;
        }
        run_batch(batch);
    }
}

void sqlite_store::run_maintenance(job& j) {
    db& conn = *writer_db_;
    try {
        transaction txn(conn, transaction::mode::immediate);
        j.maintenance(conn);
        txn.commit();
    } catch (const std::exception& e) {
        spdlog::error("database maintenance failed: {}", e.what());
        if (j.maintenance_done) {
            j.maintenance_done(std::current_exception());
        }
        return;
    }
    if (j.maintenance_done) {
        j.maintenance_done(nullptr);
    }
}

void sqlite_store::run_batch(std::deque<job>& batch) {
    std::vector<write_result> results(batch.size());
    std::vector<group_ptr> groups(batch.size());
    db& conn = *writer_db_;
    try {
        // One transaction for the batch (one fsync), a savepoint per write so that a write that
        // fails leaves the others as they are.
        transaction txn(conn, transaction::mode::immediate);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            // The writer holds the database's write lock: a revocation waits for this batch.
            if (!batch[i].guard.api_key.empty() && !key_usable(conn, batch[i].guard.api_key)) {
                results[i].body = key_revoked();
                continue;
            }
            savepoint sp(conn);
            sqlite_txn tx(conn, batch[i].rmsystem, clock_);
            write_outcome out = run_write(batch[i].fn, tx);
            if (out.commit) {
                sp.release();
                results[i].rve = tx.allocated();
                if (!tx.events().empty()) {
                    groups[i] = std::make_shared<const event_group>(
                        event_group{batch[i].rmsystem, *tx.allocated(), std::move(tx.events())});
                }
            }
            results[i].body = std::move(out.body);
        }
        txn.commit();
    } catch (const store_error& e) {
        spdlog::error("group commit of {} writes failed: {}", batch.size(), e.what());
        for (std::size_t i = 0; i < batch.size(); ++i) {
            results[i] = write_result{};
            results[i].body = commit_failed(e);
            groups[i].reset();
        }
    }
    for (auto& g : groups) {
        if (g && listener_) {
            listener_(g);
        }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i].done(std::move(results[i]));
    }
}

} // namespace posfeed::store::sqlite
