#include "store/postgres/pg_migrations.hpp"

#include <array>
#include <string>

namespace posfeed::store::postgres {
namespace {

/// The advisory lock key that serialises migrations (any constant no other user of the
/// database takes: "posfeed" in ASCII).
constexpr const char* migration_lock = "SELECT pg_advisory_xact_lock(8098991859250791)";

// Append only: a released migration is never edited, later changes are new entries. Keys and
// ids are `COLLATE "C"`, so they order by byte as in SQLite (keyset paging relies on it),
// whatever the database's own collation.
constexpr std::array<const char*, 1> migrations = {
    // 1: the whole schema of SQLite's migrations 1-4, plus what only several nodes need:
    // login failures shared by every node, and the barcode subscribers of each node.
    R"sql(
CREATE TABLE rmsystems (
    id           TEXT COLLATE "C" PRIMARY KEY,
    last_rve     BIGINT NOT NULL DEFAULT 0,
    history_from BIGINT NOT NULL DEFAULT 0,
    created_ms   BIGINT NOT NULL
);
CREATE TABLE api_keys (
    id         TEXT COLLATE "C" PRIMARY KEY,
    rmsystem   TEXT COLLATE "C" NOT NULL REFERENCES rmsystems(id),
    hash       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT false,
    revoked_ms BIGINT NOT NULL DEFAULT 0,
    created_ms BIGINT NOT NULL
);
CREATE INDEX api_keys_by_revoked ON api_keys (revoked_ms) WHERE revoked_ms <> 0;
CREATE TABLE counters (
    rmsystem TEXT COLLATE "C" NOT NULL,
    name     TEXT COLLATE "C" NOT NULL,
    value    BIGINT NOT NULL,
    PRIMARY KEY (rmsystem, name)
);
CREATE TABLE records (
    rmsystem TEXT COLLATE "C" NOT NULL,
    kind     TEXT COLLATE "C" NOT NULL,
    id       TEXT COLLATE "C" NOT NULL,
    location TEXT COLLATE "C" NOT NULL DEFAULT '',
    rve      BIGINT NOT NULL,
    deleted  BOOLEAN NOT NULL DEFAULT false,
    body     TEXT NOT NULL,
    lookup   TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (rmsystem, kind, id)
);
CREATE INDEX records_by_rve ON records (rmsystem, kind, rve, id);
CREATE INDEX records_by_lookup ON records (rmsystem, kind, lookup) WHERE lookup <> '';
CREATE TABLE events (
    rmsystem TEXT COLLATE "C" NOT NULL,
    rve      BIGINT NOT NULL,
    seq      INTEGER NOT NULL,
    type     TEXT COLLATE "C" NOT NULL,
    location TEXT COLLATE "C" NOT NULL DEFAULT '',
    session  TEXT COLLATE "C" NOT NULL DEFAULT '',
    body     TEXT NOT NULL,
    PRIMARY KEY (rmsystem, rve, seq)
);
CREATE TABLE users (
    name          TEXT COLLATE "C" PRIMARY KEY,
    rmsystem      TEXT COLLATE "C" NOT NULL REFERENCES rmsystems(id),
    password_hash TEXT NOT NULL,
    created_ms    BIGINT NOT NULL
);
CREATE TABLE sessions (
    key          TEXT COLLATE "C" PRIMARY KEY,
    token_hash   TEXT COLLATE "C" NOT NULL UNIQUE,
    rmsystem     TEXT COLLATE "C" NOT NULL REFERENCES rmsystems(id),
    "user"       TEXT NOT NULL,
    location     TEXT NOT NULL DEFAULT '',
    terminal     TEXT NOT NULL DEFAULT '',
    created_ms   BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    ended        BOOLEAN NOT NULL DEFAULT false,
    ended_ms     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_ended ON sessions (ended_ms) WHERE ended_ms <> 0;
CREATE TABLE login_failures (
    name    TEXT COLLATE "C" PRIMARY KEY,
    count   INTEGER NOT NULL,
    last_ms BIGINT NOT NULL
);
CREATE TABLE nodes (
    node    TEXT COLLATE "C" PRIMARY KEY,
    seen_ms BIGINT NOT NULL
);
CREATE TABLE stream_presence (
    node    TEXT COLLATE "C" NOT NULL REFERENCES nodes(node) ON DELETE CASCADE,
    session TEXT COLLATE "C" NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (node, session)
);
)sql",
};

} // namespace

int schema_version() {
    return static_cast<int>(migrations.size());
}

void migrate(connection& c) {
    transaction txn(c);
    c.exec(migration_lock);
    c.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
           "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    const auto r = c.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
    const int current = static_cast<int>(r.int64(0, 0));
    if (current > schema_version()) {
        throw store_error("database schema version " + std::to_string(current) +
                          " is newer than this build's " + std::to_string(schema_version()) +
                          "; run a newer posfeed");
    }
    for (int v = current; v < schema_version(); ++v) {
        c.exec(migrations[v]);
        c.query("INSERT INTO schema_migrations (version) VALUES ($1)",
                params{}.add(std::int64_t{v + 1}));
    }
    txn.commit();
}

} // namespace posfeed::store::postgres
