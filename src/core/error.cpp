#include "core/error.hpp"

namespace posfeed::core {

std::string_view to_string(error_code code) {
    switch (code) {
    case error_code::invalid_argument:
        return "invalid_argument";
    case error_code::unauthenticated:
        return "unauthenticated";
    case error_code::permission_denied:
        return "permission_denied";
    case error_code::not_found:
        return "not_found";
    case error_code::conflict:
        return "conflict";
    case error_code::cursor_expired:
        return "cursor_expired";
    case error_code::resource_exhausted:
        return "resource_exhausted";
    case error_code::unavailable:
        return "unavailable";
    case error_code::internal:
        return "internal";
    }
    return "internal";
}

} // namespace posfeed::core
