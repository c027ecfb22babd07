#pragma once

#include "core/error.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string_view>

namespace posfeed::pos {

/// The validated fields of a customer create or PATCH request.
struct customer_input {
    boost::json::object fields;
};

/// Validates a request body for POST (`create`) or PATCH /openapi/Customers.
core::result<customer_input> parse_customer_input(std::string_view body, bool create);

/// Creates a customer with a Cid from the RmSystem's counter; fires `customers`.
store::write_fn create_customer(customer_input in);

/// Applies a PATCH; fires `customers` only when the definition actually changes.
store::write_fn patch_customer(std::int64_t cid, customer_input in);

} // namespace posfeed::pos
