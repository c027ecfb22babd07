#include "store/postgres/pg_conn.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <vector>

namespace posfeed::store::postgres {
namespace {

/// libpq's message of `conn` on one line, without the trailing newline.
std::string message_of(PGconn* conn) {
    std::string m = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) {
        m.pop_back();
    }
    for (auto& c : m) {
        if (c == '\n') {
            c = ' ';
        }
    }
    return m;
}

void append_array_item(std::string& out, std::string_view item) {
    out += '"';
    for (const char c : item) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
}

} // namespace

params& params::add(std::string_view v) {
    values_.emplace_back(v);
    return *this;
}

params& params::add(std::int64_t v) {
    values_.push_back(std::to_string(v));
    return *this;
}

params& params::add_array(const std::vector<std::string_view>& items) {
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        append_array_item(out, items[i]);
    }
    out += '}';
    values_.push_back(std::move(out));
    return *this;
}

params& params::add_array(const std::vector<std::int64_t>& items) {
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += std::to_string(items[i]);
    }
    out += '}';
    values_.push_back(std::move(out));
    return *this;
}

const char* const* params::values() const {
    pointers_.clear();
    for (const auto& v : values_) {
        pointers_.push_back(v.c_str());
    }
    return pointers_.data();
}

std::string_view result::text_view(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col),
            static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
}

std::int64_t result::int64(int row, int col) const {
    const auto t = text_view(row, col);
    std::int64_t v = 0;
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
}

std::int64_t result::affected() const {
    const char* n = PQcmdTuples(r_.get());
    return n == nullptr || *n == '\0' ? 0 : std::stoll(n);
}

namespace {

/// Connects with our defaults under whatever `conninfo` sets: a connect timeout (a server that
/// does not answer fails the attempt in seconds instead of hanging a write) and TCP keepalives
/// (a vanished server is noticed on an idle LISTEN connection), and our application name.
PGconn* connect_with_defaults(const std::string& conninfo) {
    const char* keys[] = {"connect_timeout",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "application_name",
                          "dbname",
                          nullptr};
    const char* values[] = {"5", "10", "5", "3", "posfeed", conninfo.c_str(), nullptr};
    return PQconnectdbParams(keys, values, 1);
}

} // namespace

connection::connection(const std::string& conninfo) : conn_(connect_with_defaults(conninfo)) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
        throw pg_error("postgresql: cannot connect to " + redact_conninfo(conninfo) + ": " +
                           message_of(conn_.get()),
                       "");
    }
    // Notices (e.g. "relation already exists, skipping") are not errors: keep them off stderr.
    PQsetNoticeProcessor(
        conn_.get(), [](void*, const char*) {}, nullptr);
}

result connection::check(PGresult* r, std::string_view what) {
    const auto status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        return result(r);
    }
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string sqlstate = state != nullptr ? state : "";
    std::string msg = "postgresql: " + std::string(what) + ": " + message_of(conn_.get());
    PQclear(r);
    throw pg_error(msg, std::move(sqlstate));
}

template <class Run> result connection::with_reconnect(Run&& run) {
    // A connection that was idle outside a transaction may have been closed by the server
    // meanwhile (a restart): its statement never ran, so it is sent once more on the
    // connection made again. Inside a transaction nothing is retried: the caller fails it.
    const bool idle = PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
    try {
        return run();
    } catch (const pg_error& e) {
        if (!idle || ok() || !e.sqlstate().empty()) {
            throw;
        }
        PQreset(conn_.get());
        prepared_.clear(); // the new session has none (names need not restart)
        if (!ok()) {
            throw;
        }
        return run();
    }
}

result connection::exec(std::string_view sql) {
    return with_reconnect(
        [&] { return check(PQexec(conn_.get(), std::string(sql).c_str()), "query"); });
}

result connection::query(std::string_view sql, const params& p) {
    return with_reconnect([&] {
        auto it = prepared_.find(std::string(sql));
        if (it == prepared_.end()) {
            std::string name = "s" + std::to_string(next_name_++);
            check(PQprepare(conn_.get(), name.c_str(), std::string(sql).c_str(), 0, nullptr),
                  "prepare");
            it = prepared_.emplace(std::string(sql), std::move(name)).first;
        }
        return check(PQexecPrepared(conn_.get(), it->second.c_str(), static_cast<int>(p.size()),
                                    p.values(), nullptr, nullptr, 0),
                     "query");
    });
}

