#pragma once

#include "core/error.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string_view>

namespace posfeed::pos {

/// The validated fields of a product create or PATCH request (only those given).
struct product_input {
    boost::json::object fields;
};

/// Validates a request body for POST (`create`) or PATCH /openapi/Products. Runs on the
/// caller's thread so the writer only applies.
core::result<product_input> parse_product_input(std::string_view body, bool create);

/// Creates a product: Pid from the RmSystem's counter, a random Physkey unless given, defaults
/// for missing fields; fires `products`.
store::write_fn create_product(product_input in);

/// Applies a PATCH; not_found for an unknown or deleted Pid; fires `products` only when a
/// direct attribute actually changes.
store::write_fn patch_product(std::int64_t pid, product_input in);

} // namespace posfeed::pos
