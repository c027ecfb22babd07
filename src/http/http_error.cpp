#include "http/http_error.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace posfeed::http {
namespace {

int protocol_status(protocol_code c) {
    switch (c) {
    case protocol_code::method_not_allowed:
        return 405;
    case protocol_code::payload_too_large:
        return 413;
    case protocol_code::header_too_large:
        return 431;
    case protocol_code::uri_too_long:
        return 414;
    }
    return 400;
}

std::string_view protocol_name(protocol_code c) {
    switch (c) {
    case protocol_code::method_not_allowed:
        return "method_not_allowed";
    case protocol_code::payload_too_large:
        return "payload_too_large";
    case protocol_code::header_too_large:
        return "header_too_large";
    case protocol_code::uri_too_long:
        return "uri_too_long";
    }
    return "invalid_argument";
}

} // namespace

int http_status(core::error_code code) {
    switch (code) {
    case core::error_code::invalid_argument:
        return 400;
    case core::error_code::unauthenticated:
        return 401;
    case core::error_code::permission_denied:
        return 403;
    case core::error_code::not_found:
        return 404;
    case core::error_code::conflict:
        return 409;
    case core::error_code::cursor_expired:
        return 410;
    case core::error_code::resource_exhausted:
        return 429;
    case core::error_code::unavailable:
        return 503;
    case core::error_code::internal:
        return 500;
    }
    return 500;
}

int http_error::status() const {
    if (const auto* c = std::get_if<core::error_code>(&code)) {
        return http_status(*c);
    }
    return protocol_status(std::get<protocol_code>(code));
}

std::string_view http_error::code_name() const {
    if (const auto* c = std::get_if<core::error_code>(&code)) {
        return core::to_string(*c);
    }
    return protocol_name(std::get<protocol_code>(code));
}

std::string error_body(const http_error& err) {
    boost::json::value body = {{"error", {{"code", err.code_name()}, {"message", err.message}}}};
    return boost::json::serialize(body);
}

} // namespace posfeed::http
