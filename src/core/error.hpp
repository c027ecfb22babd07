#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace posfeed::core {

/// The domain error codes, modelled on absl's status codes. Pick one by asking who must act:
/// - `invalid_argument`: the caller sent something malformed or out of range (HTTP 400);
/// - `unauthenticated`: no credential, or one we do not recognise (401);
/// - `permission_denied`: a valid credential that may not do this (403);
/// - `not_found`: the route or record does not exist (404);
/// - `method_not_allowed`: the route exists but not for this method (405);
/// - `conflict`: the request is valid but clashes with current state (409);
/// - `cursor_expired`: a resume point older than the kept history (handled in-stream, 410 if
///   it ever reaches an HTTP response);
/// - `payload_too_large`, `header_too_large`, `uri_too_long`: size limits (413, 431, 414);
/// - `resource_exhausted`: a per-credential limit (429, with Retry-After);
/// - `unavailable`: the server is full, shutting down or its database is down (503);
/// - `internal`: a bug or an unexpected failure of ours (500).
enum class error_code {
    invalid_argument,
    unauthenticated,
    permission_denied,
    not_found,
    method_not_allowed,
    conflict,
    cursor_expired,
    payload_too_large,
    header_too_large,
    uri_too_long,
    resource_exhausted,
    unavailable,
    internal,
};

/// The snake_case name of `code`, as sent in the JSON error body.
std::string_view to_string(error_code code);

/// The HTTP status for `code` (the single mapping used by every handler).
int http_status(error_code code);

/// An error with a message that starts lowercase, names the offending value and says what is
/// accepted.
struct error {
    error_code code;
    std::string message;
};

/// Value or error. Functions that can fail on untrusted input return this.
template <class T> class [[nodiscard]] result {
  public:
    /// An internal error: exists only because asynchronous plumbing (co_spawn) needs a
    /// default-constructible result type. Never returned on purpose.
    result() : v_(error{error_code::internal, "no result was produced"}) {}
    result(T value) : v_(std::move(value)) {}
    result(error err) : v_(std::move(err)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    /// The value; only valid when ok().
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /// The error; only valid when !ok().
    const error& err() const { return std::get<1>(v_); }
    error&& take_err() { return std::get<1>(std::move(v_)); }

  private:
    std::variant<T, error> v_;
};

/// Success or error, for functions with nothing to return.
struct ok_t {};
using status = result<ok_t>;
inline status ok_status() {
    return ok_t{};
}

/// Shorthand constructors.
inline error invalid_argument(std::string msg) {
    return {error_code::invalid_argument, std::move(msg)};
}
inline error not_found(std::string msg) {
    return {error_code::not_found, std::move(msg)};
}
inline error internal_error(std::string msg) {
    return {error_code::internal, std::move(msg)};
}

/// The JSON error body of SPEC 3: `{"error":{"code":"...","message":"..."}}`.
std::string error_body(const error& err);

} // namespace posfeed::core
