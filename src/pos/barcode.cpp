#include "pos/barcode.hpp"

#include "pos/json_input.hpp"
#include "pos/records.hpp"

#include <array>
#include <cctype>

namespace posfeed::pos {
namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

/// UPC-E (8 digits: number system, 6 data digits, check) expanded to UPC-A (12 digits).
std::string upce_to_upca(std::string_view e) {
    const char ns = e[0];
    const std::string_view d = e.substr(1, 6);
    const char check = e[7];
    std::string body; // 10 digits after the number system: manufacturer (5) + product (5)
    switch (d[5]) {
    case '0':
    case '1':
    case '2':
        body = std::string{d[0], d[1], d[5], '0', '0', '0', '0', d[2], d[3], d[4]};
        break;
    case '3':
        body = std::string{d[0], d[1], d[2], '0', '0', '0', '0', '0', d[3], d[4]};
        break;
    case '4':
        body = std::string{d[0], d[1], d[2], d[3], '0', '0', '0', '0', '0', d[4]};
        break;
    default:
        body = std::string{d[0], d[1], d[2], d[3], d[4], '0', '0', '0', '0', d[5]};
        break;
    }
    return std::string(1, ns) + body + std::string(1, check);
}

} // namespace

std::string_view to_string(barcode_type t) {
    static constexpr std::array<std::string_view, 10> names = {
        "UNKNOWN", "EAN13", "UPCA", "EAN8", "UPCE", "GTIN14", "GS1", "CODE128", "URL", "INSTORE"};
    return names[static_cast<int>(t)];
}

bool gs1_check_digit_ok(std::string_view digits) {
    if (digits.size() < 2 || !all_digits(digits)) {
        return false;
    }
    // From the right, excluding the check digit: weights 3, 1, 3, 1, ...
    int sum = 0;
    const std::size_t n = digits.size() - 1;
    for (std::size_t i = 0; i < n; ++i) {
        const int d = digits[n - 1 - i] - '0';
        sum += (i % 2 == 0) ? 3 * d : d;
    }
    return (10 - sum % 10) % 10 == digits.back() - '0';
}

barcode_type classify_barcode(std::string_view raw) {
    if (raw.empty()) {
        return barcode_type::unknown;
    }
    // URI schemes are case-insensitive (RFC 3986 3.1); QR codes often carry upper-case URLs.
    const auto has_scheme = [raw](std::string_view scheme) {
        if (raw.size() < scheme.size()) {
            return false;
        }
        for (std::size_t i = 0; i < scheme.size(); ++i) {
            if (std::tolower(static_cast<unsigned char>(raw[i])) != scheme[i]) {
                return false;
            }
        }
        return true;
    };
    if (has_scheme("http://") || has_scheme("https://")) {
        return barcode_type::url;
    }
    if (all_digits(raw)) {
        switch (raw.size()) {
        case 13:
            if (!gs1_check_digit_ok(raw)) {
                return barcode_type::unknown;
            }
            return raw[0] == '2' ? barcode_type::instore : barcode_type::ean13;
        case 12:
            return gs1_check_digit_ok(raw) ? barcode_type::upca : barcode_type::unknown;
        case 14:
            return gs1_check_digit_ok(raw) ? barcode_type::gtin14 : barcode_type::unknown;
        case 8:
            if (gs1_check_digit_ok(raw)) {
                return barcode_type::ean8;
            }
            if ((raw[0] == '0' || raw[0] == '1') && gs1_check_digit_ok(upce_to_upca(raw))) {
                return barcode_type::upce;
            }
            return barcode_type::unknown;
        default:
            break;
        }
    }
    if (raw.starts_with("]C1") || raw.starts_with("]e0") || raw.starts_with("]d2") ||
        raw.starts_with("]Q3") || raw.find('\x1D') != std::string_view::npos) {
        return barcode_type::gs1;
    }
    if (raw.size() >= 4 && raw[0] == '(' && raw.find(')') != std::string_view::npos) {
        const auto close = raw.find(')');
        if (close >= 3 && close <= 5 && all_digits(raw.substr(1, close - 1))) {
            return barcode_type::gs1;
        }
    }
    for (const char c : raw) {
        if (c < 0x20 || c > 0x7E) {
            return barcode_type::unknown;
        }
    }
    return barcode_type::code128;
}

core::result<barcode_scan> parse_barcode_scan(std::string_view body, std::string* session_id) {
    auto r = body_reader::parse(body);
    if (!r.ok()) {
        return r.take_err();
    }
    body_reader& in = *r;
    barcode_scan out;
    in.require("RawScan");
    if (auto v = in.string("RawScan", 4096)) {
        if (v->empty()) {
            in.fail(core::invalid_argument("field 'RawScan' must not be empty"));
        }
        out.raw = *v;
    }
    if (auto v = in.string("Session", 200)) {
        *session_id = *v;
    }
    out.location = in.integer("Location", 1, max_id);
    if (auto s = in.finish(); !s.ok()) {
        return s.take_err();
    }
    return out;
}

store::write_fn scan_barcode(barcode_scan scan) {
    return [scan = std::move(scan)](store::write_txn& tx) -> core::result<std::string> {
        const auto type = classify_barcode(scan.raw);
        boost::json::object obj{{"RawScan", scan.raw},
                                {"TypeCode", static_cast<int>(type)},
                                {"TypeStr", to_string(type)}};
        if (const auto p = tx.find(product_kind, scan.raw)) {
            obj["Pid"] = parse_record(*p).at("Pid");
        }
        const std::string location = scan.location ? std::to_string(*scan.location) : "";
        if (scan.location) {
            obj["Location"] = *scan.location;
        }
        std::string body = record_body(obj);
        tx.emit(store::event{core::event_type::barcode, location, scan.session_key, body});
        return data_response(body, tx.rve());
    };
}

} // namespace posfeed::pos
