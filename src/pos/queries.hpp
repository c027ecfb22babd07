#pragma once

#include "core/error.hpp"
#include "store/store.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace posfeed::pos {

/// Looks up a query parameter by name (decoded), nullopt when absent.
using param_getter = std::function<std::optional<std::string_view>(std::string_view)>;

/// The response `{"data":<record>}` for one record; not_found naming `what` (e.g. "product 12")
/// when it is missing or deleted. Blocking.
core::result<std::string> get_one(store::store& db, const std::string& rmsystem,
                                  core::record_kind kind, const std::string& id,
                                  const std::string& what);

/// Lists records of `kind` a page at a time: `{"data":[...],"next":"<cursor>"|null}`.
/// Parameters: `limit` (1..1000, default 100), `since` (an RVE: only records changed after it,
/// deletes included as tombstones), `after` (the `next` of the previous page); for levels also
/// `pid` and `location`; for sales `location`. Records come in (RVE, id) order, so a mirror can
/// page through changes and keep the last RVE as its next `since`. Blocking.
core::result<std::string> list_page(store::store& db, const std::string& rmsystem,
                                    core::record_kind kind, const param_getter& param);

} // namespace posfeed::pos
