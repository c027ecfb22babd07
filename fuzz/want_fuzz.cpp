// Fuzzes feed::parse_want (the `want=` query parameter). A successful parse must give a
// non-empty, duplicate-free list whose mask is exactly the union of its types, and re-parsing
// the types joined by commas must give the same list.

#include "core/event_type.hpp"
#include "feed/want.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace posfeed;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    auto r = feed::parse_want(in);
    if (!r.ok()) {
        if (r.err().message.empty()) {
            std::abort(); // errors must say what is wrong
        }
        return 0;
    }
    const feed::want_list& w = *r;
    if (w.types.empty()) {
        std::abort();
    }
    core::type_mask mask = 0;
    std::string joined;
    for (const core::event_type t : w.types) {
        if ((mask & core::bit(t)) != 0) {
            std::abort(); // duplicate
        }
        mask |= core::bit(t);
        if (!joined.empty()) {
            joined += ',';
        }
        joined += core::to_string(t);
    }
    if (mask != w.mask || (mask & ~core::all_types) != 0) {
        std::abort();
    }
    auto again = feed::parse_want(joined);
    if (!again.ok() || again->mask != w.mask || again->types != w.types) {
        std::abort();
    }
    return 0;
}
