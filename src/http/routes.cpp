#include "http/routes.hpp"

#include "pos/barcode.hpp"
#include "pos/customers.hpp"
#include "pos/levels.hpp"
#include "pos/products.hpp"
#include "pos/queries.hpp"
#include "pos/records.hpp"
#include "pos/sales.hpp"
#include "pos/terminal.hpp"

#include <array>

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
api_action list_action(const target& t, core::record_kind kind) {
    api_action a;
    a.read = [params = t.params, kind](store::store& db, const std::string& rm) {
        target copy;
        copy.params = params;
        return pos::list_page(db, rm, kind, params_of(copy));
    };
    return a;
}

core::result<api_action> one_action(core::record_kind kind, std::string_view id_name,
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

core::result<api_action> delete_action(core::record_kind kind, std::string_view id_name,
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

core::result<api_action> list_products(const request&, const target& t, const args_t&,
                                       const auth::credential&) {
    return list_action(t, pos::product_kind);
}
core::result<api_action> create_product(const request& req, const target&, const args_t&,
                                        const auth::credential&) {
    return write_action(pos::parse_product_input(req.body(), true), pos::create_product,
                        beast_http::status::created);
}
core::result<api_action> get_product(const request&, const target&, const args_t& a,
                                     const auth::credential&) {
    return one_action(pos::product_kind, "Pid", a[0], "product");
}
core::result<api_action> patch_product(const request& req, const target&, const args_t& a,
                                       const auth::credential&) {
    const auto pid = pos::parse_id(a[0], "Pid");
    if (!pid.ok()) {
        return pid.err();
    }
    return write_action(
        pos::parse_product_input(req.body(), false),
        [p = *pid](pos::product_input in) { return pos::patch_product(p, std::move(in)); },
        beast_http::status::ok);
}
core::result<api_action> delete_product(const request&, const target&, const args_t& a,
                                        const auth::credential&) {
    return delete_action(pos::product_kind, "Pid", a[0], "product", core::event_type::products);
}

core::result<api_action> list_customers(const request&, const target& t, const args_t&,
                                        const auth::credential&) {
    return list_action(t, pos::customer_kind);
}
core::result<api_action> create_customer(const request& req, const target&, const args_t&,
                                         const auth::credential&) {
    return write_action(pos::parse_customer_input(req.body(), true), pos::create_customer,
                        beast_http::status::created);
}
core::result<api_action> get_customer(const request&, const target&, const args_t& a,
                                      const auth::credential&) {
    return one_action(pos::customer_kind, "Cid", a[0], "customer");
}
core::result<api_action> patch_customer(const request& req, const target&, const args_t& a,
                                        const auth::credential&) {
    const auto cid = pos::parse_id(a[0], "Cid");
    if (!cid.ok()) {
        return cid.err();
    }
    return write_action(
        pos::parse_customer_input(req.body(), false),
        [c = *cid](pos::customer_input in) { return pos::patch_customer(c, std::move(in)); },
        beast_http::status::ok);
}
core::result<api_action> delete_customer(const request&, const target&, const args_t& a,
                                         const auth::credential&) {
    return delete_action(pos::customer_kind, "Cid", a[0], "customer", core::event_type::customers);
}

core::result<api_action> list_levels(const request&, const target& t, const args_t&,
                                     const auth::credential&) {
    return list_action(t, pos::level_kind);
}
core::result<api_action> adjust_stock(const request& req, const target&, const args_t&,
                                      const auth::credential&) {
    return write_action(pos::parse_stock_adjustment(req.body()), pos::adjust_stock,
                        beast_http::status::ok);
}

core::result<api_action> list_sales(const request&, const target& t, const args_t&,
                                    const auth::credential&) {
    return list_action(t, pos::sale_kind);
}
core::result<api_action> create_sale(const request& req, const target&, const args_t&,
                                     const auth::credential&) {
    return write_action(pos::parse_sale_input(req.body()), pos::complete_sale,
                        beast_http::status::created);
}
core::result<api_action> get_sale(const request&, const target&, const args_t& a,
                                  const auth::credential&) {
    return one_action(pos::sale_kind, "Sid", a[0], "sale");
}

// POS terminal routes: act for the caller's session.

pos::terminal terminal_of(const auth::credential& c) {
    std::int64_t location = 1;
    if (const auto l = pos::parse_id(c.location, "Location"); l.ok()) {
        location = *l;
    }
    return pos::terminal{c.session_key, location};
}

core::result<api_action> get_sale_of_session(const request&, const target&, const args_t&,
                                             const auth::credential& c) {
    api_action a;
    a.read = [t = terminal_of(c)](store::store& db, const std::string& rm) {
        return pos::get_active_sale(db, rm, t);
    };
    return a;
}
core::result<api_action> add_item(const request& req, const target&, const args_t&,
                                  const auth::credential& c) {
    return write_action(
        pos::parse_item_input(req.body()),
        [t = terminal_of(c)](pos::item_input in) { return pos::add_sale_item(t, std::move(in)); },
        beast_http::status::ok);
}
core::result<api_action> remove_item(const request&, const target&, const args_t& a,
                                     const auth::credential& c) {
    const auto n = pos::parse_id(a[0], "line");
    if (!n.ok()) {
        return n.err();
    }
    api_action act;
    act.write = pos::remove_sale_item(terminal_of(c), *n);
    return act;
}
core::result<api_action> add_payment(const request& req, const target&, const args_t&,
                                     const auth::credential& c) {
    return write_action(
        pos::parse_payment_input(req.body()),
        [t = terminal_of(c)](pos::payment_input in) { return pos::add_payment(t, std::move(in)); },
        beast_http::status::ok);
}
core::result<api_action> complete(const request&, const target&, const args_t&,
                                  const auth::credential& c) {
    api_action a;
    a.write = pos::complete_active_sale(terminal_of(c));
    return a;
}
core::result<api_action> void_sale(const request&, const target&, const args_t&,
                                   const auth::credential& c) {
    api_action a;
    a.write = pos::void_active_sale(terminal_of(c));
    return a;
}
core::result<api_action> answer(const request& req, const target&, const args_t& a,
                                const auth::credential& c) {
    const auto id = pos::parse_id(a[0], "PromptId");
    if (!id.ok()) {
        return id.err();
    }
    api_action act;
    act.write = pos::answer_prompt(c.session_key, *id, req.body());
    return act;
}

/// Checks that the session named in a back-office URL exists, is live and belongs to `rm`.
std::function<core::status(store::store&, const std::string&)> session_exists(std::string key) {
    return [key = std::move(key)](store::store& db, const std::string& rm) -> core::status {
        const auto s = db.find_session(key);
        if (!s || s->ended || s->rmsystem != rm) {
            return core::not_found("no such session in this RmSystem, or it has ended");
        }
        return core::ok_status();
    };
}

core::result<api_action> message(const request& req, const target&, const args_t& a,
                                 const auth::credential&) {
    auto in = pos::parse_message_input(req.body());
    if (!in.ok()) {
        return in.take_err();
    }
    const std::string key = auth::session_key(a[0]);
    api_action act;
    act.precheck = session_exists(key);
    act.write = pos::send_message(key, std::move(*in));
    act.success = beast_http::status::created;
    return act;
}
core::result<api_action> prompt(const request& req, const target&, const args_t& a,
                                const auth::credential&) {
    auto in = pos::parse_prompt_input(req.body());
    if (!in.ok()) {
        return in.take_err();
    }
    const std::string key = auth::session_key(a[0]);
    api_action act;
    act.precheck = session_exists(key);
    act.write = pos::send_prompt(key, std::move(*in));
    act.success = beast_http::status::created;
    return act;
}
core::result<api_action> get_prompt(const request&, const target&, const args_t& a,
                                    const auth::credential& c) {
    const auto id = pos::parse_id(a[0], "PromptId");
    if (!id.ok()) {
        return id.err();
    }
    // A session sees only the prompts put to it; an API key sees every prompt of its RmSystem.
    const std::string only =
        c.kind == auth::credential::kind::api_key ? std::string() : c.session_key;
    api_action act;
    act.read = [id = std::to_string(*id),
                only](store::store& db, const std::string& rm) -> core::result<std::string> {
        const auto rec = db.get_record(rm, pos::prompt_kind, id);
        if (!rec || (!only.empty() && rec->lookup != only)) {
            return core::not_found("prompt " + id + " does not exist");
        }
        return pos::data_response(*rec);
    };
    return act;
}
core::result<api_action> barcode(const request& req, const target&, const args_t&,
                                 const auth::credential& c) {
    std::string session_id;
    auto in = pos::parse_barcode_scan(req.body(), &session_id);
    if (!in.ok()) {
        return in.take_err();
    }
    api_action act;
    if (!session_id.empty()) {
        in->session_key = auth::session_key(session_id);
        act.precheck = session_exists(in->session_key);
    } else {
        // A terminal scanning for itself.
        in->session_key = c.session_key;
    }
    act.write = pos::scan_barcode(std::move(*in));
    act.success = beast_http::status::created;
    return act;
}

/// Splits a pattern into segments.
std::vector<std::string_view> split(std::string_view pattern) {
    std::vector<std::string_view> out;
    while (!pattern.empty()) {
        if (pattern.front() == '/') {
            pattern.remove_prefix(1);
            continue;
        }
        const auto slash = pattern.find('/');
        out.push_back(pattern.substr(0, slash));
        pattern = slash == std::string_view::npos ? std::string_view() : pattern.substr(slash);
    }
    return out;
}

/// Matches decoded request segments against `pattern`, collecting `{param}` values. Segments
/// are compared one by one, so an empty segment (`//`, a trailing slash) or an encoded slash
/// inside a segment never matches.
bool matches(std::string_view pattern, const std::vector<std::string>& segments, args_t& args) {
    const auto p = split(pattern);
    if (p.size() != segments.size()) {
        return false;
    }
    args.clear();
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (segments[i].empty()) {
            return false;
        }
        if (p[i].starts_with('{')) {
            args.push_back(segments[i]);
        } else if (p[i] != segments[i]) {
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
        {verb::post, "/openapi/login", nullptr, false, access::open, serve_login},
        {verb::post, "/openapi/logout", nullptr, false, access::session, serve_logout},
        {verb::get, "/openapi/ActiveSession/AboutMe", nullptr, false, access::session,
         serve_about_me},
        {verb::get, "/openapi/ActiveSession/Sale", get_sale_of_session, false, access::session},
        {verb::post, "/openapi/ActiveSession/Sale/Items", add_item, true, access::session},
        {verb::delete_, "/openapi/ActiveSession/Sale/Items/{n}", remove_item, true,
         access::session},
        {verb::post, "/openapi/ActiveSession/Sale/Payments", add_payment, true, access::session},
        {verb::post, "/openapi/ActiveSession/Sale/Complete", complete, true, access::session},
        {verb::post, "/openapi/ActiveSession/Sale/Void", void_sale, true, access::session},
        {verb::post, "/openapi/ActiveSession/Prompts/{PromptId}", answer, true, access::session},
        {verb::post, "/openapi/Sessions/{Session}/Messages", message, true},
        {verb::post, "/openapi/Sessions/{Session}/Prompts", prompt, true},
        {verb::get, "/openapi/Prompts/{PromptId}", get_prompt, false},
        {verb::post, "/openapi/Barcodes", barcode, true},
    };
    return routes;
}

std::optional<core::event_type> read_scope(const route& r) {
    if (r.write || r.method != verb::get) {
        return std::nullopt;
    }
    static constexpr std::array<std::pair<std::string_view, core::event_type>, 5> prefixes = {{
        {"/openapi/Products", core::event_type::products},
        {"/openapi/Customers", core::event_type::customers},
        {"/openapi/StockLevels", core::event_type::levels},
        {"/openapi/Sales", core::event_type::sales},
        {"/openapi/Prompts", core::event_type::userprompt},
    }};
    for (const auto& [prefix, type] : prefixes) {
        if (r.pattern.starts_with(prefix)) {
            return type;
        }
    }
    return std::nullopt;
}

std::string allowed_methods(const std::vector<std::string>& segments) {
    args_t args;
    std::string allowed;
    for (const auto& r : api_routes()) {
        if (matches(r.pattern, segments, args)) {
            allowed += (allowed.empty() ? "" : ", ") + std::string(beast_http::to_string(r.method));
        }
    }
    return allowed;
}

core::result<std::pair<const route*, std::vector<std::string>>, http_error>
match_route(verb method, const target& t) {
    const auto& segments = t.segments;
    const std::string_view path = t.path;
    args_t args;
    std::string allowed;
    for (const auto& r : api_routes()) {
        if (!matches(r.pattern, segments, args)) {
            continue;
        }
        if (r.method == method) {
            return std::pair{&r, std::move(args)};
        }
        allowed += (allowed.empty() ? "" : ", ") + std::string(beast_http::to_string(r.method));
    }
    if (!allowed.empty()) {
        return http_error{protocol_code::method_not_allowed,
                          "method " + std::string(beast_http::to_string(method)) +
                              " is not allowed on " + std::string(path) + "; use " + allowed};
    }
    return core::not_found("no API route " + std::string(path) + "; see /openapi/spec.json");
}

} // namespace posfeed::http
