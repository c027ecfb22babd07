#include "store/sqlite/sqlite_db.hpp"

#include "store/store.hpp"

namespace posfeed::store::sqlite {

void check(sqlite3* conn, int rc, std::string_view what) {
    if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        throw store_error("sqlite: " + std::string(what) + ": " +
                          (conn != nullptr ? sqlite3_errmsg(conn) : sqlite3_errstr(rc)));
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

void db::exec(const char* sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw store_error("sqlite: " + msg);
    }
}

stmt::stmt(const db& conn, std::string_view sql) : conn_(conn.handle()) {
    sqlite3_stmt* raw = nullptr;
    check(conn_, sqlite3_prepare_v2(conn_, sql.data(), static_cast<int>(sql.size()), &raw, nullptr),
          "prepare");
    s_.reset(raw);
}

stmt& stmt::bind(int i, std::string_view v) {
    check(conn_,
          sqlite3_bind_text(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT),
          "bind");
    return *this;
}

stmt& stmt::bind(int i, std::int64_t v) {
    check(conn_, sqlite3_bind_int64(s_.get(), i, v), "bind");
    return *this;
}

bool stmt::step() {
    const int rc = sqlite3_step(s_.get());
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
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_.get(), col));
    if (p == nullptr) {
        return {};
    }
    return {p, static_cast<std::size_t>(sqlite3_column_bytes(s_.get(), col))};
}

} // namespace posfeed::store::sqlite
