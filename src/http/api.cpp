#include "core/log.hpp"
#include "http/blocking.hpp"
#include "http/handlers.hpp"
#include "http/routes.hpp"
#include "http/static_assets.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace posfeed::http {
namespace {

namespace asio = boost::asio;
using verb = beast_http::verb;

/// Runs an API route: route, credential, scope, then the read on the pool or the write through
/// the store's writer.
asio::awaitable<response> handle_openapi(context& ctx, const request& req, const target& t) {
    if (t.path == "/openapi/spec.json") {
        if (req.method() != verb::get) {
            co_return error_response(req,
                                     http_error{protocol_code::method_not_allowed,
                                                "/openapi/spec.json answers GET only"},
                                     1, "GET");
        }
        co_return json_response(req, beast_http::status::ok, std::string(openapi_spec()));
    }
    auto matched = match_route(req.method(), t);
    if (!matched.ok()) {
        co_return error_response(req, matched.err(), 1, allowed_methods(t.segments));
    }
    const auto& [r, args] = *matched;
    if (r->serve != nullptr) {
        co_return co_await r->serve(ctx, req, t);
    }
    auto cred = co_await authenticate(ctx, req, t);
    if (!cred.ok()) {
        co_return error_response(req, cred.err());
    }
    if (cred->kind == auth::credential::kind::url_token) {
        co_return error_response(
            req, core::error{core::error_code::permission_denied,
                             "a UrlToken is read-only and for the event source only; "
                             "use the session cookie or an API key"});
    }
    if (r->need == access::session && cred->kind != auth::credential::kind::session) {
        co_return error_response(
            req, core::error{core::error_code::permission_denied,
                             "this route acts for a POS session: log in and send the "
                             "session cookie or session="});
    }
    if (r->write && !cred->allowed.write) {
        co_return error_response(
            req, core::error{core::error_code::permission_denied,
                             "this credential may not write; it needs the 'write' scope"});
    }
    if (const auto scope = read_scope(*r); scope && (cred->allowed.read & core::bit(*scope)) == 0) {
        co_return error_response(req, core::error{core::error_code::permission_denied,
                                                  "this credential may not read '" +
                                                      std::string(core::to_string(*scope)) + "'"});
    }
    auto action = r->handler(req, t, args, *cred);
    if (!action.ok()) {
        co_return error_response(req, action.err());
    }
    if (action->precheck) {
        auto check = [&ctx, rm = cred->rmsystem, fn = std::move(action->precheck)] {
            return fn(ctx.db, rm);
        };
        const auto ok = co_await ctx.pool.run(std::move(check));
        if (!ok.ok()) {
            co_return error_response(req, ok.err());
        }
    }
    if (action->read) {
        auto read = [&ctx, rm = cred->rmsystem, fn = std::move(action->read)] {
            return fn(ctx.db, rm);
        };
        auto body = co_await ctx.pool.run(std::move(read));
        if (!body.ok()) {
            co_return error_response(req, body.err());
        }
        co_return json_response(req, beast_http::status::ok, std::move(*body));
    }
    if (int retry = 1; !ctx.writes.allow(cred->id, retry)) {
        co_return error_response(
            req,
            core::error{core::error_code::resource_exhausted,
                        "this credential sends more than limits.writes_per_second (" +
                            std::to_string(ctx.cfg.limits.writes_per_second) +
                            ") writes a second; slow down"},
            retry);
    }
    if (ctx.shutting_down) {
        co_return error_response(req,
                                 core::error{core::error_code::unavailable,
                                             "the server is shutting down; retry on another node"});
    }
    const auto submitted = std::chrono::steady_clock::now();
    // A key may come from the cache (authenticate): the store re-checks it in the write's own
    // transaction, so a key revoked a moment ago cannot commit.
    store::write_guard guard;
    if (cred->kind == auth::credential::kind::api_key) {
        guard.api_key = cred->id;
    }
    auto result = co_await async_write(ctx.db, cred->rmsystem, std::move(action->write),
                                       std::move(guard), asio::use_awaitable);
    ctx.stats.commit_latency(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted).count());
    if (!result.body.ok()) {
        co_return error_response(req, result.body.err());
    }
    co_return json_response(req, action->success, std::move(*result.body));
}

} // namespace

asio::awaitable<response> handle_request(context& ctx, const request& req, const target& t,
                                         const asio::ip::address& peer) {
    try {
        if (t.path == "/healthz") {
            if (req.method() != verb::get && req.method() != verb::head) {
                co_return error_response(req,
                                         http_error{protocol_code::method_not_allowed,
                                                    "/healthz answers GET and HEAD only"},
                                         1, "GET, HEAD");
            }
            auto probe = [&ctx] { return ctx.db.healthy(); };
            const bool db_ok = co_await ctx.pool.run(std::move(probe));
            co_return json_response(
                req, db_ok ? beast_http::status::ok : beast_http::status::service_unavailable,
                db_ok ? R"({"status":"ok","database":"ok"})"
                      : R"({"status":"degraded","database":"unavailable"})");
        }
        if (t.path == "/metrics") {
            if (req.method() != verb::get) {
                co_return error_response(
                    req, http_error{protocol_code::method_not_allowed, "/metrics answers GET only"},
                    1, "GET");
            }
            const bool forwarded =
                header(req, "X-Forwarded-For").has_value() || header(req, "Forwarded").has_value();
            if (auto denied = metrics_access(ctx.cfg.metrics.token, header(req, "Authorization"),
                                             peer, forwarded)) {
                auto res = error_response(req, *denied);
                if (denied->is(core::error_code::unauthenticated)) {
                    res.set(beast_http::field::www_authenticate,
                            R"(Bearer realm="posfeed metrics")");
                }
                co_return res;
            }
            auto probe = [&ctx] { return ctx.db.healthy(); };
            metrics::gauges now;
            now.database_up = co_await ctx.pool.run(std::move(probe));
            now.connections = ctx.connections.load();
            now.max_connections = ctx.cfg.limits.max_connections;
            now.streams = ctx.hub.subscriber_count();
            now.queued_bytes = ctx.hub.queued_bytes();
            auto res =
                json_response(req, beast_http::status::ok, ctx.stats.render(now, ctx.db.stats()));
            res.set(beast_http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
            res.set(beast_http::field::cache_control, "no-store");
            co_return res;
        }
        if (!t.segments.empty() && t.segments[0] == "openapi") {
            co_return co_await handle_openapi(ctx, req, t);
        }
        if (const auto asset = find_static_asset(t.path)) {
            co_return static_asset_response(req, *asset);
        }
        if (t.path == "/" && (req.method() == verb::get || req.method() == verb::head)) {
            // The demo's front door: the test page.
            response res{beast_http::status::found, req.version()};
            res.set(beast_http::field::server, "posfeed");
            res.set(beast_http::field::location, "/report/pos/tests/eventsource.htm");
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            co_return res;
        }
        co_return error_response(req, core::not_found("no route " + t.path));
    } catch (const store::data_error& e) {
        spdlog::error("{} {} failed on damaged data: {}", std::string_view(req.method_string()),
                      core::redact_target(req.target()), e.what());
        co_return error_response(req, core::internal_error(e.what()));
    } catch (const store::store_error& e) {
        spdlog::error("database error: {}", e.what());
        co_return error_response(req, core::error{core::error_code::unavailable,
                                                  "the database is unavailable; retry later"});
    }
}

} // namespace posfeed::http
