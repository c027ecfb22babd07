#include "feed/packet.hpp"

#include "core/json.hpp"

#include <charconv>

namespace posfeed::feed {
namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

/// Converts JSON that we serialised ourselves into XML elements. Written by hand rather than
/// through boost::json::value because numbers must keep their literal text: an RVE such as
/// 20210727.091105994 has more digits than a double holds. Malformed input stops the
/// conversion early; it never reads out of bounds.
class json_to_xml {
  public:
    json_to_xml(std::string_view in, std::string& out) : in_(in), out_(out) {}

    void members() {
        skip_ws();
        if (!eat('{')) {
            return;
        }
        object_body();
    }

  private:
    void object_body() {
        skip_ws();
        if (eat('}')) {
            return;
        }
        while (ok_) {
            skip_ws();
            std::string key;
            if (!string_into(key)) {
                return;
            }
            skip_ws();
            if (!expect(':')) {
                return;
            }
            element(key);
            skip_ws();
            if (eat(',')) {
                continue;
            }
            expect('}');
            return;
        }
    }

    void element(std::string_view key) {
        skip_ws();
        out_ += '<';
        out_ += key;
        out_ += '>';
        const char c = peek();
        if (c == '{') {
            ++pos_;
            object_body();
        } else if (c == '[') {
            ++pos_;
            const std::string item = key.size() > 1 && key.back() == 's'
                                         ? std::string(key.substr(0, key.size() - 1))
                                         : std::string("Item");
            skip_ws();
            if (!eat(']')) {
                while (ok_) {
                    element(item);
                    skip_ws();
                    if (eat(',')) {
                        continue;
                    }
                    expect(']');
                    break;
                }
            }
        } else if (c == '"') {
            std::string text;
            if (string_into(text)) {
                append_xml_text(out_, text);
            }
        } else {
            // number, true, false or null: copied as written (null as empty)
            const std::size_t start = pos_;
            while (pos_ < in_.size() &&
                   std::string_view(",}] \t\r\n").find(in_[pos_]) == std::string_view::npos) {
                ++pos_;
            }
            const std::string_view literal = in_.substr(start, pos_ - start);
            if (literal.empty()) {
                ok_ = false;
            } else if (literal != "null") {
                out_ += literal;
            }
        }
        out_ += "</";
        out_ += key;
        out_ += '>';
    }

    bool string_into(std::string& s) {
        if (!expect('"')) {
            return false;
        }
        while (pos_ < in_.size()) {
            const char c = in_[pos_++];
            if (c == '"') {
                return true;
            }
            if (c != '\\') {
                s.push_back(c);
                continue;
            }
            if (pos_ >= in_.size()) {
                break;
            }
            const char e = in_[pos_++];
            switch (e) {
            case 'n':
                s.push_back('\n');
                break;
            case 'r':
                s.push_back('\r');
                break;
            case 't':
                s.push_back('\t');
                break;
            case 'b':
                s.push_back('\b');
                break;
            case 'f':
                s.push_back('\f');
                break;
            case 'u': {
                std::uint32_t cp = 0;
                if (!hex4(cp)) {
                    ok_ = false;
                    return false;
                }
                if (cp >= 0xD800 && cp < 0xDC00 && in_.substr(pos_, 2) == "\\u") {
                    pos_ += 2;
                    std::uint32_t low = 0;
                    if (!hex4(low)) {
                        ok_ = false;
                        return false;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                append_utf8(s, cp);
                break;
            }
            default:
                s.push_back(e);
            }
        }
        ok_ = false;
        return false;
    }

    bool hex4(std::uint32_t& cp) {
        if (pos_ + 4 > in_.size()) {
            return false;
        }
        const auto r = std::from_chars(in_.data() + pos_, in_.data() + pos_ + 4, cp, 16);
        if (r.ptr != in_.data() + pos_ + 4) {
            return false;
        }
        pos_ += 4;
        return true;
    }

    void skip_ws() {
        while (pos_ < in_.size() &&
               (in_[pos_] == ' ' || in_[pos_] == '\n' || in_[pos_] == '\t' || in_[pos_] == '\r')) {
            ++pos_;
        }
    }
    char peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
    /// Consumes `c` if it is next.
    bool eat(char c) {
        if (peek() == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    /// Consumes `c`, which must be next.
    bool expect(char c) {
        ok_ = ok_ && eat(c);
        return ok_;
    }

    std::string_view in_;
    std::string& out_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

} // namespace

void append_xml_text(std::string& out, std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        case '\n':
            out += "&#10;";
            break;
        case '\r':
            out += "&#13;";
            break;
        case '\t':
            out += "&#9;";
            break;
        default:
            if (c < 0x20) {
                out += "\xEF\xBF\xBD"; // not allowed in XML 1.0, even as a reference
            } else if (c == 0xEF && i + 2 < text.size() &&
                       static_cast<unsigned char>(text[i + 1]) == 0xBF &&
                       (static_cast<unsigned char>(text[i + 2]) == 0xBE ||
                        static_cast<unsigned char>(text[i + 2]) == 0xBF)) {
                out += "\xEF\xBF\xBD"; // U+FFFE and U+FFFF are not XML characters either
                i += 2;
            } else {
                out.push_back(text[i]);
            }
        }
    }
}

void append_xml_members(std::string& out, std::string_view json_object) {
    json_to_xml(json_object, out).members();
}

namespace {

/// The one packet writer: `rve_of(i)` gives record i's RVE.
template <class Records, class RveOf>
void write_packet(std::string& out, packet_format fmt, core::event_type type,
                  const Records& records, RveOf rve_of,
                  std::string_view (*body_of)(const typename Records::value_type&)) {
    const std::string_view key = core::packet_key(type);
    if (fmt == packet_format::json) {
        out += "{\"";
        out += key;
        out += "\":[";
        for (std::size_t i = 0; i < records.size(); ++i) {
            if (i > 0) {
                out += ',';
            }
            core::append_with_rve(out, body_of(records[i]), rve_of(i));
        }
        out += "]}";
        return;
    }
    const std::string_view item = core::xml_item_name(type);
    out += '<';
    out += key;
    out += '>';
    for (std::size_t i = 0; i < records.size(); ++i) {
        out += '<';
        out += item;
        out += '>';
        append_xml_members(out, body_of(records[i]));
        out += "<RVE>";
        rve_of(i).append_to(out);
        out += "</RVE></";
        out += item;
        out += '>';
    }
    out += "</";
    out += key;
    out += '>';
}

} // namespace

void append_packet(std::string& out, packet_format fmt, core::event_type type,
                   std::span<const std::string_view> records, core::rve rve) {
    write_packet(
        out, fmt, type, records, [rve](std::size_t) { return rve; },
        +[](const std::string_view& r) { return r; });
}

void append_packet(std::string& out, packet_format fmt, core::event_type type,
                   std::span<const versioned_record> records) {
    write_packet(
        out, fmt, type, records, [&records](std::size_t i) { return records[i].rve; },
        +[](const versioned_record& r) { return r.body; });
}

void append_control_packet(std::string& out, packet_format fmt, std::string_view key,
                           std::string_view item_name, std::string_view record_json) {
    if (fmt == packet_format::json) {
        out += "{\"";
        out += key;
        out += "\":[";
        out += record_json;
        out += "]}";
        return;
    }
    out += '<';
    out += key;
    out += "><";
    out += item_name;
    out += '>';
    append_xml_members(out, record_json);
    out += "</";
    out += item_name;
    out += "></";
    out += key;
    out += '>';
}

} // namespace posfeed::feed
