#include "core/error.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

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
    case error_code::method_not_allowed:
        return "method_not_allowed";
    case error_code::conflict:
        return "conflict";
    case error_code::cursor_expired:
        return "cursor_expired";
    case error_code::payload_too_large:
        return "payload_too_large";
    case error_code::header_too_large:
        return "header_too_large";
    case error_code::uri_too_long:
        return "uri_too_long";
    case error_code::resource_exhausted:
        return "resource_exhausted";
    case error_code::unavailable:
        return "unavailable";
    case error_code::internal:
        return "internal";
    }
    return "internal";
}

int http_status(error_code code) {
    switch (code) {
    case error_code::invalid_argument:
        return 400;
    case error_code::unauthenticated:
        return 401;
    case error_code::permission_denied:
        return 403;
    case error_code::not_found:
        return 404;
    case error_code::method_not_allowed:
        return 405;
    case error_code::conflict:
        return 409;
    case error_code::cursor_expired:
        return 410;
    case error_code::payload_too_large:
        return 413;
    case error_code::uri_too_long:
        return 414;
    case error_code::header_too_large:
        return 431;
    case error_code::resource_exhausted:
        return 429;
    case error_code::unavailable:
        return 503;
    case error_code::internal:
        return 500;
    }
    return 500;
}

std::string error_body(const error& err) {
    boost::json::value body = {
        {"error", {{"code", to_string(err.code)}, {"message", err.message}}}};
    return boost::json::serialize(body);
}

} // namespace posfeed::core
