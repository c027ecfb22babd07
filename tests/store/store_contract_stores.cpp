// The stores the contract suite runs on, one factory each.

#include "store_contract.hpp"

#include "store/postgres/pg_conn.hpp"

#include <cstdlib>
#include <fstream>

namespace posfeed::store::contract {
namespace {

/// The scratch PostgreSQL server of the test run (CTest's `postgres` fixture starts one with
/// scripts/pg-scratch and sets POSFEED_TEST_PG_DIR; POSFEED_TEST_PG may name another server's
/// URL instead, with a database `postgres` the tests may create databases from).
std::string pg_server_url() {
    if (const char* url = std::getenv("POSFEED_TEST_PG"); url != nullptr && *url != '\0') {
        return url;
    }
    if (const char* dir = std::getenv("POSFEED_TEST_PG_DIR"); dir != nullptr && *dir != '\0') {
        std::ifstream in(fs::path(dir) / "port");
        std::string port;
        if (in >> port) {
            return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
        }
    }
    return {};
}

/// The database of one test: named after its scratch directory (unique per test).
std::string pg_database(const fs::path& scratch) {
    std::string name = "t";
    for (const char c : scratch.filename().string()) {
        name += (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ? c : '_';
    }
    return name.substr(0, 63);
}

/// The server URL with its database replaced by `db`.
std::string with_database(const std::string& server, const std::string& db) {
    const auto slash = server.rfind('/');
    const auto query = server.find('?', slash);
    return server.substr(0, slash + 1) + db +
           (query == std::string::npos ? "" : server.substr(query));
}

} // namespace

// ---- The stores -----------------------------------------------------------------------------

std::vector<store_factory> store_factories() {
    const auto sqlite = [](const fs::path& scratch, store_options opts) {
        return open_store("sqlite:" + (scratch / "t.db").string(), std::move(opts));
    };
    const auto pg_open = [](const fs::path& scratch, store_options opts) {
        return open_store(with_database(pg_server_url(), pg_database(scratch)), std::move(opts));
    };
    const auto pg_create = [pg_open](const fs::path& scratch, store_options opts) {
        postgres::connection server(pg_server_url());
        server.exec("CREATE DATABASE " + pg_database(scratch));
        return pg_open(scratch, std::move(opts));
    };
    const auto pg_destroy = [](const fs::path& scratch) {
        postgres::connection server(pg_server_url());
        server.exec("DROP DATABASE IF EXISTS " + pg_database(scratch) + " WITH (FORCE)");
    };
    const auto pg_unavailable = []() -> std::string {
        if (pg_server_url().empty()) {
            return "no PostgreSQL server: run through ctest (its postgres fixture starts one) or "
                   "set POSFEED_TEST_PG_DIR or POSFEED_TEST_PG";
        }
        return {};
    };
    return {
        {"sqlite", sqlite, sqlite, false, {}, {}},
        {"postgresql", pg_create, pg_open, true, pg_unavailable, pg_destroy},
    };
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract, ::testing::ValuesIn(store_factories()),
                         [](const ::testing::TestParamInfo<store_factory>& info) {
                             return info.param.name;
                         });

} // namespace posfeed::store::contract
