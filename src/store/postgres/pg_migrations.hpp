#pragma once

#include "store/postgres/pg_conn.hpp"

namespace posfeed::store::postgres {

/// The schema version this build writes.
int schema_version();

/// Brings the database up to schema_version() in one transaction, each step recorded in
/// `schema_migrations`. Safe when several nodes start at once: each takes the same advisory
/// lock inside its transaction, so steps run once, in order, and a node that waited sees them
/// done. Throws store_error (also when the database is newer than this build).
void migrate(connection& c);

} // namespace posfeed::store::postgres
