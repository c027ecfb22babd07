#include "http/routes.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace posfeed::http {
namespace {

using verb = beast_http::verb;

/// (method, path) pairs of the OpenAPI description under /openapi/, excluding the description
/// itself (served outside the route table).
std::set<std::pair<std::string, std::string>> documented_api_operations() {
    std::set<std::pair<std::string, std::string>> out;
    const auto spec = boost::json::parse(openapi_spec()).as_object();
    for (const auto& [path, item] : spec.at("paths").as_object()) {
        if (!std::string_view(path).starts_with("/openapi/") || path == "/openapi/spec.json") {
            continue;
        }
        for (const auto& [method, op] : item.as_object()) {
            if (method == "parameters") {
                continue;
            }
            std::string upper(method);
            std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
            out.emplace(upper, std::string(path));
        }
    }
    return out;
}

TEST(Routes, EveryRouteIsDocumentedAndEveryDocumentedOperationIsARoute) {
    std::set<std::pair<std::string, std::string>> routes;
    for (const auto& r : api_routes()) {
        routes.emplace(std::string(beast_http::to_string(r.method)), std::string(r.pattern));
    }
    const auto documented = documented_api_operations();
    for (const auto& op : routes) {
        SCOPED_TRACE(op.first + " " + op.second);
        EXPECT_TRUE(documented.contains(op)) << "route missing from src/http/openapi.json";
    }
    for (const auto& op : documented) {
        SCOPED_TRACE(op.first + " " + op.second);
        EXPECT_TRUE(routes.contains(op)) << "documented operation has no route";
    }
}

TEST(Routes, MatchesPathParametersAndRejectsOthers) {
    const auto m = match_route(verb::patch, *parse_target("/openapi/Products/12"));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->first->pattern, "/openapi/Products/{Pid}");
    EXPECT_EQ(m->second, std::vector<std::string>{"12"});

    const auto wrong_method = match_route(verb::put, *parse_target("/openapi/Products/12"));
    ASSERT_FALSE(wrong_method.ok());
    EXPECT_TRUE(wrong_method.err().is(protocol_code::method_not_allowed));
    EXPECT_EQ(wrong_method.err().status(), 405);
    EXPECT_NE(wrong_method.err().message.find("PATCH"), std::string::npos);

    for (const char* path : {"/openapi/Nope", "/openapi/Products/1/2", "/openapi/Products/",
                             "/openapi", "/openapi//Products", "/openapi/Sessions%2Fx/Messages"}) {
        SCOPED_TRACE(path);
        const auto r = match_route(verb::get, *parse_target(path));
        ASSERT_FALSE(r.ok());
        EXPECT_TRUE(r.err().is(core::error_code::not_found));
    }
}

TEST(Routes, SpecIsValidJsonWithOpenApiVersion) {
    const auto spec = boost::json::parse(openapi_spec()).as_object();
    EXPECT_EQ(std::string_view(spec.at("openapi").as_string()).substr(0, 2), "3.");
}

} // namespace
} // namespace posfeed::http
