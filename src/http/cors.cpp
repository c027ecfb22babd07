#include "http/cors.hpp"

#include <algorithm>

namespace posfeed::http {
namespace {

std::optional<std::string_view> allowed_origin(const core::config& cfg, const request& req) {
    const auto origin = header(req, "Origin");
    if (!origin) {
        return std::nullopt;
    }
    const bool listed = std::find(cfg.cors_origins.begin(), cfg.cors_origins.end(), *origin) !=
                        cfg.cors_origins.end();
    return listed ? origin : std::nullopt;
}

} // namespace

void apply_cors(const core::config& cfg, const request& req, beast_http::fields& res) {
    if (cfg.cors_origins.empty()) {
        return;
    }
    res.set(beast_http::field::vary, "Origin");
    if (const auto origin = allowed_origin(cfg, req)) {
        res.set(beast_http::field::access_control_allow_origin, *origin);
        res.set(beast_http::field::access_control_allow_credentials, "true");
        // A cross-origin client (posfeed.js) reads Retry-After on 429/503 to time its retry.
        res.set(beast_http::field::access_control_expose_headers, "Retry-After");
    }
}

response preflight_response(const core::config& cfg, const request& req) {
    if (!allowed_origin(cfg, req)) {
        auto res =
            error_response(req, core::error{core::error_code::permission_denied,
                                            "this origin is not allowed; list it in cors_origins"});
        apply_cors(cfg, req, res);
        return res;
    }
    response res{beast_http::status::no_content, req.version()};
    res.set(beast_http::field::server, "posfeed");
    apply_cors(cfg, req, res);
    res.set(beast_http::field::access_control_allow_methods, "GET, POST, PATCH, DELETE, OPTIONS");
    res.set(beast_http::field::access_control_allow_headers,
            "Content-Type, X-Api-Key, Last-Event-ID");
    res.set(beast_http::field::access_control_max_age, "600");
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

} // namespace posfeed::http
