// The PostgreSQL store: opening, reads of records and events, pruning, closing. Writes are in
// pg_write.cpp, the fan-out in pg_fanout.cpp, credentials in pg_credentials.cpp.

#include "store/postgres/pg_store.hpp"

#include "store/postgres/pg_migrations.hpp"
#include "store/postgres/pg_sql.hpp"

#include <spdlog/spdlog.h>

#include <limits>

#include <sys/eventfd.h>
#include <unistd.h>

namespace posfeed::store::postgres {
namespace {

/// Takes our own parameter out of `url` (libpq refuses parameters it does not know).
std::string without_own_params(const std::string& url, notify_placement& notify) {
    constexpr std::string_view key = "posfeed_notify=";
    std::string out = url;
    const auto at = out.find(key);
    if (at == std::string::npos) {
        return out;
    }
    auto end = out.find('&', at);
    const std::string value = out.substr(
        at + key.size(), end == std::string::npos ? std::string::npos : end - at - key.size());
    if (value == "in_transaction") {
        notify = notify_placement::in_transaction;
    } else if (value != "after_commit") {
        throw store_error("posfeed_notify=" + value +
                          " is not understood; use after_commit or in_transaction");
    }
    // Remove `key=value` with its separator.
    std::size_t from = at;
    if (end != std::string::npos) {
        ++end; // the following '&'
    } else if (from > 0 && (out[from - 1] == '&' || out[from - 1] == '?')) {
        --from; // the preceding separator
    }
    out.erase(from, end == std::string::npos ? std::string::npos : end - from);
    return out;
}

std::string type_array(core::type_mask mask, params& p) {
    std::vector<std::string_view> names;
    for (int i = 0; i < core::event_type_count; ++i) {
        if ((mask & (core::type_mask{1} << i)) != 0) {
            names.push_back(core::to_string(static_cast<core::event_type>(i)));
        }
    }
    p.add_array(names);
    return placeholder(p.size()) + "::text[]";
}

/// A consistent read over records: one REPEATABLE READ transaction for the cursor's life.
class pg_record_cursor final : public record_cursor {
  public:
    pg_record_cursor(pool::lease conn, std::string rmsystem, std::vector<core::record_kind> kinds,
                     core::rve since, std::string location)
        : conn_(std::move(conn)), txn_(*conn_, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
          rmsystem_(std::move(rmsystem)), kinds_(std::move(kinds)), since_(since),
          location_(std::move(location)), after_rve_(since) {
        const auto r =
            conn_->query("SELECT last_rve FROM rmsystems WHERE id = $1", params{}.add(rmsystem_));
        if (!r.empty()) {
            at_ = core::rve{r.int64(0, 0)};
        }
    }

    core::rve at() const override { return at_; }

    std::vector<record> next(std::size_t limit) override {
        std::vector<record> out;
        while (out.size() < limit && kind_index_ < kinds_.size()) {
            const core::record_kind kind = kinds_[kind_index_];
            params p;
            p.add(rmsystem_).add(core::to_string(kind)).add(at_).add(after_rve_);
            p.add(static_cast<std::int64_t>(limit - out.size()));
            std::string sql = "SELECT " + std::string(record_columns) +
                              " FROM records WHERE rmsystem = $1 AND kind = $2 AND rve <= $3 AND ";
            if (after_id_) {
                p.add(*after_id_);
                sql += "(rve, id) > ($4, $6)";
            } else {
                sql += "rve > $4";
            }
            if (since_.ms == 0) {
                sql += " AND NOT deleted";
            }
            if (!location_.empty()) {
                p.add(location_);
                sql += " AND (location = '' OR location = " + placeholder(p.size()) + ")";
            }
            sql += " ORDER BY rve, id LIMIT $5";
            const auto r = conn_->query(sql, p);
            for (int i = 0; i < r.rows(); ++i) {
                out.push_back(read_record(r, i, kind));
                after_rve_ = out.back().rve;
                after_id_ = out.back().id;
            }
            if (out.size() < limit) {
                ++kind_index_; // this kind is exhausted
                after_rve_ = since_;
                after_id_.reset();
            }
        }
        return out;
    }

  private:
    pool::lease conn_;
    transaction txn_;
    std::string rmsystem_;
    std::vector<core::record_kind> kinds_;
    core::rve since_;
    std::string location_;
    core::rve at_;
    std::size_t kind_index_ = 0;
    core::rve after_rve_;
    std::optional<std::string> after_id_; ///< none: the kind's first page
};

} // namespace

pg_store::pg_store(const std::string& url, store_options options)
    : conninfo_(without_own_params(url, notify_ = notify_placement::after_commit)),
      options_(std::move(options)), clock_(options_.now), pool_(conninfo_, 8) {
    {
        auto c = pool_.acquire();
        migrate(*c);
    }
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        throw store_error("cannot make an eventfd for the fan-out thread");
    }
    writer_ = std::thread([this] { writer_loop(); });
}

pg_store::~pg_store() {
    close();
    if (wake_fd_ >= 0) {
        ::close(wake_fd_);
    }
}

void pg_store::close() {
    {
        const std::lock_guard lock(queue_mu_);
        if (!closing_) {
            closing_ = true;
            queue_cv_.notify_all();
        }
    }
    if (writer_.joinable()) {
        writer_.join();
    }
    stopping_ = true;
    wake_fanout();
    if (fanout_.joinable()) {
        fanout_.join();
    }
}

core::status pg_store::backup(const std::string&) {
    return core::error{core::error_code::unavailable,
                       "posfeed backup copies SQLite databases; for PostgreSQL use its own tools "
                       "while the nodes run: pg_dump -Fc (a consistent logical copy) or "
                       "pg_basebackup with WAL archiving (point-in-time recovery)"};
}

bool pg_store::healthy() {
    try {
        auto c = pool_.acquire();
        return !c->exec("SELECT 1").empty();
    } catch (const store_error&) {
        return false;
    }
}

std::optional<record> pg_store::get_record(const std::string& rmsystem, core::record_kind kind,
                                           std::string_view id) {
    auto c = pool_.acquire();
    const auto r = c->query("SELECT " + std::string(record_columns) +
                                " FROM records WHERE rmsystem = $1 AND kind = $2 AND id = $3",
                            params{}.add(rmsystem).add(core::to_string(kind)).add(id));
    if (r.empty()) {
        return std::nullopt;
    }
    return read_record(r, 0, kind);
}

std::optional<record> pg_store::find_record(const std::string& rmsystem, core::record_kind kind,
                                            std::string_view lookup) {
    auto c = pool_.acquire();
    const auto r = c->query("SELECT " + std::string(record_columns) +
                                " FROM records WHERE rmsystem = $1 AND kind = $2 AND lookup = $3 "
                                "AND NOT deleted ORDER BY rve LIMIT 1",
                            params{}.add(rmsystem).add(core::to_string(kind)).add(lookup));
    if (r.empty()) {
        return std::nullopt;
    }
    return read_record(r, 0, kind);
}

std::vector<record> pg_store::list_records(const record_query& q) {
    params p;
    p.add(q.rmsystem).add(core::to_string(q.kind)).add(q.since);
    p.add(static_cast<std::int64_t>(q.limit));
    std::string sql = "SELECT " + std::string(record_columns) +
                      " FROM records WHERE rmsystem = $1 AND kind = $2 AND rve > $3";
    const auto next = [&p] { return placeholder(p.size()); };
    if (q.after) {
        p.add(q.after->first);
        const auto rve_param = next();
        p.add(q.after->second);
        sql += " AND (rve, id) > (" + rve_param + ", " + next() + ")";
    }
    if (!q.location.empty()) {
        p.add(q.location);
        sql += " AND location = " + next();
    }
    if (!q.id_prefix.empty()) {
        p.add(q.id_prefix);
        sql += " AND starts_with(id, " + next() + ")";
    }
    if (!q.include_deleted) {
        sql += " AND NOT deleted";
    }
    sql += " ORDER BY rve, id LIMIT $4";
    auto c = pool_.acquire();
    const auto r = c->query(sql, p);
    std::vector<record> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(read_record(r, i, q.kind));
    }
    return out;
}

