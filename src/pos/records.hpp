#pragma once

#include "core/error.hpp"
#include "store/store.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace posfeed::pos {

/// Record kinds in the store.
inline constexpr auto product_kind = core::record_kind::product;
inline constexpr auto customer_kind = core::record_kind::customer;
inline constexpr auto level_kind = core::record_kind::level;

/// Largest id, location and price we accept (keeps every value exact in a double).
inline constexpr std::int64_t max_id = 999'999'999'999;
inline constexpr double max_amount = 1e12;

/// The JSON API response for one record: `{"data":<record with its RVE>}`.
std::string data_response(const store::record& r);
/// The same for a body that is no stored record (an event's, e.g. a scan or a message).
std::string data_response(std::string_view body, core::rve rve);

/// The record body of `obj` in our canonical JSON form (the form stored and compared).
std::string record_body(const boost::json::object& obj);

/// Parses the body of a stored record (our own JSON). A damaged one throws store::data_error
/// naming the record, which fails only the write or read that met it.
boost::json::object parse_record(const store::record& r);

/// Copies every member of `patch` into `target`, keeping target's member order.
void overlay(boost::json::object& target, const boost::json::object& patch);

/// Writes `obj` as record `kind`/`id` (with secondary key `lookup`) and logs it as an event of
/// type `type` (for `session` when session-scoped), unless nothing differs from `old` (an edit
/// that changes nothing fires nothing and keeps the RVE). Returns the record as it now stands.
store::record put_if_changed(store::write_txn& tx, const std::optional<store::record>& old,
                             core::record_kind kind, std::string id, std::string location,
                             const boost::json::object& obj, core::event_type type,
                             std::string lookup = {}, std::string session = {});

/// Marks record `kind`/`id` deleted (`Deleted: 1`, kept as a tombstone) and fires `type`
/// with it; not_found naming `what` (e.g. "product 12") when it is missing or already deleted.
store::write_fn delete_record(core::record_kind kind, std::int64_t id, std::string what,
                              core::event_type type);

/// A path id segment (`/Products/{Pid}`) as a positive integer; invalid_argument otherwise.
core::result<std::int64_t> parse_id(std::string_view segment, std::string_view name);

} // namespace posfeed::pos
