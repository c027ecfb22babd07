#include "store/open_store.hpp"

#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace posfeed::store {

std::unique_ptr<store> open_store(const std::string& url, store_options options) {
    constexpr std::string_view sqlite_prefix = "sqlite:";
    if (url.starts_with(sqlite_prefix)) {
        return std::make_unique<sqlite::sqlite_store>(url.substr(sqlite_prefix.size()),
                                                      std::move(options));
    }
    if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
        return std::make_unique<postgres::pg_store>(url, std::move(options));
    }
    throw store_error("database URL '" + url +
                      "' is not understood; use sqlite:PATH or postgresql://...");
}

} // namespace posfeed::store
