#include "http/request.hpp"

#include <boost/url/parse.hpp>

namespace posfeed::http {

std::optional<std::string_view> target::param(std::string_view name) const {
    for (const auto& [k, v] : params) {
        if (k == name) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

core::result<target> parse_target(std::string_view raw) {
    const auto parsed = boost::urls::parse_origin_form(raw);
    if (!parsed) {
        return core::invalid_argument("the request target is not a valid path and query");
    }
    target t;
    t.path = std::string(parsed->encoded_path().decode());
    for (const auto seg : parsed->segments()) {
        t.segments.emplace_back(seg);
    }
    for (const auto p : parsed->params()) {
        t.params.emplace_back(p.key, p.has_value ? p.value : std::string());
    }
    return t;
}

std::optional<std::string_view> header(const request& req, std::string_view name) {
    const auto it = req.find(name);
    if (it == req.end()) {
        return std::nullopt;
    }
    return std::string_view(it->value().data(), it->value().size());
}

response json_response(const request& req, beast_http::status status, std::string body) {
    response res{status, req.version()};
    res.set(beast_http::field::server, "posfeed");
    res.set(beast_http::field::content_type, "application/json");
    res.set(beast_http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

response error_response(const request& req, const http_error& err, int retry_after_s,
                        std::string_view allow) {
    auto res = json_response(req, static_cast<beast_http::status>(err.status()), error_body(err));
    if (err.is(core::error_code::resource_exhausted) || err.is(core::error_code::unavailable)) {
        res.set(beast_http::field::retry_after, std::to_string(retry_after_s));
    }
    if (err.is(protocol_code::method_not_allowed) && !allow.empty()) {
        res.set(beast_http::field::allow, allow);
    }
    if (err.is(core::error_code::unauthenticated)) {
        res.set(beast_http::field::www_authenticate, "ApiKey header=\"X-Api-Key\"");
    }
    return res;
}

} // namespace posfeed::http
