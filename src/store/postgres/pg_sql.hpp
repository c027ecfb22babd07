#pragma once

// SQL fragments shared by the PostgreSQL store's files.

#include "store/postgres/pg_conn.hpp"

#include <string>
#include <string_view>

namespace posfeed::store::postgres {

/// The database's clock in milliseconds since the epoch: times that several nodes compare
/// (revocations, login failures, node presence) are taken from it, never from a node's clock.
inline constexpr std::string_view now_ms_sql =
    "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// The columns of a record, in the order read_record expects.
inline constexpr std::string_view record_columns = "id, location, rve, deleted, body, lookup";

/// A record from a row of `record_columns` at column `first`.
inline record read_record(const result& r, int row, core::record_kind kind, int first = 0) {
    return record{kind,
                  r.text(row, first),
                  r.text(row, first + 1),
                  core::rve{r.int64(row, first + 2)},
                  r.boolean(row, first + 3),
                  r.text(row, first + 4),
                  r.text(row, first + 5)};
}

/// `$n`, the placeholder of the n-th parameter. (Built by appending: GCC 12 at -O3 reports a
/// false -Wrestrict for `"$" + std::to_string(n)`.)
inline std::string placeholder(std::size_t n) {
    std::string out(1, '$');
    out += std::to_string(n);
    return out;
}

/// The advisory lock that lets one node at a time prune the history.
inline constexpr std::int64_t prune_lock = 8098991859250792;

} // namespace posfeed::store::postgres
