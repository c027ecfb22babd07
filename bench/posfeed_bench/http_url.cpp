#include "http_url.hpp"

#include <boost/asio/ip/address_v4.hpp>

#include <charconv>

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

} // namespace posfeed_bench
