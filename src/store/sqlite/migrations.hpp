#pragma once

#include "store/sqlite/sqlite_db.hpp"

namespace posfeed::store::sqlite {

/// Brings the schema up to date: migration N runs when `PRAGMA user_version` is below N, each
/// in its own transaction together with the version bump. Throws store_error.
void migrate(db& conn);

/// The schema version this build expects.
int schema_version();

} // namespace posfeed::store::sqlite