std::unique_ptr<record_cursor> pg_store::open_records(const std::string& rmsystem,
                                                      std::vector<core::record_kind> kinds,
                                                      core::rve since, std::string location) {
    return std::make_unique<pg_record_cursor>(pool_.acquire(), rmsystem, std::move(kinds), since,
                                              std::move(location));
}

event_page pg_store::read_events(const event_query& q) {
    event_page page;
    const core::type_mask plain = q.types & ~core::session_types;
    const core::type_mask scoped = q.session.empty() ? 0 : (q.types & core::session_types);
    auto c = pool_.acquire();
    // The page, the newest RVE and the history horizon at one point.
    transaction read(*c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    {
        const auto r = c->query("SELECT last_rve, history_from FROM rmsystems WHERE id = $1",
                                params{}.add(q.rmsystem));
        if (!r.empty()) {
            page.newest = core::rve{r.int64(0, 0)};
            page.history_from = core::rve{r.int64(0, 1)};
        }
    }
    if ((plain | scoped) == 0) {
        return page;
    }
    // Events of the wanted types (session types only of q.session) with `rve <op> at`.
    const auto query = [&](std::string_view op, core::rve at, std::int64_t limit) {
        params p;
        p.add(q.rmsystem).add(at).add(limit);
        std::string filter;
        if (plain != 0) {
            filter = "type = ANY(" + type_array(plain, p) + ")";
        }
        if (scoped != 0) {
            const std::string types = type_array(scoped, p);
            p.add(q.session);
            filter += filter.empty() ? "" : " OR ";
            filter += "(type = ANY(" + types + ") AND session = " + placeholder(p.size()) + ")";
        }
        return c->query("SELECT rve, type, location, session, body FROM events WHERE rmsystem = "
                        "$1 AND (" +
                            filter + ") AND rve " + std::string(op) +
                            " $2 ORDER BY rve, seq LIMIT $3",
                        p);
    };
    std::size_t rows = 0;
    const auto read_rows = [&](const result& r) {
        for (int i = 0; i < r.rows(); ++i) {
            const core::rve v{r.int64(i, 0)};
            if (page.groups.empty() || page.groups.back().rve != v) {
                page.groups.push_back(event_group{q.rmsystem, v, {}});
            }
            const auto type = core::parse_event_type(r.text_view(i, 1));
            if (!type) {
                throw data_error("stored event of rmsystem " + q.rmsystem + " at " + v.str() +
                                 " has an unknown type");
            }
            page.groups.back().events.push_back(
                event{*type, r.text(i, 2), r.text(i, 3), r.text(i, 4)});
            ++rows;
        }
    };
    read_rows(query(">", q.after, static_cast<std::int64_t>(q.limit)));
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
    read_rows(query("=", only, std::numeric_limits<std::int64_t>::max()));
    return page;
}

core::rve pg_store::newest_rve(const std::string& rmsystem) {
    auto c = pool_.acquire();
    const auto r = c->query("SELECT last_rve FROM rmsystems WHERE id = $1", params{}.add(rmsystem));
    return r.empty() ? core::rve{} : core::rve{r.int64(0, 0)};
}

std::size_t pg_store::prune_events(core::rve cutoff) {
    auto c = pool_.acquire();
    // One node at a time: the others skip this round.
    if (!c->query("SELECT pg_try_advisory_lock($1)", params{}.add(prune_lock)).boolean(0, 0)) {
        return 0;
    }
    struct unlock {
        connection& c;
        ~unlock() {
            try {
                c.query("SELECT pg_advisory_unlock($1)", params{}.add(prune_lock));
            } catch (const store_error&) {
                // a lost connection has released it
            }
        }
    } guard{*c};
    std::size_t deleted = 0;
    const auto rms = c->exec("SELECT id FROM rmsystems");
    for (int i = 0; i < rms.rows(); ++i) {
        // The horizon and the deletion commit together, one RmSystem per transaction, so the
        // row lock it takes is held briefly and never with another.
        transaction txn(*c);
        const params p = params{}.add(rms.text(i, 0)).add(cutoff);
        c->query("UPDATE rmsystems SET history_from = greatest(history_from, coalesce((SELECT "
                 "max(rve) FROM events WHERE rmsystem = $1 AND rve < $2), 0)) WHERE id = $1",
                 p);
        deleted += static_cast<std::size_t>(
            c->query("DELETE FROM events WHERE rmsystem = $1 AND rve < $2", p).affected());
        txn.commit();
    }
    c->exec("DELETE FROM login_failures WHERE last_ms < " + std::string(now_ms_sql) + " - 900000");
    return deleted;
}

} // namespace posfeed::store::postgres
