#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posfeed_bench {

/// A plain `http://HOST:PORT/target` URL, split for a raw HTTP/1.1 client. HOST must be an
/// IPv4 literal (the tool only talks to loopback servers).
struct http_url {
    std::string host;   ///< IPv4 literal, e.g. 127.0.0.1
    std::uint16_t port; ///< 80 when the URL names none
    std::string target; ///< path and query, at least "/"
    std::string authority() const { return host + ":" + std::to_string(port); }
};

/// Parses `text`; nullopt when it is not `http://IPV4[:PORT][/...]`.
[[nodiscard]] std::optional<http_url> parse_http_url(std::string_view text);

/// Parses the value of a URL flag (`flag`, e.g. "--stream-url"): one URL, or several separated
/// by commas. A comma separates entries only where `http://` follows it, so a comma inside a
/// URL (`?want=products,levels`) stays in that URL. Throws std::runtime_error naming `flag` and
/// the entry when an entry is not `http://IPV4[:PORT][/...]`.
[[nodiscard]] std::vector<http_url> parse_http_url_list(std::string_view text,
                                                        std::string_view flag);

} // namespace posfeed_bench
