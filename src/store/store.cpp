#include "store/store.hpp"

#include "store/sqlite/sqlite_store.hpp"

#include <future>

namespace posfeed::store {

bool valid_rmsystem_id(std::string_view id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    for (const char c : id) {
        const bool ok =
            (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::unique_ptr<store> open_store(const std::string& url, store_options options) {
    constexpr std::string_view sqlite_prefix = "sqlite:";
    if (url.starts_with(sqlite_prefix)) {
        return std::make_unique<sqlite::sqlite_store>(url.substr(sqlite_prefix.size()),
                                                      std::move(options));
    }
    if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
        throw store_error("the PostgreSQL store is not built yet; use sqlite:PATH");
    }
    throw store_error("database URL '" + url +
                      "' is not understood; use sqlite:PATH or postgresql://...");
}

write_result write_and_wait(store& s, std::string rmsystem, write_fn fn) {
    std::promise<write_result> done;
    auto f = done.get_future();
    s.submit(std::move(rmsystem), std::move(fn),
             [&done](write_result r) { done.set_value(std::move(r)); });
    return f.get();
}

} // namespace posfeed::store
