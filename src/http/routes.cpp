#include "http/routes.hpp"

#include "pos/customers.hpp"
#include "pos/levels.hpp"
#include "pos/products.hpp"
#include "pos/queries.hpp"
#include "pos/records.hpp"
#include "pos/sales.hpp"

namespace posfeed::http {
namespace {

using verb = beast_http::verb;
using args_t = std::vector<std::string>;

/// Wraps a validated input and a write constructor into an action.
template <class Input, class Make>
core::result<api_action> write_action(core::result<Input> in, Make make, beast_http::status st) {
    if (!in.ok()) {
        return in.take_err();
    }
    api_action a;
    a.write = make(std::move(*in));
    a.success = st;
    return a;
}

pos::param_getter params_of(const target& t) {
    return [&t](std::string_view name) { return t.param(name); };
}

/// A list read; the target's parameters are copied, since the action outlives the request.
api_action list_action(const target& t, std::string_view kind) {
    api_action a;
    a.read = [params = t.params, kind](store::store& db, const std::string& rm) {
        target copy;
        copy.params = params;
        return pos::list_page(db, rm, kind, params_of(copy));
    };
    return a;
}

core::result<api_action> one_action(std::string_view kind, std::string_view id_name,
                                    const std::string& segment, std::string_view what) {
    const auto id = pos::parse_id(segment, id_name);
    if (!id.ok()) {
        return id.err();
    }
    api_action a;
    a.read = [kind, id = std::to_string(*id), what = std::string(what) + " " + std::to_string(*id)](
                 store::store& db, const std::string& rm) {
        return pos::get_one(db, rm, kind, id, what);
    };
    return a;
}

core::result<api_action> delete_action(std::string_view kind, std::string_view id_name,
                                       const std::string& segment, std::string_view what,
                                       core::event_type type) {
    const auto id = pos::parse_id(segment, id_name);
    if (!id.ok()) {
        return id.err();
    }
    api_action a;
    a.write = pos::delete_record(kind, *id, std::string(what) + " " + std::to_string(*id), type);
    return a;
}

core::result<api_action> list_products(const request&, const target& t, const args_t&) {
    return list_action(t, pos::product_kind);
}
core::result<api_action> create_product(const request& req, const target&, const args_t&) {
    return write_action(pos::parse_product_input(req.body(), true), pos::create_product,
                        beast_http::status::created);
}
core::result<api_action> get_product(const request&, const target&, const args_t& a) {
    return one_action(pos::product_kind, "Pid", a[0], "product");
}
core::result<api_action> patch_product(const request& req, const target&, const args_t& a) {
    const auto pid = pos::parse_id(a[0], "Pid");
    if (!pid.ok()) {
        return pid.err();
    }
    return write_action(
        pos::parse_product_input(req.body(), false),
        [p = *pid](pos::product_input in) { return pos::patch_product(p, std::move(in)); },
        beast_http::status::ok);
}
core::result<api_action> delete_product(const request&, const target&, const args_t& a) {
    return delete_action(pos::product_kind, "Pid", a[0], "product", core::event_type::products);
}

core::result<api_action> list_customers(const request&, const target& t, const args_t&) {
    return list_action(t, pos::customer_kind);
}
core::result<api_action> create_customer(const request& req, const target&, const args_t&) {
    return write_action(pos::parse_customer_input(req.body(), true), pos::create_customer,
                        beast_http::status::created);
}
core::result<api_action> get_customer(const request&, const target&, const args_t& a) {
    return one_action(pos::customer_kind, "Cid", a[0], "customer");
}
core::result<api_action> patch_customer(const request& req, const target&, const args_t& a) {
    const auto cid = pos::parse_id(a[0], "Cid");
    if (!cid.ok()) {
        return cid.err();
    }
    return write_action(
        pos::parse_customer_input(req.body(), false),
        [c = *cid](pos::customer_input in) { return pos::patch_customer(c, std::move(in)); },
        beast_http::status::ok);
}
core::result<api_action> delete_customer(const request&, const target&, const args_t& a) {
    return delete_action(pos::customer_kind, "Cid", a[0], "customer", core::event_type::customers);
}

core::result<api_action> list_levels(const request&, const target& t, const args_t&) {
    return list_action(t, pos::level_kind);
}
core::result<api_action> adjust_stock(const request& req, const target&, const args_t&) {
    return write_action(pos::parse_stock_adjustment(req.body()), pos::adjust_stock,
                        beast_http::status::ok);
}

core::result<api_action> list_sales(const request&, const target& t, const args_t&) {
    return list_action(t, pos::sale_kind);
}
core::result<api_action> create_sale(const request& req, const target&, const args_t&) {
    return write_action(pos::parse_sale_input(req.body()), pos::complete_sale,
                        beast_http::status::created);
}
core::result<api_action> get_sale(const request&, const target&, const args_t& a) {
    return one_action(pos::sale_kind, "Sid", a[0], "sale");
}

/// Splits a path or pattern into segments.
std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
    }
    return out;
}

