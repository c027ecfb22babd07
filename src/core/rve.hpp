#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace posfeed::core {

/// A record version: a UTC instant in whole milliseconds since the Unix epoch. Written as
/// `YYYYMMDD.HHmmSSCCC` (SPEC 2). The zero value means "before everything".
struct rve {
    std::int64_t ms = 0;

    friend auto operator<=>(const rve&, const rve&) = default;

    /// `YYYYMMDD.HHmmSSCCC`, e.g. `20210727.091105994`. Exactly 18 characters for years
    /// 0000..9999; zero formats as `0`.
    std::string str() const;

    /// Appends str() to `out` without allocating beyond the append.
    void append_to(std::string& out) const;
};

/// ISO 8601 UTC text of an RVE, e.g. `2021-07-27T09:11:05.994Z`.
std::string iso_time(rve v);

/// The largest RVE that can be written (9999-12-31 23:59:59.999).
inline constexpr std::int64_t max_rve_ms = 253402300799999;

/// Parses a resume point: `0` (from the beginning) or `YYYYMMDD.HHmmSS...` with 1 to 9
/// decimals (missing trailing digits are zeros, so a client that kept the number literal with
/// its trailing zeros dropped still resumes at the right place). Surrounding whitespace is
/// not accepted. Returns nullopt for anything else, including impossible dates.
std::optional<rve> parse_rve(std::string_view text);

/// Source of "now" in milliseconds since the epoch; injectable for tests.
using clock_fn = std::function<std::int64_t()>;

/// The system clock as a clock_fn.
std::int64_t system_now_ms();

/// Hands out strictly increasing RVEs: `max(now_ms, previous_ms + 1)` (SPEC 2), so a burst of
/// more than 1000 commits a second runs ahead of the wall clock for a while and a clock stepped
/// backwards never reorders anything. Not thread-safe: one clock per writer.
class rve_clock {
  public:
    explicit rve_clock(clock_fn now = system_now_ms) : now_(std::move(now)) {}

    /// The RVE that follows `previous` (typically the stored last RVE of an RmSystem, which
    /// makes the sequence continue across restarts).
    rve next(rve previous) const;

  private:
    clock_fn now_;
};

} // namespace posfeed::core
