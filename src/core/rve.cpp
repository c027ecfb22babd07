#include "core/rve.hpp"

#include <chrono>

namespace posfeed::core {
namespace {

using days = std::chrono::days;

void put_digits(char* out, std::int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

bool all_digits(std::string_view s) {
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return !s.empty();
}

int to_int(std::string_view s) {
    int v = 0;
    for (const char c : s) {
        v = v * 10 + (c - '0');
    }
    return v;
}

} // namespace

void rve::append_to(std::string& out) const {
    if (ms <= 0) {
        out.push_back('0');
        return;
    }
    const std::chrono::sys_time<std::chrono::milliseconds> t{std::chrono::milliseconds{ms}};
    const auto day = std::chrono::floor<days>(t);
    const std::chrono::year_month_day ymd{day};
    std::int64_t in_day = (t - day).count();
    char buf[18];
    put_digits(buf, static_cast<int>(ymd.year()), 4);
    put_digits(buf + 4, static_cast<unsigned>(ymd.month()), 2);
    put_digits(buf + 6, static_cast<unsigned>(ymd.day()), 2);
    buf[8] = '.';
    put_digits(buf + 9, in_day / 3600000, 2);
    in_day %= 3600000;
    put_digits(buf + 11, in_day / 60000, 2);
    in_day %= 60000;
    put_digits(buf + 13, in_day / 1000, 2);
    put_digits(buf + 15, in_day % 1000, 3);
    out.append(buf, sizeof buf);
}

std::string rve::str() const {
    std::string out;
    out.reserve(18);
    append_to(out);
    return out;
}

std::optional<rve> parse_rve(std::string_view text) {
    if (text == "0") {
        return rve{0};
    }
    if (text.size() < 10 || text.size() > 18 || text[8] != '.') {
        return std::nullopt;
    }
    const std::string_view date = text.substr(0, 8);
    const std::string_view frac = text.substr(9);
    if (!all_digits(date) || !all_digits(frac)) {
        return std::nullopt;
    }
    char time[9];
    for (int i = 0; i < 9; ++i) {
        time[i] = i < static_cast<int>(frac.size()) ? frac[i] : '0';
    }
    const std::string_view t(time, 9);
    const int hh = to_int(t.substr(0, 2));
    const int mi = to_int(t.substr(2, 2));
    const int ss = to_int(t.substr(4, 2));
    const int ms = to_int(t.substr(6, 3));
    if (hh > 23 || mi > 59 || ss > 59) {
        return std::nullopt;
    }
    const std::chrono::year_month_day ymd{
        std::chrono::year{to_int(date.substr(0, 4))},
        std::chrono::month{static_cast<unsigned>(to_int(date.substr(4, 2)))},
        std::chrono::day{static_cast<unsigned>(to_int(date.substr(6, 2)))}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    const std::int64_t day_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::sys_days{ymd}.time_since_epoch())
                                    .count();
    const std::int64_t value = day_ms + ((hh * 60 + mi) * 60 + ss) * 1000LL + ms;
    if (value <= 0) {
        return std::nullopt;
    }
    return rve{value};
}

std::string iso_time(rve v) {
    const std::string s = v.str(); // YYYYMMDD.HHmmSSCCC
    if (s.size() != 18) {
        return "1970-01-01T00:00:00.000Z";
    }
    return s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2) + "T" + s.substr(9, 2) +
           ":" + s.substr(11, 2) + ":" + s.substr(13, 2) + "." + s.substr(15, 3) + "Z";
}

std::int64_t system_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

rve rve_clock::next(rve previous) const {
    const std::int64_t now = now_();
    return rve{now > previous.ms ? now : previous.ms + 1};
}

} // namespace posfeed::core
