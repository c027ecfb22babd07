#pragma once

#include "auth/credential.hpp"
#include "core/error.hpp"
#include "http/context.hpp"
#include "http/request.hpp"

#include "store/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace posfeed::http {

/// What a JSON API request asks the store to do, decided (and its input validated) on the I/O
/// thread; run by the API executor.
struct api_action {
    /// A write: its function and the status on success (201 for creates).
    store::write_fn write;
    beast_http::status success = beast_http::status::ok;
    /// A read, run on the blocking pool: returns the response body.
    std::function<core::result<std::string>(store::store&, const std::string& rmsystem)> read;
    /// A check run on the blocking pool before the write (e.g. that a named session exists in
    /// the caller's RmSystem).
    std::function<core::status(store::store&, const std::string& rmsystem)> precheck;
};

/// Prepares the action of one route. `args` are the path parameters in order.
using route_handler = core::result<api_action> (*)(const request& req, const target& t,
                                                   const std::vector<std::string>& args,
                                                   const auth::credential& cred);

/// A route that answers by itself (login, logout, AboutMe: they set cookies or need the
/// presented session id).
using route_server = boost::asio::awaitable<response> (*)(context& ctx, const request& req,
                                                          const target& t);

/// Who may call a route.
enum class access {
    credential, ///< an API key or a session (never a UrlToken: it is for the event source only)
    session,    ///< a session (cookie or `session=`): the POS terminal routes
    open,       ///< anyone (login); the route authenticates by itself
};

/// One route of the JSON API. Patterns name path parameters in braces, as OpenAPI does.
struct route {
    beast_http::verb method;
    std::string_view pattern; ///< e.g. `/openapi/Products/{Pid}`
    route_handler handler;    ///< nullptr when `serve` answers
    bool write;               ///< needs the `write` scope
    access need = access::credential;
    route_server serve = nullptr;
};

/// The served routes (http/sessions.cpp).
boost::asio::awaitable<response> serve_login(context& ctx, const request& req, const target& t);
boost::asio::awaitable<response> serve_logout(context& ctx, const request& req, const target& t);
boost::asio::awaitable<response> serve_about_me(context& ctx, const request& req, const target& t);

/// The event type whose read scope a read route needs (GET Products needs `products`, ...),
/// or nullopt when the route reads nothing scoped.
std::optional<core::event_type> read_scope(const route& r);

/// Every route of the JSON API (the OpenAPI description is checked against this table).
const std::vector<route>& api_routes();

/// The route for `method` and `path` with its path parameters; not_found when no pattern
/// matches the path, method_not_allowed (listing the allowed methods) when only the method
/// differs.
core::result<std::pair<const route*, std::vector<std::string>>, http_error>
match_route(beast_http::verb method, const target& t);

/// The methods the API routes allow on `path`, comma-separated (for `Allow` on a 405); ""
/// when no route matches the path.
std::string allowed_methods(const std::vector<std::string>& segments);

/// The OpenAPI 3 description served at /openapi/spec.json (embedded at build time).
std::string_view openapi_spec();

} // namespace posfeed::http