std::vector<result> connection::pipeline(const std::vector<statement>& statements,
                                         std::size_t critical) {
    PGconn* c = conn_.get();
    if (PQenterPipelineMode(c) == 0) {
        throw pg_error("postgresql: cannot enter pipeline mode: " + message_of(c), "");
    }
    struct leave {
        PGconn* c;
        ~leave() { PQexitPipelineMode(c); }
    } const leave_pipeline{c};
    // Statements not prepared on this connection yet are prepared in the same pipeline.
    std::vector<bool> prepares;
    std::vector<std::string> names;
    for (const auto& s : statements) {
        auto it = prepared_.find(s.sql);
        bool prepare = false;
        if (it == prepared_.end()) {
            it = prepared_.emplace(s.sql, "s" + std::to_string(next_name_++)).first;
            prepare = true;
            if (PQsendPrepare(c, it->second.c_str(), s.sql.c_str(), 0, nullptr) == 0) {
                prepared_.erase(it);
                throw pg_error("postgresql: pipeline: " + message_of(c), "");
            }
        }
        prepares.push_back(prepare);
        names.push_back(it->second);
        if (PQsendQueryPrepared(c, it->second.c_str(), static_cast<int>(s.p.size()), s.p.values(),
                                nullptr, nullptr, 0) == 0) {
            throw pg_error("postgresql: pipeline: " + message_of(c), "");
        }
    }
    if (PQpipelineSync(c) == 0) {
        throw pg_error("postgresql: pipeline: " + message_of(c), "");
    }
    std::vector<result> out;
    std::string failure;
    std::string sqlstate;
    std::size_t index = 0;
    const auto fail = [&](PGresult* r) {
        if (index >= critical) {
            if (PQresultStatus(r) != PGRES_PIPELINE_ABORTED) {
                spdlog::warn("postgresql: after the commit: {}", message_of(c));
            }
            return;
        }
        if (failure.empty()) {
            const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
            sqlstate = state != nullptr ? state : "";
            failure = "postgresql: " + message_of(c);
        }
    };
    // Each statement's results end with a null; the pipeline with its sync point.
    for (std::size_t i = 0; i < statements.size(); ++i) {
        index = i;
        for (int part = prepares[i] ? 0 : 1; part < 2; ++part) {
            PGresult* r = PQgetResult(c);
            const auto status = PQresultStatus(r);
            if (part == 1 && failure.empty() &&
                (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)) {
                if (std::string_view(PQcmdStatus(r)) == "ROLLBACK" &&
                    statements[i].sql == "COMMIT") {
                    failure = "postgresql: commit: the transaction was rolled back";
                }
                out.emplace_back(r);
            } else {
                if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
                    fail(r);
                }
                PQclear(r);
            }
            while (PGresult* extra = PQgetResult(c)) { // the null that ends this statement
                PQclear(extra);
            }
        }
    }
    index = 0;
    for (int nulls = 0; nulls < 100;) {
        PGresult* r = PQgetResult(c);
        if (r == nullptr) {
            ++nulls;
            if (!ok()) {
                fail(nullptr);
                break;
            }
            continue;
        }
        const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (sync) {
            break;
        }
    }
    if (!failure.empty()) {
        // A statement prepared in a failed pipeline may not exist: prepare them again.
        for (std::size_t i = 0; i < statements.size(); ++i) {
            if (prepares[i]) {
                prepared_.erase(statements[i].sql);
            }
        }
        throw pg_error(failure, sqlstate);
    }
    return out;
}

transaction::transaction(connection& c, const char* begin) : c_(c) {
    c_.exec(begin);
}

transaction::~transaction() {
    if (open_ && c_.ok()) {
        try {
            c_.exec("ROLLBACK");
        } catch (const store_error&) {
            // the connection is dropped by its owner
        }
    }
}

void transaction::commit_pipeline(std::vector<connection::statement> before,
                                  std::vector<connection::statement> after) {
    open_ = false;
    const std::size_t critical = before.size() + 1;
    before.push_back({"COMMIT", {}});
    for (auto& s : after) {
        before.push_back(std::move(s));
    }
    c_.pipeline(before, critical);
}

void transaction::commit() {
    commit_pipeline({}, {});
}

std::string redact_conninfo(const std::string& conninfo) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    if (opts == nullptr) {
        PQfreemem(err);
        return "(a connection string that does not parse)";
    }
    std::string out;
    for (auto* o = opts; o->keyword != nullptr; ++o) {
        if (o->val == nullptr || std::string_view(o->keyword) == "password") {
            continue;
        }
        const std::string_view k = o->keyword;
        if (k == "host" || k == "hostaddr" || k == "port" || k == "dbname" || k == "user") {
            out += (out.empty() ? "" : " ") + std::string(k) + "=" + o->val;
        }
    }
    PQconninfoFree(opts);
    return out.empty() ? "the default PostgreSQL server" : out;
}

} // namespace posfeed::store::postgres
