#pragma once

#include "core/rve.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace posfeed::store::sqlite {

/// Owns one sqlite3 connection. Not thread-safe: one thread at a time.
class db {
  public:
    /// Opens (creating) `path` in WAL mode with synchronous=FULL, so a COMMIT is on disk when
    /// it returns. Throws store_error.
    explicit db(const std::string& path);

    /// Runs one or more statements without results; throws store_error.
    void exec(const char* sql);

    sqlite3* handle() const { return db_.get(); }

  private:
    struct closer {
        void operator()(sqlite3* p) const { sqlite3_close_v2(p); }
    };
    std::unique_ptr<sqlite3, closer> db_;
};

/// A prepared statement; reset (and its bindings cleared) on destruction. Bind indexes start
/// at 1, column indexes at 0.
class stmt {
  public:
    stmt(const db& conn, std::string_view sql);

    stmt& bind(int i, std::string_view v);
    stmt& bind(int i, std::int64_t v);
    stmt& bind(int i, core::rve v) { return bind(i, v.ms); }

    /// Steps once: true when a row is available, false when done. Throws store_error.
    bool step();
    /// Steps to completion, for statements without rows.
    void run();

    std::int64_t int64(int col) const { return sqlite3_column_int64(s_.get(), col); }
    std::string text(int col) const;
    std::string_view text_view(int col) const;

  private:
    struct finalizer {
        void operator()(sqlite3_stmt* p) const { sqlite3_finalize(p); }
    };
    sqlite3* conn_;
    std::unique_ptr<sqlite3_stmt, finalizer> s_;
};

/// Throws store_error with the connection's last message when `rc` is not SQLITE_OK.
void check(sqlite3* conn, int rc, std::string_view what);

} // namespace posfeed::store::sqlite
