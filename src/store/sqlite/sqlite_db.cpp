#include "store/sqlite/sqlite_db.hpp"

#include "store/store.hpp"

namespace posfeed::store::sqlite {

void check(sqlite3* conn, int rc, std::string_view what) {
    if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        // The storage refused the data: a full disk (SQLITE_FULL), a write that failed (EFBIG
        // past a file-size limit, EIO: SQLITE_IOERR), a read-only file or file system.
        const int primary = rc & 0xff;
        const bool storage =
            primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_READONLY;
        throw store_error("sqlite: " + std::string(what) + ": " +
                              (conn != nullptr ? sqlite3_errmsg(conn) : sqlite3_errstr(rc)),
                          storage ? store_error::cause::storage : store_error::cause::other);
    }
}

db::db(const std::string& path) {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(raw);
    check(raw, rc, "open " + path);
    sqlite3_busy_timeout(raw, 5000);
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

db::~db() {
    for (auto& [_, list] : cache_) {
        for (auto* s : list) {
            sqlite3_finalize(s);
        }
    }
}

sqlite3_stmt* db::acquire(std::string_view sql) const {
    const auto it = cache_.find(std::string(sql));
    if (it != cache_.end() && !it->second.empty()) {
        sqlite3_stmt* s = it->second.back();
        it->second.pop_back();
        --cached_;
        return s;
    }
    sqlite3_stmt* raw = nullptr;
    const int rc =
        sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(raw);
        check(db_.get(), rc, "prepare");
    }
    return raw;
}

void db::release(sqlite3_stmt* s) const {
    if (s == nullptr) {
        return;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    // Statements built from parameters (type lists) vary; a bound keeps the cache small.
    constexpr std::size_t max_cached = 256;
    if (cached_ >= max_cached) {
        sqlite3_finalize(s);
        return;
    }
    cache_[sqlite3_sql(s)].push_back(s);
    ++cached_;
}

void db::exec(const char* sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw store_error("sqlite: " + msg);
    }
}

transaction::transaction(db& conn, mode m) : conn_(conn) {
    stmt(conn_, m == mode::immediate ? "BEGIN IMMEDIATE" : "BEGIN").run();
}

transaction::~transaction() {
    if (open_) {
        try {
            stmt(conn_, "ROLLBACK").run();
        } catch (const store_error&) {
            // a failed COMMIT or I/O error may have ended the transaction already
        }
    }
}

void transaction::commit() {
    stmt(conn_, "COMMIT").run();
    open_ = false;
}

savepoint::savepoint(db& conn) : conn_(conn) {
    stmt(conn_, "SAVEPOINT w").run();
}

savepoint::~savepoint() {
    if (open_) {
        try {
            stmt(conn_, "ROLLBACK TO w").run();
            stmt(conn_, "RELEASE w").run();
        } catch (const store_error&) {
            // the enclosing transaction fails and rolls back
        }
    }
}

void savepoint::release() {
    stmt(conn_, "RELEASE w").run();
    open_ = false;
}

stmt::stmt(const db& conn, std::string_view sql)
    : db_(conn), conn_(conn.handle()), s_(conn.acquire(sql)) {}

stmt::~stmt() {
    db_.release(s_);
}

stmt& stmt::bind(int i, std::string_view v) {
    check(conn_, sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT),
          "bind");
    return *this;
}

stmt& stmt::bind(int i, std::int64_t v) {
    check(conn_, sqlite3_bind_int64(s_, i, v), "bind");
    return *this;
}

bool stmt::step() {
    const int rc = sqlite3_step(s_);
    check(conn_, rc, "step");
    return rc == SQLITE_ROW;
}

void stmt::run() {
    while (step()) {
    }
}

std::string stmt::text(int col) const {
    return std::string(text_view(col));
}

std::string_view stmt::text_view(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    if (p == nullptr) {
        return {};
    }
    return {p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col))};
}

} // namespace posfeed::store::sqlite
