#pragma once

#include "core/error.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace posfeed::pos {

/// Reads the fields of a JSON request body with validation. Each getter records the first
/// problem it meets (wrong type, out of range) and returns nullopt; finish() reports it, or
/// the first field the caller never asked about (unknown field names are errors, so a typo
/// is never silently ignored). Messages name the field and say what is accepted.
class body_reader {
  public:
    /// Parses `text`, which must be a JSON object.
    static core::result<body_reader> parse(std::string_view text);

    /// Reads a nested object; field names in messages get `prefix` (e.g. `Lines[2].`).
    static body_reader nested(boost::json::object obj, std::string prefix);

    bool has(std::string_view key) const { return obj_.contains(key); }

    /// A string of at most `max_len` bytes.
    std::optional<std::string> string(std::string_view key, std::size_t max_len = 1000);

    /// An integer literal in [min, max].
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);

    /// A number in [min, max] with at most 4 decimals (money and quantities).
    std::optional<double> decimal(std::string_view key, double min, double max);

    /// A flag: 0, 1, true or false, returned as 0 or 1.
    std::optional<std::int64_t> flag(std::string_view key);

    /// Marks `key` as accepted when the caller checks it by hand (arrays, nested objects).
    void known(std::string_view key) { mark(key); }

    /// Records "field X is required" when `key` is absent.
    void require(std::string_view key);

    /// Records an error found by the caller (e.g. a cross-field rule).
    void fail(core::error err);

    /// The first problem found, or an unknown field, or ok.
    core::status finish() const;

    const boost::json::object& object() const { return obj_; }

  private:
    explicit body_reader(boost::json::object obj, std::string prefix = {})
        : obj_(std::move(obj)), prefix_(std::move(prefix)) {}
    void mark(std::string_view key);
    std::string name(std::string_view key) const { return "'" + prefix_ + std::string(key) + "'"; }

    boost::json::object obj_;
    std::string prefix_;
    std::vector<std::string> seen_;
    std::optional<core::error> first_error_;
};

/// Validates a decimal for money/quantity use: finite, in range, at most 4 decimals.
bool valid_decimal(double v, double min, double max);

/// Rounds to 4 decimals, removing binary noise from sums (e.g. 0.1 + 0.2).
double round4(double v);

} // namespace posfeed::pos
