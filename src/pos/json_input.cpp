#include "pos/json_input.hpp"

#include "core/json.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>

namespace posfeed::pos {
namespace {

std::string describe(const boost::json::value& v) {
    std::string text = core::to_json(v);
    if (text.size() > 40) {
        std::size_t cut = 37;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
            --cut; // never split a UTF-8 sequence: the message goes into a JSON body
        }
        text = text.substr(0, cut) + "...";
    }
    return text;
}

} // namespace

bool valid_decimal(double v, double min, double max) {
    if (!std::isfinite(v) || v < min || v > max) {
        return false;
    }
    const double scaled = v * 10000.0;
    return std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, std::fabs(scaled));
}

double round4(double v) {
    return std::round(v * 10000.0) / 10000.0;
}

core::result<body_reader> body_reader::parse(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (ec) {
        return core::invalid_argument("the request body is not valid JSON (" + ec.message() +
                                      "); send a JSON object");
    }
    if (!v.is_object()) {
        return core::invalid_argument("the request body must be a JSON object, got " + describe(v));
    }
    return body_reader(std::move(v.get_object()));
}

body_reader body_reader::nested(boost::json::object obj, std::string prefix) {
    return body_reader(std::move(obj), std::move(prefix));
}

void body_reader::mark(std::string_view key) {
    seen_.emplace_back(key);
}

void body_reader::fail(core::error err) {
    if (!first_error_) {
        first_error_ = std::move(err);
    }
}

void body_reader::require(std::string_view key) {
    mark(key);
    if (!obj_.contains(key)) {
        fail(core::invalid_argument("field " + name(key) + " is required"));
    }
}

std::optional<std::string> body_reader::string(std::string_view key, std::size_t max_len) {
    mark(key);
    const auto* v = obj_.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (!v->is_string() || v->get_string().size() > max_len) {
        fail(core::invalid_argument("field " + name(key) + " must be a string of at most " +
                                    std::to_string(max_len) + " bytes, got " + describe(*v)));
        return std::nullopt;
    }
    return std::string(v->get_string());
}

std::optional<std::int64_t> body_reader::integer(std::string_view key, std::int64_t min,
                                                 std::int64_t max) {
    mark(key);
    const auto* v = obj_.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    std::optional<std::int64_t> n;
    if (v->is_int64()) {
        n = v->get_int64();
    } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max)) {
        n = static_cast<std::int64_t>(v->get_uint64());
    }
    if (!n || *n < min || *n > max) {
        fail(core::invalid_argument("field " + name(key) + " must be an integer from " +
                                    std::to_string(min) + " to " + std::to_string(max) + ", got " +
                                    describe(*v)));
        return std::nullopt;
    }
    return n;
}

std::optional<double> body_reader::decimal(std::string_view key, double min, double max) {
    mark(key);
    const auto* v = obj_.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    std::optional<double> d;
    if (v->is_number()) {
        d = v->to_number<double>();
    }
    if (!d || !valid_decimal(*d, min, max)) {
        std::string range;
        core::append_json(range, boost::json::value(min));
        range += " to ";
        core::append_json(range, boost::json::value(max));
        fail(core::invalid_argument("field " + name(key) + " must be a number from " + range +
                                    " with at most 4 decimals, got " + describe(*v)));
        return std::nullopt;
    }
    return round4(*d);
}

std::optional<std::int64_t> body_reader::flag(std::string_view key) {
    mark(key);
    const auto* v = obj_.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_bool()) {
        return v->get_bool() ? 1 : 0;
    }
    if (v->is_int64() && (v->get_int64() == 0 || v->get_int64() == 1)) {
        return v->get_int64();
    }
    fail(core::invalid_argument("field " + name(key) + " must be 0, 1, true or false, got " +
                                describe(*v)));
    return std::nullopt;
}

core::status body_reader::finish() const {
    if (first_error_) {
        return *first_error_;
    }
    for (const auto& member : obj_) {
        if (std::find(seen_.begin(), seen_.end(), member.key()) == seen_.end()) {
            std::string known;
            for (const auto& s : seen_) {
                if (known.find("'" + s + "'") == std::string::npos) {
                    known += (known.empty() ? "'" : ", '") + s + "'";
                }
            }
            return core::invalid_argument("unknown field " + name(member.key()) +
                                          "; accepted fields are " + known);
        }
    }
    return core::ok_status();
}

} // namespace posfeed::pos
