// The credential side of the PostgreSQL store: RmSystems, API keys, users, sessions, login
// failures and node presence. Times are the database's clock (pg_sql.hpp: now_ms_sql).

#include "store/postgres/pg_sql.hpp"
#include "store/postgres/pg_store.hpp"

namespace posfeed::store::postgres {
namespace {

constexpr std::string_view foreign_key_violation = "23503";

std::optional<session_row> read_session(const result& r) {
    if (r.empty()) {
        return std::nullopt;
    }
    return session_row{r.text(0, 0), r.text(0, 1),  r.text(0, 2),  r.text(0, 3),   r.text(0, 4),
                       r.text(0, 5), r.int64(0, 6), r.int64(0, 7), r.boolean(0, 8)};
}

constexpr std::string_view session_columns =
    "SELECT key, token_hash, rmsystem, \"user\", location, terminal, created_ms, last_seen_ms, "
    "ended FROM sessions ";

/// Runs an INSERT ... ON CONFLICT DO NOTHING: conflict when it inserted nothing, not_found
/// (naming the RmSystem) when the RmSystem does not exist.
core::status insert_owned(connection& c, const std::string& sql, const params& p,
                          const std::string& rmsystem, std::string conflict_message) {
    try {
        if (c.query(sql, p).affected() == 0) {
            return core::error{core::error_code::conflict, std::move(conflict_message)};
        }
    } catch (const pg_error& e) {
        if (e.sqlstate() == foreign_key_violation) {
            return core::not_found("rmsystem '" + rmsystem + "' does not exist; create it first");
        }
        throw;
    }
    return core::ok_status();
}

} // namespace

core::status pg_store::create_rmsystem(const std::string& id) {
    if (!valid_rmsystem_id(id)) {
        return core::invalid_argument("rmsystem id '" + id +
                                      "' is not valid; use 1 to 64 characters of [0-9A-Za-z_]");
    }
    auto c = pool_.acquire();
    const auto r = c->query("INSERT INTO rmsystems (id, created_ms) VALUES ($1, " +
                                std::string(now_ms_sql) + ") ON CONFLICT DO NOTHING",
                            params{}.add(id));
    if (r.affected() == 0) {
        return core::error{core::error_code::conflict, "rmsystem '" + id + "' already exists"};
    }
    return core::ok_status();
}

bool pg_store::rmsystem_exists(const std::string& id) {
    auto c = pool_.acquire();
    return !c->query("SELECT 1 FROM rmsystems WHERE id = $1", params{}.add(id)).empty();
}

core::status pg_store::add_api_key(const api_key_row& key) {
    auto c = pool_.acquire();
    return insert_owned(*c,
                        "INSERT INTO api_keys (id, rmsystem, hash, scopes, created_ms) VALUES ($1, "
                        "$2, $3, $4, " +
                            std::string(now_ms_sql) + ") ON CONFLICT DO NOTHING",
                        params{}.add(key.id).add(key.rmsystem).add(key.hash).add(key.scopes),
                        key.rmsystem, "api key '" + key.id + "' already exists");
}

std::optional<api_key_row> pg_store::find_api_key(std::string_view id) {
    auto c = pool_.acquire();
    const auto r = c->query("SELECT rmsystem, hash, scopes, revoked FROM api_keys WHERE id = $1",
                            params{}.add(id));
    if (r.empty()) {
        return std::nullopt;
    }
    return api_key_row{std::string(id), r.text(0, 0), r.text(0, 1), r.text(0, 2), r.boolean(0, 3)};
}

core::status pg_store::revoke_api_key(std::string_view id) {
    auto c = pool_.acquire();
    const auto r =
        c->query("UPDATE api_keys SET revoked = true, revoked_ms = " + std::string(now_ms_sql) +
                     " WHERE id = $1",
                 params{}.add(id));
    if (r.affected() == 0) {
        return core::not_found("api key '" + std::string(id) + "' does not exist");
    }
    return core::ok_status();
}

core::status pg_store::add_user(const user_row& user) {
    auto c = pool_.acquire();
    return insert_owned(*c,
                        "INSERT INTO users (name, rmsystem, password_hash, created_ms) VALUES ($1, "
                        "$2, $3, " +
                            std::string(now_ms_sql) + ") ON CONFLICT DO NOTHING",
                        params{}.add(user.name).add(user.rmsystem).add(user.password_hash),
                        user.rmsystem, "user '" + user.name + "' already exists");
}

std::optional<user_row> pg_store::find_user(std::string_view name) {
    auto c = pool_.acquire();
    const auto r =
        c->query("SELECT rmsystem, password_hash FROM users WHERE name = $1", params{}.add(name));
    if (r.empty()) {
        return std::nullopt;
    }
    return user_row{r.text(0, 0), std::string(name), r.text(0, 1)};
}

core::status pg_store::add_session(const session_row& s) {
    auto c = pool_.acquire();
    return insert_owned(*c,
                        "INSERT INTO sessions (key, token_hash, rmsystem, \"user\", location, "
                        "terminal, created_ms, last_seen_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                        "$8) ON CONFLICT DO NOTHING",
                        params{}
                            .add(s.key)
                            .add(s.token_hash)
                            .add(s.rmsystem)
                            .add(s.user)
                            .add(s.location)
                            .add(s.terminal)
                            .add(s.created_ms)
                            .add(s.last_seen_ms),
                        s.rmsystem, "the session already exists");
}

