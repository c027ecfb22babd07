#include "core/json.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>

namespace posfeed::core {

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (c < 0x20) {
                static constexpr char hex[] = "0123456789abcdef";
                out += "\\u00";
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 15]);
            } else {
                out.push_back(ch);
            }
        }
    }
    out.push_back('"');
}

void append_json(std::string& out, const boost::json::value& v) {
    char buf[32];
    switch (v.kind()) {
    case boost::json::kind::null:
        out += "null";
        break;
    case boost::json::kind::bool_:
        out += v.get_bool() ? "true" : "false";
        break;
    case boost::json::kind::int64: {
        const auto r = std::to_chars(buf, buf + sizeof buf, v.get_int64());
        out.append(buf, r.ptr);
        break;
    }
    case boost::json::kind::uint64: {
        const auto r = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
        out.append(buf, r.ptr);
        break;
    }
    case boost::json::kind::double_: {
        const double d = v.get_double();
        if (!std::isfinite(d)) {
            out += "null";
            break;
        }
        // Fixed notation for everyday magnitudes (100000, not 1e+05), shortest round trip.
        const double a = std::fabs(d);
        const auto r = (a == 0 || (a >= 1e-6 && a < 1e16))
                           ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
                           : std::to_chars(buf, buf + sizeof buf, d);
        out.append(buf, r.ptr);
        break;
    }
    case boost::json::kind::string:
        append_json_string(out, v.get_string());
        break;
    case boost::json::kind::array: {
        out.push_back('[');
        bool first = true;
        for (const auto& item : v.get_array()) {
            if (!first) {
                out.push_back(',');
            }
            first = false;
            append_json(out, item);
        }
        out.push_back(']');
        break;
    }
    case boost::json::kind::object: {
        out.push_back('{');
        bool first = true;
        for (const auto& member : v.get_object()) {
            if (!first) {
                out.push_back(',');
            }
            first = false;
            append_json_string(out, member.key());
            out.push_back(':');
            append_json(out, member.value());
        }
        out.push_back('}');
        break;
    }
    }
}

std::string to_json(const boost::json::value& v) {
    std::string out;
    append_json(out, v);
    return out;
}

void append_with_rve(std::string& out, std::string_view body, rve v) {
    // body is an object we serialised ourselves: `{...}`, possibly `{}`; anything else is
    // treated as `{}` rather than cut blindly.
    if (body.size() < 2 || body.front() != '{' || body.back() != '}') {
        body = "{}";
    }
    body.remove_suffix(1);
    out.append(body);
    if (body.size() > 1) {
        out.push_back(',');
    }
    out += "\"RVE\":";
    v.append_to(out);
    out.push_back('}');
}

std::string with_rve(std::string_view body, rve v) {
    std::string out;
    out.reserve(body.size() + 26);
    append_with_rve(out, body, v);
    return out;
}

} // namespace posfeed::core
