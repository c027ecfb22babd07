#include "auth/credential.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "http/handlers.hpp"
#include "http/routes.hpp"
#include "pos/json_input.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <unordered_map>

namespace posfeed::http {
namespace {

namespace asio = boost::asio;

/// How long a login of a user name with `f` failures waits before its password is checked:
/// after `free` failures in a row, 250 ms doubling up to 8 s. A success resets the count (the
/// store forgets it); so does 15 minutes without a failure. The failures live in the store, so
/// the throttle holds across restarts and across every node of a database: a guesser cannot
/// multiply attempts by the number of nodes.
std::chrono::milliseconds login_delay(const store::login_failures& f, int free) {
    if (f.count == 0 || f.now_ms - f.last_ms > 15 * 60 * 1000) {
        return std::chrono::milliseconds(0);
    }
    const int over = f.count - free;
    if (over < 0) {
        return std::chrono::milliseconds(0);
    }
    return std::chrono::milliseconds(std::min<std::int64_t>(8000, 250LL << std::min(over, 5)));
}

/// The session cookie. A browser-session cookie (no Max-Age) on login, since the server
/// expires sessions by idle time itself; Max-Age=0 on logout to delete it.
std::string cookie_header(const context& ctx, std::string_view value,
                          std::optional<std::int64_t> max_age_s) {
    std::string c =
        std::string(session_cookie) + "=" + std::string(value) + "; Path=/; HttpOnly; SameSite=Lax";
    if (max_age_s) {
        c += "; Max-Age=" + std::to_string(*max_age_s);
    }
    if (ctx.cfg.sessions.cookie_secure) {
        c += "; Secure";
    }
    return c;
}

struct login_input {
    std::string user;
    std::string password;
    std::string location;
    std::string terminal;
};

core::result<login_input> parse_login(std::string_view body) {
    auto r = pos::body_reader::parse(body);
    if (!r.ok()) {
        return r.take_err();
    }
    auto& in = *r;
    login_input out;
    in.require("User");
    in.require("Password");
    out.user = in.string("User", 200).value_or("");
    out.password = in.string("Password", 1000).value_or("");
    if (const auto l = in.integer("Location", 1, 999'999'999'999)) {
        out.location = std::to_string(*l);
    }
    out.terminal = in.string("Terminal", 100).value_or("");
    if (auto s = in.finish(); !s.ok()) {
        return s.take_err();
    }
    return out;
}

} // namespace

asio::awaitable<response> serve_login(context& ctx, const request& req, const target&) {
    auto in = parse_login(req.body());
    if (!in.ok()) {
        co_return error_response(req, in.err());
    }
    auto failures = [&ctx, user = in->user] { return ctx.db.get_login_failures(user); };
    const auto failed = co_await ctx.pool.run(std::move(failures));
    const auto delay = login_delay(failed, ctx.cfg.sessions.login_free_failures);
    if (delay.count() > 0) {
        // What a guesser shows in the log (the name itself is not logged).
        core::log(
            spdlog::level::info,
            fmt::format("login delayed {} ms: {} failures in a row for this user name (not "
                        "logged)",
                        delay.count(), failed.count),
            {{"delay_ms", static_cast<std::int64_t>(delay.count())}, {"failures", failed.count}});
        asio::steady_timer timer(co_await asio::this_coro::executor, delay);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    auto check = [&ctx, user = in->user, password = in->password] {
        auto checked = auth::check_password(ctx.db, user, password);
        if (checked.ok()) {
            ctx.db.clear_login_failures(user);
        } else {
            ctx.db.record_login_failure(user);
        }
        return checked;
    };
    auto user = co_await ctx.pool.run(std::move(check));
    if (!user.ok()) {
        spdlog::info("login failed for a user name (not logged)");
        co_return error_response(req, user.err());
    }
    auto session = auth::make_session(user->rmsystem, user->name, in->location, in->terminal,
                                      core::system_now_ms());
    auto add = [&ctx, row = session.row] { return ctx.db.add_session(row); };
    if (const auto s = co_await ctx.pool.run(std::move(add)); !s.ok()) {
        co_return error_response(req, s.err());
    }
    std::string body = "{\"data\":{\"Session\":";
    core::append_json_string(body, session.session_id);
    body += ",\"UrlToken\":";
    core::append_json_string(body, session.url_token);
    body += ",\"RmSystem\":";
    core::append_json_string(body, user->rmsystem);
    body += "}}";
    auto res = json_response(req, beast_http::status::ok, std::move(body));
    res.set(beast_http::field::set_cookie, cookie_header(ctx, session.session_id, std::nullopt));
    co_return res;
}

asio::awaitable<response> serve_logout(context& ctx, const request& req, const target& t) {
    auto cred = co_await authenticate(ctx, req, t);
    if (!cred.ok()) {
        co_return error_response(req, cred.err());
    }
    if (cred->kind != auth::credential::kind::session) {
        co_return error_response(
            req, core::error{core::error_code::permission_denied,
                             "logout ends a session: send the session cookie or session="});
    }
    auto end = [&ctx, key = cred->session_key] { return ctx.db.end_session(key); };
    co_await ctx.pool.run(std::move(end));
    // Every stream the session opened, with its cookie, session= or its UrlToken, closes.
    ctx.hub.close_credential(cred->session_key, "the session logged out");
    auto res = json_response(req, beast_http::status::ok, R"({"data":{"LoggedOut":true}})");
    res.set(beast_http::field::set_cookie, cookie_header(ctx, "", 0));
    co_return res;
}

asio::awaitable<response> serve_about_me(context& ctx, const request& req, const target& t) {
    auto cred = co_await authenticate(ctx, req, t);
    if (!cred.ok()) {
        co_return error_response(req, cred.err());
    }
    const auto session_id = presented_session_id(req, t);
    if (cred->kind != auth::credential::kind::session || !session_id) {
        co_return error_response(
            req, core::error{core::error_code::permission_denied,
                             "AboutMe describes a POS session: send the session cookie or "
                             "session="});
    }
    std::string body = "{\"data\":{\"UrlToken\":";
    core::append_json_string(body, auth::url_token_for(*session_id));
    body += ",\"RmSystem\":";
    core::append_json_string(body, cred->rmsystem);
    body += ",\"User\":";
    core::append_json_string(body, cred->user);
    body += ",\"Session\":";
    core::append_json_string(body, *session_id);
    body += "}}";
    co_return json_response(req, beast_http::status::ok, std::move(body));
}

} // namespace posfeed::http
