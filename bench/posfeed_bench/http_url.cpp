#include "http_url.hpp"

#include <boost/asio/ip/address_v4.hpp>

#include <charconv>
#include <stdexcept>

namespace posfeed_bench {

std::optional<http_url> parse_http_url(std::string_view text) {
    constexpr std::string_view scheme = "http://";
    if (!text.starts_with(scheme)) {
        return std::nullopt;
    }
    text.remove_prefix(scheme.size());
    const auto slash = text.find('/');
    const std::string_view authority = text.substr(0, slash);
    http_url url{.host = {}, .port = 80, .target = "/"};
    if (slash != std::string_view::npos) {
        url.target = std::string(text.substr(slash));
    }
    const auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
        const std::string_view port = authority.substr(colon + 1);
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
            return std::nullopt;
        }
        url.port = static_cast<std::uint16_t>(value);
    }
    boost::system::error_code ec;
    boost::asio::ip::make_address_v4(url.host, ec);
    if (ec) {
        return std::nullopt;
    }
    return url;
}

std::vector<http_url> parse_http_url_list(std::string_view text, std::string_view flag) {
    constexpr std::string_view separator = ",http://";
    std::vector<http_url> urls;
    while (true) {
        const auto next = text.find(separator);
        const std::string_view entry = text.substr(0, next);
        auto url = parse_http_url(entry);
        if (!url) {
            throw std::runtime_error(std::string(flag) + " must be http://IPV4:PORT/... or a " +
                                     "comma-separated list of them; '" + std::string(entry) +
                                     "' is not");
        }
        urls.push_back(std::move(*url));
        if (next == std::string_view::npos) {
            return urls;
        }
        text.remove_prefix(next + 1);
    }
}

} // namespace posfeed_bench