std::optional<session_row> pg_store::find_session(std::string_view key) {
    auto c = pool_.acquire();
    return read_session(
        c->query(std::string(session_columns) + "WHERE key = $1", params{}.add(key)));
}

std::optional<session_row> pg_store::find_session_by_token(std::string_view token_hash) {
    auto c = pool_.acquire();
    return read_session(
        c->query(std::string(session_columns) + "WHERE token_hash = $1", params{}.add(token_hash)));
}

void pg_store::touch_session(std::string_view key, std::int64_t now_ms) {
    auto c = pool_.acquire();
    c->query("UPDATE sessions SET last_seen_ms = greatest(last_seen_ms, $2) WHERE key = $1",
             params{}.add(key).add(now_ms));
}

bool pg_store::end_session(std::string_view key) {
    auto c = pool_.acquire();
    return c->query("UPDATE sessions SET ended = true, ended_ms = " + std::string(now_ms_sql) +
                        " WHERE key = $1 AND NOT ended",
                    params{}.add(key))
               .affected() > 0;
}

revocations pg_store::revoked_since(std::int64_t since_ms) {
    auto c = pool_.acquire();
    // One statement: the ids and the clock reading are of one point.
    const auto r = c->query("SELECT n.now, x.id FROM (SELECT " + std::string(now_ms_sql) +
                                " AS now) n LEFT JOIN (SELECT id FROM api_keys WHERE revoked_ms "
                                ">= $1 AND revoked_ms <> 0 UNION ALL SELECT key FROM sessions "
                                "WHERE ended_ms >= $1 AND ended_ms <> 0) x ON true",
                            params{}.add(since_ms));
    revocations out;
    for (int i = 0; i < r.rows(); ++i) {
        out.now_ms = r.int64(i, 0);
        if (!r.is_null(i, 1)) {
            out.ids.push_back(r.text(i, 1));
        }
    }
    return out;
}

login_failures pg_store::get_login_failures(std::string_view user) {
    auto c = pool_.acquire();
    const auto r =
        c->query("SELECT n.now, f.count, f.last_ms FROM (SELECT " + std::string(now_ms_sql) +
                     " AS now) n LEFT JOIN login_failures f ON f.name = $1",
                 params{}.add(user));
    login_failures out;
    out.now_ms = r.int64(0, 0);
    if (!r.is_null(0, 1)) {
        out.count = static_cast<int>(r.int64(0, 1));
        out.last_ms = r.int64(0, 2);
    }
    return out;
}

void pg_store::record_login_failure(std::string_view user) {
    auto c = pool_.acquire();
    c->query("INSERT INTO login_failures (name, count, last_ms) VALUES ($1, 1, " +
                 std::string(now_ms_sql) +
                 ") ON CONFLICT (name) DO UPDATE SET count = login_failures.count + 1, last_ms "
                 "= excluded.last_ms",
             params{}.add(user));
}

void pg_store::clear_login_failures(std::string_view user) {
    auto c = pool_.acquire();
    c->query("DELETE FROM login_failures WHERE name = $1", params{}.add(user));
}

std::unordered_map<std::string, int>
pg_store::exchange_presence(const std::string& node,
                            const std::unordered_map<std::string, int>& local) {
    auto c = pool_.acquire();
    std::vector<std::string_view> sessions;
    std::vector<std::int64_t> counts;
    for (const auto& [session, n] : local) {
        sessions.push_back(session);
        counts.push_back(n);
    }
    transaction txn(*c);
    c->query("INSERT INTO nodes (node, seen_ms) VALUES ($1, " + std::string(now_ms_sql) +
                 ") ON CONFLICT (node) DO UPDATE SET seen_ms = excluded.seen_ms",
             params{}.add(node));
    c->query("DELETE FROM stream_presence WHERE node = $1", params{}.add(node));
    if (!sessions.empty()) {
        c->query("INSERT INTO stream_presence (node, session, n) SELECT $1, s, n FROM "
                 "unnest($2::text[], $3::int[]) AS u(s, n)",
                 params{}.add(node).add_array(sessions).add_array(counts));
    }
    // Nodes silent for a minute are gone (their presence with them, ON DELETE CASCADE).
    c->exec("DELETE FROM nodes WHERE seen_ms < " + std::string(now_ms_sql) + " - 60000");
    const auto r = c->query("SELECT p.session, sum(p.n) FROM stream_presence p JOIN nodes n ON "
                            "n.node = p.node WHERE p.node <> $1 AND n.seen_ms >= " +
                                std::string(now_ms_sql) + " - 10000 GROUP BY p.session",
                            params{}.add(node));
    txn.commit();
    std::unordered_map<std::string, int> out;
    for (int i = 0; i < r.rows(); ++i) {
        out[r.text(i, 0)] = static_cast<int>(r.int64(i, 1));
    }
    return out;
}

} // namespace posfeed::store::postgres
