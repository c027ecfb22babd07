#include "stream_parser.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace posfeed_bench {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool icontains(std::string_view haystack, std::string_view needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                       [](char x, char y) {
                           return std::tolower(static_cast<unsigned char>(x)) ==
                                  std::tolower(static_cast<unsigned char>(y));
                       }) != haystack.end();
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

} // namespace

bool parse_response_head(std::string_view text, response_head& head) {
    head = response_head{};
    auto eol = text.find('\n');
    if (eol == std::string_view::npos) {
        return false;
    }
    const std::string_view status_line = trim(text.substr(0, eol));
    // "HTTP/1.1 200 OK"
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
        return false;
    }
    const std::string_view code = status_line.substr(9, 3);
    const auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), head.status);
    if (ec != std::errc{} || end != code.data() + code.size()) {
        return false;
    }
    if (status_line.substr(0, 8) == "HTTP/1.0") {
        head.close = true;
    }
    text.remove_prefix(eol + 1);
    while (!text.empty()) {
        eol = text.find('\n');
        const std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "content-length")) {
            std::int64_t n = 0;
            const auto r = std::from_chars(value.data(), value.data() + value.size(), n);
            if (r.ec != std::errc{}) {
                return false;
            }
            head.content_length = n;
        } else if (iequals(name, "transfer-encoding")) {
            head.chunked = icontains(value, "chunked");
        } else if (iequals(name, "connection")) {
            head.close = icontains(value, "close");
        }
    }
    return true;
}

std::int64_t find_bench_seq(std::string_view text) {
    constexpr std::string_view token = "bench-";
    std::size_t from = 0;
    while (true) {
        const auto at = text.find(token, from);
        if (at == std::string_view::npos) {
            return -1;
        }
        std::size_t i = at + token.size();
        std::int64_t seq = 0;
        const std::size_t digits_from = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            seq = seq * 10 + (text[i] - '0');
            ++i;
        }
        if (i > digits_from && i < text.size() && text[i] == '-') {
            return seq;
        }
        from = at + 1;
    }
}

} // namespace posfeed_bench
