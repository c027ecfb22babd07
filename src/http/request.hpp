#pragma once

#include "core/error.hpp"
#include "http/http_error.hpp"

#include <boost/beast/http.hpp>
#include <boost/url/url_view.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posfeed::http {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using response = beast_http::response<beast_http::string_body>;

/// A request target split into decoded path segments and decoded query parameters (Boost.URL).
struct target {
    std::string path;                  ///< decoded path, e.g. `/openapi/Products/12`
    std::vector<std::string> segments; ///< decoded, without empty leading segment
    std::vector<std::pair<std::string, std::string>> params;

    /// The first value of parameter `name`, decoded; nullopt when absent.
    std::optional<std::string_view> param(std::string_view name) const;
};

/// Parses an origin-form target (`/path?query`); invalid_argument when it is not one.
core::result<target> parse_target(std::string_view raw);

/// A header value, or nullopt.
std::optional<std::string_view> header(const request& req, std::string_view name);

/// A JSON response with the usual headers.
response json_response(const request& req, beast_http::status status, std::string body);

/// The JSON error response for `err` (its status(), body from error_body). 429 and 503 carry
/// `Retry-After: retry_after_s`; 405 carries `Allow: allow` when given.
response error_response(const request& req, const http_error& err, int retry_after_s = 1,
                        std::string_view allow = {});

} // namespace posfeed::http
