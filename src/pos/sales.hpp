#pragma once

#include "core/error.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace posfeed::pos {

inline constexpr auto sale_kind = core::record_kind::sale;

/// One line of a completed sale.
struct sale_line {
    std::int64_t pid = 0;
    double qty = 0;
    std::optional<double> price; ///< the product's price when absent
};

/// A validated POST /openapi/Sales body: `{Location, Cid?, Lines:[{Pid, Qty, Price?}]}`.
struct sale_input {
    std::optional<std::int64_t> sid; ///< a new Sid when absent (an active sale brings its own)
    std::int64_t location = 0;
    std::optional<std::int64_t> cid;
    std::vector<sale_line> lines;
};

/// Validates a sale: Location, 1 to 1000 Lines, each with a positive Qty; messages name the
/// line (`Lines[2].Qty`).
core::result<sale_input> parse_sale_input(std::string_view body);

/// Completes a sale as one transaction group (SPEC 2): the sale record and its `sales` event,
/// then one `levels` event per product whose stock it lowered (Reason `sale`), all with one
/// RVE. An unknown or deleted Pid or Cid fails the whole sale (invalid_argument naming it).
store::write_fn complete_sale(sale_input in);

/// The same inside a caller's transaction (used by POS sessions completing an active sale).
core::result<store::record> apply_sale(store::write_txn& tx, const sale_input& in);

} // namespace posfeed::pos