/// Matches `path` against `pattern`, collecting `{param}` values.
bool matches(std::string_view pattern, std::string_view path, args_t& args) {
    const auto p = split(pattern);
    const auto s = split(path);
    if (p.size() != s.size() || path.ends_with('/')) {
        return false;
    }
    args.clear();
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i].starts_with('{')) {
            args.emplace_back(s[i]);
        } else if (p[i] != s[i]) {
            return false;
        }
    }
    return true;
}

} // namespace

const std::vector<route>& api_routes() {
    static const std::vector<route> routes = {
        {verb::get, "/openapi/Products", list_products, false},
        {verb::post, "/openapi/Products", create_product, true},
        {verb::get, "/openapi/Products/{Pid}", get_product, false},
        {verb::patch, "/openapi/Products/{Pid}", patch_product, true},
        {verb::delete_, "/openapi/Products/{Pid}", delete_product, true},
        {verb::get, "/openapi/Customers", list_customers, false},
        {verb::post, "/openapi/Customers", create_customer, true},
        {verb::get, "/openapi/Customers/{Cid}", get_customer, false},
        {verb::patch, "/openapi/Customers/{Cid}", patch_customer, true},
        {verb::delete_, "/openapi/Customers/{Cid}", delete_customer, true},
        {verb::get, "/openapi/StockLevels", list_levels, false},
        {verb::post, "/openapi/StockAdjustments", adjust_stock, true},
        {verb::get, "/openapi/Sales", list_sales, false},
        {verb::post, "/openapi/Sales", create_sale, true},
        {verb::get, "/openapi/Sales/{Sid}", get_sale, false},
    };
    return routes;
}

std::string allowed_methods(std::string_view path) {
    args_t args;
    std::string allowed;
    for (const auto& r : api_routes()) {
        if (matches(r.pattern, path, args)) {
            allowed += (allowed.empty() ? "" : ", ") + std::string(beast_http::to_string(r.method));
        }
    }
    return allowed;
}

core::result<std::pair<const route*, std::vector<std::string>>> match_route(verb method,
                                                                            std::string_view path) {
    args_t args;
    std::string allowed;
    for (const auto& r : api_routes()) {
        if (!matches(r.pattern, path, args)) {
            continue;
        }
        if (r.method == method) {
            return std::pair{&r, std::move(args)};
        }
        allowed += (allowed.empty() ? "" : ", ") + std::string(beast_http::to_string(r.method));
    }
    if (!allowed.empty()) {
        return core::error{core::error_code::method_not_allowed,
                           "method " + std::string(beast_http::to_string(method)) +
                               " is not allowed on " + std::string(path) + "; use " + allowed};
    }
    return core::not_found("no API route " + std::string(path) + "; see /openapi/spec.json");
}

} // namespace posfeed::http
