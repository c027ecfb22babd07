#include "sse_parser.hpp"

#include <limits>
#include <utility>

namespace posfeed::client {

namespace {

constexpr char replacement[] = "\xEF\xBF\xBD"; // U+FFFD in UTF-8
constexpr char32_t bom = 0xFEFF;

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

std::uint64_t saturating_decimal(std::string_view digits) {
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t v = 0;
    for (const char c : digits) {
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (max - d) / 10) {
            return max;
        }
        v = v * 10 + d;
    }
    return v;
}

} // namespace

sse_parser::sse_parser(event_handler on_event, retry_handler on_retry, std::size_t max_buffered)
    : on_event_(std::move(on_event)), on_retry_(std::move(on_retry)), max_buffered_(max_buffered) {}

void sse_parser::reset() {
    utf8_cp_ = 0;
    utf8_needed_ = 0;
    utf8_seen_ = 0;
    utf8_lower_ = 0x80;
    utf8_upper_ = 0xBF;
    at_start_ = true;
    after_cr_ = false;
    failed_ = false;
    line_.clear();
    data_.clear();
    type_.clear();
    last_event_id_.clear();
    block_has_id_ = false;
}

void sse_parser::feed(std::string_view bytes) {
    for (const char c : bytes) {
        if (failed_) {
            return;
        }
        decode(static_cast<unsigned char>(c));
    }
}

void sse_parser::decode(unsigned char byte) {
    // The WHATWG Encoding standard's UTF-8 decoder, error mode "replacement": every maximal
    // invalid subpart becomes one U+FFFD, and the byte that broke a sequence is read again.
    while (true) {
        if (utf8_needed_ == 0) {
            if (byte <= 0x7F) {
                const char c = static_cast<char>(byte);
                code_point(byte, &c, 1);
            } else if (byte >= 0xC2 && byte <= 0xDF) {
                utf8_needed_ = 1;
                utf8_cp_ = byte & 0x1F;
            } else if (byte >= 0xE0 && byte <= 0xEF) {
                if (byte == 0xE0) {
                    utf8_lower_ = 0xA0;
                } else if (byte == 0xED) {
                    utf8_upper_ = 0x9F;
                }
                utf8_needed_ = 2;
                utf8_cp_ = byte & 0x0F;
            } else if (byte >= 0xF0 && byte <= 0xF4) {
                if (byte == 0xF0) {
                    utf8_lower_ = 0x90;
                } else if (byte == 0xF4) {
                    utf8_upper_ = 0x8F;
                }
                utf8_needed_ = 3;
                utf8_cp_ = byte & 0x07;
            } else {
                code_point(0xFFFD, replacement, 3);
                return;
            }
            utf8_bytes_[0] = static_cast<char>(byte);
            utf8_seen_ = 0;
            return;
        }
        if (byte < utf8_lower_ || byte > utf8_upper_) {
            utf8_needed_ = 0;
            utf8_seen_ = 0;
            utf8_cp_ = 0;
            utf8_lower_ = 0x80;
            utf8_upper_ = 0xBF;
            code_point(0xFFFD, replacement, 3);
            if (failed_) {
                return;
            }
            continue; // read `byte` again as the start of something new
        }
        utf8_lower_ = 0x80;
        utf8_upper_ = 0xBF;
        utf8_cp_ = (utf8_cp_ << 6) | (byte & 0x3F);
        ++utf8_seen_;
        utf8_bytes_[utf8_seen_] = static_cast<char>(byte);
        if (utf8_seen_ == utf8_needed_) {
            const auto size = static_cast<std::size_t>(utf8_needed_) + 1;
            const char32_t cp = utf8_cp_;
            utf8_needed_ = 0;
            utf8_seen_ = 0;
            utf8_cp_ = 0;
            code_point(cp, utf8_bytes_, size);
        }
        return;
    }
}

void sse_parser::code_point(char32_t cp, const char* bytes, std::size_t size) {
    if (at_start_) {
        at_start_ = false;
        if (cp == bom) {
            return;
        }
    }
    if (cp == '\r') {
        after_cr_ = true;
        end_line();
        return;
    }
    if (cp == '\n') {
        if (after_cr_) {
            after_cr_ = false; // the LF of a CRLF
            return;
        }
        end_line();
        return;
    }
    after_cr_ = false;
    if (max_buffered_ != 0 && line_.size() + data_.size() + size > max_buffered_) {
        failed_ = true;
        return;
    }
    line_.append(bytes, size);
}

void sse_parser::end_line() {
    const std::string_view line = line_;
    if (line.empty()) {
        dispatch();
    } else if (line.front() != ':') { // a line starting with a colon is a comment
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            field(line, {});
        } else {
            std::string_view value = line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') {
                value.remove_prefix(1);
            }
            field(line.substr(0, colon), value);
        }
    }
    line_.clear();
}

void sse_parser::field(std::string_view name, std::string_view value) {
    if (name == "event") {
        type_.assign(value);
    } else if (name == "data") {
        if (max_buffered_ != 0 && line_.size() + data_.size() + 1 > max_buffered_) {
            failed_ = true;
            return;
        }
        data_.append(value);
        data_.push_back('\n');
    } else if (name == "id") {
        if (value.find('\0') == std::string_view::npos) {
            last_event_id_.assign(value);
            block_has_id_ = true;
        }
    } else if (name == "retry") {
        if (all_digits(value) && on_retry_) {
            on_retry_(saturating_decimal(value));
        }
    }
    // Any other field is ignored.
}

void sse_parser::dispatch() {
    if (data_.empty()) {
        type_.clear();
        block_has_id_ = false;
        return;
    }
    std::string_view data = data_;
    data.remove_suffix(1); // the LF the last data line added
    const sse_event event{
        .type = type_.empty() ? std::string_view("message") : std::string_view(type_),
        .data = data,
        .last_event_id = last_event_id_,
        .has_id = block_has_id_,
    };
    if (on_event_) {
        on_event_(event);
    }
    data_.clear();
    type_.clear();
    block_has_id_ = false;
}

} // namespace posfeed::client
