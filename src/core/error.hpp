#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace posfeed::core {

/// The domain error codes, modelled on absl's status codes. Pick one by asking who must act:
/// - `invalid_argument`: the caller sent something malformed or out of range;
/// - `unauthenticated`: no credential, or one we do not recognise;
/// - `permission_denied`: a valid credential that may not do this;
/// - `not_found`: the route or record does not exist;
/// - `conflict`: the request is valid but clashes with current state;
/// - `cursor_expired`: a resume point older than the kept history (handled in-stream);
/// - `resource_exhausted`: a per-credential limit;
/// - `unavailable`: the server is full, shutting down or its database is down (retry);
/// - `internal`: a bug or an unexpected failure of ours, or damaged stored data.
/// Errors that only HTTP has (a method not allowed, size limits) and the mapping to HTTP status
/// codes are in http/http_error.hpp.
enum class error_code {
    invalid_argument,
    unauthenticated,
    permission_denied,
    not_found,
    conflict,
    cursor_expired,
    resource_exhausted,
    unavailable,
    internal,
};

/// The snake_case name of `code`, as sent in the JSON error body.
std::string_view to_string(error_code code);

/// An error with a message that starts lowercase, names the offending value and says what is
/// accepted.
struct error {
    error_code code;
    std::string message;
};

/// Value or error. Functions that can fail on untrusted input return this. `E` is the error
/// type: core::error below http, http::http_error in it.
template <class T, class E = error> class [[nodiscard]] result {
  public:
    /// An internal error: exists only because asynchronous plumbing (co_spawn) needs a
    /// default-constructible result type. Never returned on purpose.
    result() : v_(E(error{error_code::internal, "no result was produced"})) {}
    result(T value) : v_(std::move(value)) {}
    result(E err) : v_(std::move(err)) {}
    /// An error of another type that converts to E (a core::error passed on by http).
    template <class Other>
    requires(!std::is_same_v<Other, E> && !std::is_convertible_v<Other, T> &&
             std::is_convertible_v<Other, E>) result(Other err)
        : v_(E(std::move(err))) {}

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
    const E& err() const { return std::get<1>(v_); }
    E&& take_err() { return std::get<1>(std::move(v_)); }

  private:
    std::variant<T, E> v_;
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

} // namespace posfeed::core
