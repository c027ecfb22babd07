#pragma once

#include "core/rve.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace posfeed::store::sqlite {

/// Owns one sqlite3 connection. Not thread-safe: one thread at a time.
class db {
  public:
    /// Opens (creating) `path` in WAL mode with synchronous=FULL, so a COMMIT is on disk when
    /// it returns. Throws store_error.
    explicit db(const std::string& path);
    ~db();
    db(const db&) = delete;
    db& operator=(const db&) = delete;

    /// Runs one or more statements without results; throws store_error.
    void exec(const char* sql);

    sqlite3* handle() const { return db_.get(); }

    /// A prepared statement for `sql`: a cached one when there is one, else newly prepared.
    /// Give it back with release(). Throws store_error.
    sqlite3_stmt* acquire(std::string_view sql) const;
    /// Resets `s` and keeps it for the next acquire() of the same SQL.
    void release(sqlite3_stmt* s) const;

  private:
    struct closer {
        void operator()(sqlite3* p) const { sqlite3_close_v2(p); }
    };
    std::unique_ptr<sqlite3, closer> db_;
    // Statements by SQL text: the same few statements run for every write and read, and
    // preparing (parsing and planning) them each time was the largest cost of a write.
    mutable std::unordered_map<std::string, std::vector<sqlite3_stmt*>> cache_;
    mutable std::size_t cached_ = 0;
};

/// A prepared statement (from the connection's cache); reset, its bindings cleared and given
/// back to the cache on destruction. Bind indexes start at 1, column indexes at 0.
class stmt {
  public:
    stmt(const db& conn, std::string_view sql);
    ~stmt();
    stmt(const stmt&) = delete;
    stmt& operator=(const stmt&) = delete;

    stmt& bind(int i, std::string_view v);
    stmt& bind(int i, std::int64_t v);
    stmt& bind(int i, core::rve v) { return bind(i, v.ms); }

    /// Steps once: true when a row is available, false when done. Throws store_error.
    bool step();
    /// Steps to completion, for statements without rows.
    void run();

    std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
    std::string text(int col) const;
    std::string_view text_view(int col) const;

  private:
    const db& db_;
    sqlite3* conn_;
    sqlite3_stmt* s_;
};

/// A transaction on one connection, as a scope guard: the constructor begins it, commit()
/// commits it, and the destructor rolls it back when commit() did not run (an exception, an
/// early return, or a read transaction that has nothing to commit). Errors of the roll-back
/// are swallowed: the connection then has no transaction either way.
class transaction {
  public:
    /// `immediate` takes the write lock at once (BEGIN IMMEDIATE), so a writer never fails
    /// with SQLITE_BUSY half-way; `deferred` (BEGIN) is for reads.
    enum class mode { deferred, immediate };

    explicit transaction(db& conn, mode m = mode::deferred);
    ~transaction();
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    /// Commits; throws store_error (the destructor then rolls back).
    void commit();

  private:
    db& conn_;
    bool open_ = true;
};

/// A savepoint inside a transaction, as a scope guard: release() keeps what was done since
/// it, the destructor otherwise rolls back to it (and releases it), leaving the rest of the
/// transaction as it was.
class savepoint {
  public:
    explicit savepoint(db& conn);
    ~savepoint();
    savepoint(const savepoint&) = delete;
    savepoint& operator=(const savepoint&) = delete;

    /// Keeps the changes made since the savepoint; throws store_error.
    void release();

  private:
    db& conn_;
    bool open_ = true;
};

/// Throws store_error with the connection's last message when `rc` is not SQLITE_OK.
void check(sqlite3* conn, int rc, std::string_view what);

} // namespace posfeed::store::sqlite
