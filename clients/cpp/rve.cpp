#include "rve.hpp"

namespace posfeed::client {

namespace {

std::strong_ordering compare_integer(std::string_view a, std::string_view b) {
    while (a.size() > 1 && a.front() == '0') {
        a.remove_prefix(1);
    }
    while (b.size() > 1 && b.front() == '0') {
        b.remove_prefix(1);
    }
    if (a.size() != b.size()) {
        return a.size() <=> b.size();
    }
    return a.compare(b) <=> 0;
}

std::strong_ordering compare_fraction(std::string_view a, std::string_view b) {
    const auto n = a.size() > b.size() ? a.size() : b.size();
    for (std::size_t i = 0; i < n; ++i) {
        const char x = i < a.size() ? a[i] : '0';
        const char y = i < b.size() ? b[i] : '0';
        if (x != y) {
            return x <=> y;
        }
    }
    return std::strong_ordering::equal;
}

struct parts {
    std::string_view integer;
    std::string_view fraction;
};

parts split(std::string_view rve) {
    const auto dot = rve.find('.');
    if (dot == std::string_view::npos) {
        return {rve, {}};
    }
    return {rve.substr(0, dot), rve.substr(dot + 1)};
}

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_number_char(char c) {
    return (c >= '0' && c <= '9') || c == '.';
}

} // namespace

std::strong_ordering compare_rve(std::string_view a, std::string_view b) {
    const parts x = split(a);
    const parts y = split(b);
    if (const auto c = compare_integer(x.integer, y.integer); c != 0) {
        return c;
    }
    return compare_fraction(x.fraction, y.fraction);
}

std::string_view packet_rve(std::string_view data) {
    std::size_t first = 0;
    while (first < data.size() && is_blank(data[first])) {
        ++first;
    }
    if (first < data.size() && data[first] == '{') {
        // Inside a JSON string every quote is escaped, so `"RVE":` only matches a member name.
        constexpr std::string_view key = "\"RVE\":";
        const auto at = data.find(key, first);
        if (at == std::string_view::npos) {
            return {};
        }
        auto begin = at + key.size();
        while (begin < data.size() && is_blank(data[begin])) {
            ++begin;
        }
        auto end = begin;
        while (end < data.size() && is_number_char(data[end])) {
            ++end;
        }
        return data.substr(begin, end - begin);
    }
    // In XML text `<` is always escaped, so `<RVE>` only matches an element.
    constexpr std::string_view open = "<RVE>";
    const auto at = data.find(open, first);
    if (at == std::string_view::npos) {
        return {};
    }
    const auto begin = at + open.size();
    const auto end = data.find("</RVE>", begin);
    if (end == std::string_view::npos) {
        return {};
    }
    return data.substr(begin, end - begin);
}

} // namespace posfeed::client
