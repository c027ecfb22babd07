#pragma once

#include <spdlog/common.h>
#include <spdlog/formatter.h>

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace posfeed::core {

/// Sets up the process-wide spdlog logger (stderr, one line per record, UTC timestamps) at
/// `level` (trace, debug, info, warn, error, critical, off) in `format`: `text` (the default)
/// or `json` (both validated by core::validate; anything else is taken as text). Call once at
/// start-up, before any other thread logs.
void init_logging(std::string_view level, std::string_view format = "text");

/// The formatter init_logging gives the logger's sink for `format` (`json`, else text):
/// - text: `2026-11-22T04:04:35.414Z info <message>` then the fields as ` key=value`;
/// - json: `{"time":"2026-11-22T04:04:35.414Z","level":"info","message":"<message>",<fields>}`.
/// The time is UTC with milliseconds in both. Lines end with `\n`. Exposed for tests.
std::unique_ptr<spdlog::formatter> make_log_formatter(std::string_view format);

/// The value of a log field: a string, an integer, a floating-point number or a boolean.
/// Holds strings by view: a log_value lives only for the log call it is made for.
class log_value {
  public:
    log_value(std::string_view s) : kind_(kind::string), s_(s) {}
    log_value(const char* s) : log_value(std::string_view(s)) {}
    log_value(const std::string& s) : log_value(std::string_view(s)) {}
    log_value(bool b) : kind_(kind::boolean), b_(b) {}
    template <std::signed_integral T>
    requires(!std::same_as<T, bool>) log_value(T v) : kind_(kind::int64), i_(v) {}
    template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>) log_value(T v) : kind_(kind::uint64), u_(v) {}
    template <std::floating_point T> log_value(T v) : kind_(kind::real), d_(v) {}

    /// Appends the value as a JSON value (a string escaped, see append_log_json_string;
    /// non-finite numbers as `null`).
    void append_json(std::string& out) const;

    /// Appends the value as the text format shows it: numbers and booleans bare; a string bare
    /// unless it is empty or holds a space, `"`, `=`, `\` or a control character, in which
    /// case it is quoted and escaped as a JSON string.
    void append_text(std::string& out) const;

  private:
    enum class kind : std::uint8_t { string, int64, uint64, real, boolean };
    kind kind_;
    std::string_view s_;
    union {
        std::int64_t i_;
        std::uint64_t u_;
        double d_;
        bool b_;
    };
};

/// One field of a structured log line. `key` is a snake_case constant, never `time`, `level`
/// or `message`. `in_text = false` marks a field the message already spells out (the request
/// line's method, target, status and time): JSON carries it as a member, text does not repeat
/// it.
struct log_field {
    std::string_view key;
    log_value value;
    bool in_text = true;
};

/// Whether a line at `level` would be written (to skip building one that would not).
bool log_enabled(spdlog::level::level_enum level);

/// Logs `message` at `level` with `fields`: in text they follow the message as ` key=value`,
/// in JSON they are members after `message`. Plain spdlog calls (no fields) work in both
/// formats too. The fields reach the formatter through a thread-local for the duration of the
/// call, so the logger must stay synchronous (it is: init_logging's). Any thread.
void log(spdlog::level::level_enum level, std::string_view message,
         std::initializer_list<log_field> fields = {});

/// Appends `s` as a JSON string literal (core::append_json_string's escaping: `"`, `\`, and
/// every control character), first replacing each byte that is not part of a well-formed UTF-8
/// sequence by U+FFFD, so a logged client byte can never make a line invalid JSON.
void append_log_json_string(std::string& out, std::string_view s);

/// `target` (a request target, path and query) with the values of credential-bearing query
/// parameters (`token`, `session`, `api_key`, `key`, `password`, matched after percent-decoding
/// and ignoring case) and the session id in `/Sessions/{Session}/...` paths replaced by
/// `[redacted]`, so that it can be logged. Works on malformed input too: it never fails.
std::string redact_target(std::string_view target);

} // namespace posfeed::core
