#include "http/handlers.hpp"

namespace posfeed::http {

std::optional<std::string_view> cookie_value(const request& req, std::string_view name) {
    for (auto it = req.find(beast_http::field::cookie);
         it != req.end() && it->name() == beast_http::field::cookie; ++it) {
        std::string_view rest(it->value().data(), it->value().size());
        while (!rest.empty()) {
            const auto semi = rest.find(';');
            std::string_view pair = rest.substr(0, semi);
            rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
            while (!pair.empty() && pair.front() == ' ') {
                pair.remove_prefix(1);
            }
            const auto eq = pair.find('=');
            if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
                return pair.substr(eq + 1);
            }
        }
    }
    return std::nullopt;
}

std::optional<std::string> presented_session_id(const request& req, const target& t) {
    if (const auto s = t.param("session")) {
        return std::string(*s);
    }
    if (const auto c = cookie_value(req, session_cookie)) {
        return std::string(*c);
    }
    return std::nullopt;
}

boost::asio::awaitable<core::result<auth::credential>>
authenticate(context& ctx, const request& req, const target& t) {
    const std::int64_t now = core::system_now_ms();
    const std::int64_t idle = ctx.cfg.sessions.idle_ms;
    if (const auto key = header(req, "X-Api-Key")) {
        // A key this process checked before needs no read of the store (decision 40).
        if (auto cached = ctx.keys.find(*key)) {
            co_return std::move(*cached);
        }
        auto lookup = [&ctx, k = std::string(*key)] {
            return auth::authenticate_api_key(ctx.db, k, &ctx.keys);
        };
        co_return co_await ctx.pool.run(std::move(lookup));
    }
    if (const auto token = t.param("token")) {
        auto lookup = [&ctx, k = std::string(*token), now, idle] {
            return auth::authenticate_url_token(ctx.db, k, now, idle);
        };
        co_return co_await ctx.pool.run(std::move(lookup));
    }
    if (const auto session = presented_session_id(req, t)) {
        auto lookup = [&ctx, k = *session, now, idle] {
            return auth::authenticate_session(ctx.db, k, now, idle);
        };
        co_return co_await ctx.pool.run(std::move(lookup));
    }
    co_return core::error{
        core::error_code::unauthenticated,
        "no credential: send an X-Api-Key header, or log in and send the session cookie, "
        "session= or token="};
}

} // namespace posfeed::http
