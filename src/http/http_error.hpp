#pragma once

#include "core/error.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace posfeed::http {

/// Errors that only HTTP has: the form of a request, not anything of the domain (those are
/// core::error_code).
/// - `method_not_allowed`: the route exists but not for this method (405, with `Allow`);
/// - `payload_too_large`, `header_too_large`, `uri_too_long`: size limits (413, 431, 414).
enum class protocol_code {
    method_not_allowed,
    payload_too_large,
    header_too_large,
    uri_too_long,
};

/// An error as an HTTP response reports it: a domain error (from any module below http) or a
/// protocol one. Converts implicitly from core::error, so handlers pass domain errors on as
/// they are.
struct http_error {
    std::variant<core::error_code, protocol_code> code;
    std::string message; ///< starts lowercase, names the offending value, says what is accepted

    http_error(core::error e) : code(e.code), message(std::move(e.message)) {}
    http_error(protocol_code c, std::string msg) : code(c), message(std::move(msg)) {}

    /// The HTTP status (the single mapping used by every handler).
    int status() const;
    /// The snake_case name sent in the JSON error body.
    std::string_view code_name() const;

    bool is(core::error_code c) const { return code == decltype(code){c}; }
    bool is(protocol_code c) const { return code == decltype(code){c}; }
};

/// The HTTP status of a domain error code:
/// invalid_argument 400, unauthenticated 401, permission_denied 403, not_found 404,
/// conflict 409, cursor_expired 410, resource_exhausted 429, unavailable 503, internal 500.
int http_status(core::error_code code);

/// The JSON error body of SPEC 3: `{"error":{"code":"...","message":"..."}}`.
std::string error_body(const http_error& err);

} // namespace posfeed::http
