#include "store/store.hpp"

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

write_result write_and_wait(store& s, std::string rmsystem, write_fn fn) {
    std::promise<write_result> done;
    auto f = done.get_future();
    s.submit(std::move(rmsystem), std::move(fn),
             [&done](write_result r) { done.set_value(std::move(r)); });
    return f.get();
}

} // namespace posfeed::store
