#pragma once

#include "core/error.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace posfeed::pos {

/// A validated stock adjustment: `{Pid, Location, Delta | Set, Reason}`.
struct stock_adjustment {
    std::int64_t pid = 0;
    std::int64_t location = 0;
    std::optional<double> delta;
    std::optional<double> set;
    std::string reason;
};

/// Validates a POST /openapi/StockAdjustments body: exactly one of Delta and Set; Set not
/// negative; Reason defaults to `adjustment` (Delta) or `count` (Set).
core::result<stock_adjustment> parse_stock_adjustment(std::string_view body);

/// Store id of the level of `pid` at `location`.
std::string level_id(std::int64_t pid, std::int64_t location);

/// Changes one stock level inside `tx`, firing `levels` with `reason` when the quantity
/// changes. The product must exist (invalid_argument naming the Pid otherwise). Used by
/// adjustments and, for each line, by sales.
core::result<store::record> change_level(store::write_txn& tx, std::int64_t pid,
                                         std::int64_t location, std::optional<double> delta,
                                         std::optional<double> set, const std::string& reason);

/// The write of a stock adjustment; responds with the level as it now stands.
store::write_fn adjust_stock(stock_adjustment in);

} // namespace posfeed::pos
