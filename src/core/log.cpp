#include "core/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>

namespace posfeed::core {

void init_logging(std::string_view level) {
    auto logger = spdlog::stderr_logger_mt("posfeed");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    logger->set_level(spdlog::level::from_str(std::string(level)));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

std::string redact_target(std::string_view target) {
    static constexpr std::array<std::string_view, 5> secret_keys = {"token", "session", "api_key",
                                                                    "key", "password"};
    const auto q = target.find('?');
    if (q == std::string_view::npos) {
        return std::string(target);
    }
    std::string out(target.substr(0, q + 1));
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
        bool secret = false;
        for (const auto k : secret_keys) {
            if (name == k) {
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
