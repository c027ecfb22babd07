// The credential side of the SQLite store: RmSystems, API keys, users and sessions.

#include "store/sqlite/sqlite_store.hpp"

namespace posfeed::store::sqlite {

namespace {

std::optional<session_row> read_session(stmt& s) {
    if (!s.step()) {
        return std::nullopt;
    }
    return session_row{s.text(0), s.text(1),  s.text(2),  s.text(3),      s.text(4),
                       s.text(5), s.int64(6), s.int64(7), s.int64(8) != 0};
}

constexpr std::string_view session_columns =
    "SELECT key, token_hash, rmsystem, user, location, terminal, "
    "created_ms, last_seen_ms, ended FROM sessions ";

} // namespace

core::status sqlite_store::create_rmsystem(const std::string& id) {
    if (!valid_rmsystem_id(id)) {
        return core::invalid_argument("rmsystem id '" + id +
                                      "' is not valid; use 1 to 64 characters of [0-9A-Za-z_]");
    }
    auto conn = reader();
    stmt s(*conn, "INSERT INTO rmsystems (id, created_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
    s.bind(1, id).bind(2, core::system_now_ms()).run();
    if (sqlite3_changes(conn->handle()) == 0) {
        return core::error{core::error_code::conflict, "rmsystem '" + id + "' already exists"};
    }
    return core::ok_status();
}

bool sqlite_store::rmsystem_exists(const std::string& id) {
    auto conn = reader();
    stmt s(*conn, "SELECT 1 FROM rmsystems WHERE id = ?1");
    s.bind(1, id);
    return s.step();
}

core::status sqlite_store::add_api_key(const api_key_row& key) {
    if (!rmsystem_exists(key.rmsystem)) {
        return core::not_found("rmsystem '" + key.rmsystem + "' does not exist; create it first");
    }
    auto conn = reader();
    stmt s(*conn, "INSERT INTO api_keys (id, rmsystem, hash, scopes, created_ms) "
                  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING");
    s.bind(1, key.id).bind(2, key.rmsystem).bind(3, key.hash).bind(4, key.scopes);
    s.bind(5, core::system_now_ms()).run();
    if (sqlite3_changes(conn->handle()) == 0) {
        return core::error{core::error_code::conflict, "api key '" + key.id + "' already exists"};
    }
    return core::ok_status();
}

std::optional<api_key_row> sqlite_store::find_api_key(std::string_view id) {
    auto conn = reader();
    stmt s(*conn, "SELECT rmsystem, hash, scopes, revoked FROM api_keys WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return api_key_row{std::string(id), s.text(0), s.text(1), s.text(2), s.int64(3) != 0};
}

core::status sqlite_store::revoke_api_key(std::string_view id) {
    auto conn = reader();
    stmt s(*conn, "UPDATE api_keys SET revoked = 1, revoked_ms = ?2 WHERE id = ?1");
    s.bind(1, id).bind(2, core::system_now_ms()).run();
    if (sqlite3_changes(conn->handle()) == 0) {
        return core::not_found("api key '" + std::string(id) + "' does not exist");
    }
    return core::ok_status();
}

core::status sqlite_store::add_user(const user_row& user) {
    if (!rmsystem_exists(user.rmsystem)) {
        return core::not_found("rmsystem '" + user.rmsystem + "' does not exist; create it first");
    }
    auto conn = reader();
    stmt s(*conn,
           "INSERT INTO users (name, rmsystem, password_hash, created_ms) VALUES (?1, ?2, ?3, ?4) "
           "ON CONFLICT DO NOTHING");
    s.bind(1, user.name)
        .bind(2, user.rmsystem)
        .bind(3, user.password_hash)
        .bind(4, core::system_now_ms())
        .run();
    if (sqlite3_changes(conn->handle()) == 0) {
        return core::error{core::error_code::conflict, "user '" + user.name + "' already exists"};
    }
    return core::ok_status();
}

std::optional<user_row> sqlite_store::find_user(std::string_view name) {
    auto conn = reader();
    stmt s(*conn, "SELECT rmsystem, password_hash FROM users WHERE name = ?1");
    s.bind(1, name);
    if (!s.step()) {
        return std::nullopt;
    }
    return user_row{s.text(0), std::string(name), s.text(1)};
}

core::status sqlite_store::add_session(const session_row& r) {
    if (!rmsystem_exists(r.rmsystem)) {
        return core::not_found("rmsystem '" + r.rmsystem + "' does not exist");
    }
    auto conn = reader();
    stmt s(*conn,
           "INSERT INTO sessions (key, token_hash, rmsystem, user, location, terminal, created_ms, "
           "last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING");
    s.bind(1, r.key).bind(2, r.token_hash).bind(3, r.rmsystem).bind(4, r.user).bind(5, r.location);
    s.bind(6, r.terminal).bind(7, r.created_ms).bind(8, r.last_seen_ms).run();
    if (sqlite3_changes(conn->handle()) == 0) {
        return core::error{core::error_code::conflict, "the session already exists"};
    }
    return core::ok_status();
}

std::optional<session_row> sqlite_store::find_session(std::string_view key) {
    auto conn = reader();
    stmt s(*conn, std::string(session_columns) + "WHERE key = ?1");
    s.bind(1, key);
    return read_session(s);
}

std::optional<session_row> sqlite_store::find_session_by_token(std::string_view token_hash) {
    auto conn = reader();
    stmt s(*conn, std::string(session_columns) + "WHERE token_hash = ?1");
    s.bind(1, token_hash);
    return read_session(s);
}

void sqlite_store::touch_session(std::string_view key, std::int64_t now_ms) {
    auto conn = reader();
    stmt s(*conn, "UPDATE sessions SET last_seen_ms = max(last_seen_ms, ?2) WHERE key = ?1");
    s.bind(1, key).bind(2, now_ms).run();
}

bool sqlite_store::end_session(std::string_view key) {
    auto conn = reader();
    stmt s(*conn, "UPDATE sessions SET ended = 1, ended_ms = ?2 WHERE key = ?1 AND ended = 0");
    s.bind(1, key).bind(2, core::system_now_ms()).run();
    return sqlite3_changes(conn->handle()) > 0;
}

revocations sqlite_store::revoked_since(std::int64_t since_ms) {
    revocations out;
    out.now_ms = core::system_now_ms(); // before the read: nothing after it is missed next time
    auto conn = reader();
    stmt s(*conn, "SELECT id FROM api_keys WHERE revoked_ms >= ?1 AND revoked_ms != 0 "
                  "UNION ALL SELECT key FROM sessions WHERE ended_ms >= ?1 AND ended_ms != 0");
    s.bind(1, since_ms);
    while (s.step()) {
        out.ids.push_back(s.text(0));
    }
    return out;
}

login_failures sqlite_store::get_login_failures(std::string_view user) {
    login_failures out;
    out.now_ms = core::system_now_ms();
    auto conn = reader();
    stmt s(*conn, "SELECT count, last_ms FROM login_failures WHERE name = ?1");
    s.bind(1, user);
    if (s.step()) {
        out.count = static_cast<int>(s.int64(0));
        out.last_ms = s.int64(1);
    }
    return out;
}

void sqlite_store::record_login_failure(std::string_view user) {
    auto conn = reader();
    stmt s(*conn, "INSERT INTO login_failures (name, count, last_ms) VALUES (?1, 1, ?2) "
                  "ON CONFLICT (name) DO UPDATE SET count = count + 1, last_ms = excluded.last_ms");
    s.bind(1, user).bind(2, core::system_now_ms()).run();
}

void sqlite_store::clear_login_failures(std::string_view user) {
    auto conn = reader();
    stmt s(*conn, "DELETE FROM login_failures WHERE name = ?1");
    s.bind(1, user).run();
}

std::unordered_map<std::string, int>
sqlite_store::exchange_presence(const std::string&, const std::unordered_map<std::string, int>&) {
    return {};
}

void sqlite_store::follow(const std::string&, std::function<void(core::status)> ready) {
    ready(core::ok_status());
}

void sqlite_store::unfollow(const std::string&) {}

store_stats sqlite_store::stats() {
    return {};
}

} // namespace posfeed::store::sqlite
