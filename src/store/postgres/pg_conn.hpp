#pragma once

#include "core/rve.hpp"
#include "store/store.hpp"

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace posfeed::store::postgres {

/// A failure reported by PostgreSQL or libpq. A store_error (handlers answer 503); `sqlstate`
/// tells an SQL error (e.g. 23505, a unique violation) from a lost connection (empty).
class pg_error : public store_error {
  public:
    /// A disk_full (53100), io_error (58030) or read_only_sql_transaction (25006) SQLSTATE is a
    /// storage failure.
    pg_error(const std::string& what, std::string sqlstate)
        : store_error(what, sqlstate == "53100" || sqlstate == "58030" || sqlstate == "25006"
                                ? cause::storage
                                : cause::other),
          sqlstate_(std::move(sqlstate)) {}
    const std::string& sqlstate() const { return sqlstate_; }

  private:
    std::string sqlstate_;
};

/// The parameters of one statement, sent as text. Values are copied in.
class params {
  public:
    params& add(std::string_view v);
    params& add(std::int64_t v);
    params& add(core::rve v) { return add(v.ms); }
    params& add(const char* v) { return add(std::string_view(v)); }
    params& add(const std::string& v) { return add(std::string_view(v)); }
    params& add_bool(bool v) { return add(std::string_view(v ? "t" : "f")); }
    /// A text[] array of `items` (for unnest in one statement per batch).
    params& add_array(const std::vector<std::string_view>& items);
    params& add_array(const std::vector<std::int64_t>& items);

    std::size_t size() const { return values_.size(); }
    const char* const* values() const;

  private:
    std::vector<std::string> values_;
    mutable std::vector<const char*> pointers_;
};

/// A query's result; cleared on destruction. Row and column indexes start at 0.
class result {
  public:
    explicit result(PGresult* r) : r_(r) {}
    int rows() const { return PQntuples(r_.get()); }
    bool empty() const { return rows() == 0; }
    std::string_view text_view(int row, int col) const;
    std::string text(int row, int col) const { return std::string(text_view(row, col)); }
    std::int64_t int64(int row, int col) const;
    bool boolean(int row, int col) const { return text_view(row, col) == "t"; }
    bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
    /// Rows changed by an INSERT, UPDATE or DELETE.
    std::int64_t affected() const;

  private:
    struct clear {
        void operator()(PGresult* r) const { PQclear(r); }
    };
    std::unique_ptr<PGresult, clear> r_;
};

/// One libpq connection (RAII over PGconn). Not thread-safe: one thread at a time. Statements
/// with parameters are prepared once per connection and kept (by SQL text).
class connection {
  public:
    /// Connects to `conninfo` (a libpq URL or key=value string). Throws pg_error, whose
    /// message names the server but never the password.
    explicit connection(const std::string& conninfo);
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Runs one or more statements without parameters (simple query protocol); returns the
    /// last result. Throws pg_error. Outside a transaction, a statement that fails because the
    /// server closed the connection meanwhile is sent again on the connection made anew.
    result exec(std::string_view sql);

    /// Runs one statement with parameters (prepared on first use). Throws pg_error.
    result query(std::string_view sql, const params& p = {});

    /// One statement of a pipeline: SQL text and its parameters.
    struct statement {
        std::string sql;
        params p;
    };

    /// Sends `statements` in one round trip (libpq's pipeline mode) and returns their results
    /// in order. The first that fails throws pg_error (those after it did not run); inside a
    /// transaction the transaction is then aborted. A `COMMIT` among them that rolled back
    /// (the transaction had failed) is an error too. Statements from index `critical` on may
    /// fail without an error (logged): what runs after a COMMIT must not make a committed
    /// transaction look failed. Not retried on a closed connection.
    std::vector<result> pipeline(const std::vector<statement>& statements,
                                 std::size_t critical = static_cast<std::size_t>(-1));

    /// Whether the connection still works (a failed one is dropped by its owner).
    bool ok() const { return PQstatus(conn_.get()) == CONNECTION_OK; }

    PGconn* handle() const { return conn_.get(); }

  private:
    result check(PGresult* r, std::string_view what);
    /// Runs `run`; when it failed because the server had closed this (idle) connection, makes
    /// the connection again and runs it once more.
    template <class Run> result with_reconnect(Run&& run);

    struct finish {
        void operator()(PGconn* c) const { PQfinish(c); }
    };
    std::unique_ptr<PGconn, finish> conn_;
    std::unordered_map<std::string, std::string> prepared_; ///< SQL text -> statement name
    std::size_t next_name_ = 0;                             ///< names are never reused
};

/// A transaction as a scope guard: begun by the constructor (`begin` is the BEGIN statement,
/// e.g. with an isolation level), committed by commit(), rolled back by the destructor
/// otherwise (errors of the roll-back are swallowed: a broken connection has none either way).
class transaction {
  public:
    explicit transaction(connection& c, const char* begin = "BEGIN");
    /// Guards a transaction whose BEGIN the caller sends itself (e.g. in a pipeline, right
    /// after constructing this): rolled back unless committed.
    struct adopt_t {};
    transaction(connection& c, adopt_t) : c_(c) {}
    ~transaction();
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    /// Commits (commit_pipeline with nothing around the COMMIT). Throws pg_error, also when the
    /// COMMIT answered ROLLBACK (the transaction had failed).
    void commit();

    /// Sends `before`, then COMMIT, then `after` in one round trip (a pipeline). The commit's
    /// own outcome decides: a failure of `before` or of the COMMIT throws pg_error (nothing is
    /// committed); a failure of `after`, which runs only once the commit is durable, is logged.
    void commit_pipeline(std::vector<connection::statement> before,
                         std::vector<connection::statement> after);

  private:
    connection& c_;
    bool open_ = true;
};

/// `conninfo` with its password removed, for log lines and error messages.
std::string redact_conninfo(const std::string& conninfo);

} // namespace posfeed::store::postgres
