#include "auth/credential.hpp"
#include "http/blocking.hpp"
#include "http/handlers.hpp"
#include "pos/customers.hpp"
#include "pos/levels.hpp"
#include "pos/products.hpp"
#include "pos/records.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace posfeed::http {
namespace {

namespace asio = boost::asio;
using verb = beast_http::verb;

/// A write request ready for the store: which write, and the status of its success.
struct prepared_write {
    store::write_fn fn;
    beast_http::status success = beast_http::status::ok;
};

core::error method_not_allowed(const request& req, std::string_view allowed) {
    return core::error{core::error_code::method_not_allowed,
                       "method " + std::string(req.method_string()) + " is not allowed here; use " +
                           std::string(allowed)};
}

/// Maps a write route to its validated write, or the error to answer. Validation runs here,
/// on the I/O thread, so the store's writer only applies.
core::result<prepared_write> route_write(const request& req, const target& t) {
    const auto& seg = t.segments; // seg[0] == "openapi"
    const auto with = [](auto parsed, auto make, beast_http::status st) -> core::result<prepared_write> {
        if (!parsed.ok()) {
            return parsed.take_err();
        }
        return prepared_write{make(std::move(*parsed)), st};
    };
    if (seg.size() == 2 && seg[1] == "Products") {
        if (req.method() != verb::post) {
            return method_not_allowed(req, "POST");
        }
        return with(pos::parse_product_input(req.body(), true), pos::create_product, beast_http::status::created);
    }
    if (seg.size() == 3 && seg[1] == "Products") {
        if (req.method() != verb::patch) {
            return method_not_allowed(req, "PATCH");
        }
        const auto pid = pos::parse_id(seg[2], "Pid");
        if (!pid.ok()) {
            return pid.err();
        }
        return with(pos::parse_product_input(req.body(), false),
                    [p = *pid](pos::product_input in) { return pos::patch_product(p, std::move(in)); },
                    beast_http::status::ok);
    }
    if (seg.size() == 2 && seg[1] == "Customers") {
        if (req.method() != verb::post) {
            return method_not_allowed(req, "POST");
        }
        return with(pos::parse_customer_input(req.body(), true), pos::create_customer, beast_http::status::created);
    }
    if (seg.size() == 3 && seg[1] == "Customers") {
        if (req.method() != verb::patch) {
            return method_not_allowed(req, "PATCH");
        }
        const auto cid = pos::parse_id(seg[2], "Cid");
        if (!cid.ok()) {
            return cid.err();
        }
        return with(pos::parse_customer_input(req.body(), false),
                    [c = *cid](pos::customer_input in) { return pos::patch_customer(c, std::move(in)); },
                    beast_http::status::ok);
    }
    if (seg.size() == 2 && seg[1] == "StockAdjustments") {
        if (req.method() != verb::post) {
            return method_not_allowed(req, "POST");
        }
        return with(pos::parse_stock_adjustment(req.body()), pos::adjust_stock, beast_http::status::ok);
    }
    return core::not_found("no API route " + t.path + "; see /openapi/spec.json");
}

asio::awaitable<response> handle_openapi(context& ctx, const request& req, const target& t) {
    auto cred = co_await authenticate(ctx, req);
    if (!cred.ok()) {
        co_return error_response(req, cred.err());
    }
    auto w = route_write(req, t);
    if (!w.ok()) {
        co_return error_response(req, w.err());
    }
    if (!cred->allowed.write) {
        co_return error_response(req, core::error{core::error_code::permission_denied,
                                                  "this credential may not write; it needs the 'write' scope"});
    }
    if (ctx.shutting_down) {
        co_return error_response(req, core::error{core::error_code::unavailable,
                                                  "the server is shutting down; retry on another node"});
    }
    auto result = co_await async_write(ctx.db, cred->rmsystem, std::move(w->fn), asio::use_awaitable);
    if (!result.body.ok()) {
        co_return error_response(req, result.body.err());
    }
    co_return json_response(req, w->success, std::move(*result.body));
}

} // namespace

asio::awaitable<response> handle_request(context& ctx, const request& req, const target& t) {
    try {
        if (t.path == "/healthz") {
            if (req.method() != verb::get && req.method() != verb::head) {
                co_return error_response(req, method_not_allowed(req, "GET"));
            }
            auto probe = [&ctx] { return ctx.db.healthy(); };
            const bool db_ok = co_await ctx.pool.run(std::move(probe));
            co_return json_response(req, db_ok ? beast_http::status::ok : beast_http::status::service_unavailable,
                                    db_ok ? R"({"status":"ok","database":"ok"})"
                                          : R"({"status":"degraded","database":"unavailable"})");
        }
        if (!t.segments.empty() && t.segments[0] == "openapi") {
            co_return co_await handle_openapi(ctx, req, t);
        }
        co_return error_response(req, core::not_found("no route " + t.path));
    } catch (const store::store_error& e) {
        spdlog::error("database error: {}", e.what());
        co_return error_response(req, core::error{core::error_code::unavailable,
                                                  "the database is unavailable; retry later"});
    }
}

} // namespace posfeed::http
