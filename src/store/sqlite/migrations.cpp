#include "store/sqlite/migrations.hpp"

#include "store/store.hpp"

#include <array>
#include <string>

namespace posfeed::store::sqlite {
namespace {

// Append only: a released migration is never edited, later changes are new entries.
constexpr std::array<const char*, 4> migrations = {
    // 1: RmSystems with their RVE clock and history horizon, API keys, per-RmSystem counters,
    // records (current state, tombstones kept) and the event log.
    R"sql(
CREATE TABLE rmsystems (
    id           TEXT PRIMARY KEY,
    last_rve     INTEGER NOT NULL DEFAULT 0,
    history_from INTEGER NOT NULL DEFAULT 0,
    created_ms   INTEGER NOT NULL
);
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    rmsystem   TEXT NOT NULL REFERENCES rmsystems(id),
    hash       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL
);
CREATE TABLE counters (
    rmsystem TEXT NOT NULL,
    name     TEXT NOT NULL,
    value    INTEGER NOT NULL,
    PRIMARY KEY (rmsystem, name)
) WITHOUT ROWID;
CREATE TABLE records (
    rmsystem TEXT NOT NULL,
    kind     TEXT NOT NULL,
    id       TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    rve      INTEGER NOT NULL,
    deleted  INTEGER NOT NULL DEFAULT 0,
    body     TEXT NOT NULL,
    PRIMARY KEY (rmsystem, kind, id)
) WITHOUT ROWID;
CREATE INDEX records_by_rve ON records (rmsystem, kind, rve, id);
CREATE TABLE events (
    seq      INTEGER PRIMARY KEY,
    rmsystem TEXT NOT NULL,
    rve      INTEGER NOT NULL,
    type     TEXT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    session  TEXT NOT NULL DEFAULT '',
    body     TEXT NOT NULL
);
CREATE INDEX events_by_rve ON events (rmsystem, rve);
)sql",
    // 2: POS users and sessions; a secondary lookup key on records (products by barcode).
    R"sql(
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    rmsystem      TEXT NOT NULL REFERENCES rmsystems(id),
    password_hash TEXT NOT NULL,
    created_ms    INTEGER NOT NULL
);
CREATE TABLE sessions (
    key          TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    rmsystem     TEXT NOT NULL REFERENCES rmsystems(id),
    user         TEXT NOT NULL,
    location     TEXT NOT NULL DEFAULT '',
    terminal     TEXT NOT NULL DEFAULT '',
    created_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    ended        INTEGER NOT NULL DEFAULT 0
);
ALTER TABLE records ADD COLUMN lookup TEXT NOT NULL DEFAULT '';
CREATE INDEX records_by_lookup ON records (rmsystem, kind, lookup) WHERE lookup != '';
)sql",
    // 3: when a key was revoked or a session ended, so that every server closes their streams.
    R"sql(
ALTER TABLE api_keys ADD COLUMN revoked_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN ended_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX api_keys_by_revoked ON api_keys (revoked_ms) WHERE revoked_ms != 0;
CREATE INDEX sessions_by_ended ON sessions (ended_ms) WHERE ended_ms != 0;
)sql",
    // 4: failed logins per user name, kept in the database so that the throttle holds for
    // every process (and, on PostgreSQL, every node) and across restarts.
    R"sql(
CREATE TABLE login_failures (
    name    TEXT PRIMARY KEY,
    count   INTEGER NOT NULL,
    last_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
};

} // namespace

int schema_version() {
    return static_cast<int>(migrations.size());
}

void migrate(db& conn) {
    int current = 0;
    {
        stmt s(conn, "PRAGMA user_version");
        if (s.step()) {
            current = static_cast<int>(s.int64(0));
        }
    }
    if (current > schema_version()) {
        throw store_error("database schema version " + std::to_string(current) +
                          " is newer than this build's " + std::to_string(schema_version()) +
                          "; run a newer posfeed");
    }
    for (int v = current; v < schema_version(); ++v) {
        transaction txn(conn, transaction::mode::immediate);
        conn.exec(migrations[v]);
        conn.exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
        txn.commit();
    }
}

} // namespace posfeed::store::sqlite
