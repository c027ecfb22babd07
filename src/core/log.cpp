#include "core/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cctype>
#include <string>

namespace posfeed::core {

void init_logging(std::string_view level) {
    auto logger = spdlog::stderr_logger_mt("posfeed");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    logger->set_level(spdlog::level::from_str(std::string(level)));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

namespace {

/// Percent-decodes `s` (malformed escapes are kept as they are) for comparing names.
std::string decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() &&
            std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out.push_back(
                static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i] == '+' ? ' ' : s[i]);
        }
    }
    return out;
}

/// The path with the segment after `Sessions` (a session id, which is a credential) redacted,
/// however the client spelt it: empty segments in between, or an encoded slash.
std::string redact_path(std::string_view path) {
    std::string out;
    bool next_is_secret = false;
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const std::string_view seg = path.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        std::string plain = decode(seg);
        for (char& c : plain) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (seg.empty()) {
            // keep waiting for the id after `Sessions//`
        } else if (next_is_secret) {
            out += "[redacted]";
            next_is_secret = false;
        } else if (plain == "sessions") {
            out += seg;
            next_is_secret = true;
        } else if (plain.starts_with("sessions/")) {
            out += "Sessions%2F[redacted]";
            next_is_secret = plain == "sessions/"; // `Sessions%2F/<id>`
        } else {
            out += seg;
        }
        if (slash == std::string_view::npos) {
            break;
        }
        out.push_back('/');
        start = slash + 1;
    }
    return out;
}

} // namespace

std::string redact_target(std::string_view target) {
    static constexpr std::array<std::string_view, 5> secret_keys = {"token", "session", "api_key",
                                                                    "key", "password"};
    const auto q = target.find('?');
    if (q == std::string_view::npos) {
        return redact_path(target);
    }
    std::string out = redact_path(target.substr(0, q)) + "?";
    std::string_view rest = target.substr(q + 1);
    bool first = true;
    while (true) {
        const auto amp = rest.find('&');
        const std::string_view part = rest.substr(0, amp);
        if (!first) {
            out.push_back('&');
        }
        first = false;
        const auto eq = part.find('=');
        const std::string_view name = part.substr(0, eq);
        std::string plain = decode(name);
        for (char& c : plain) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        bool secret = false;
        for (const auto k : secret_keys) {
            if (plain == k) {
                secret = true;
            }
        }
        if (secret && eq != std::string_view::npos) {
            out.append(name).append("=[redacted]");
        } else {
            out.append(part);
        }
        if (amp == std::string_view::npos) {
            break;
        }
        rest = rest.substr(amp + 1);
    }
    return out;
}

} // namespace posfeed::core
