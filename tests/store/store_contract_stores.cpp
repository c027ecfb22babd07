// The stores the contract suite runs on, one factory each.

#include "store_contract.hpp"

namespace posfeed::store::contract {

// ---- The stores -----------------------------------------------------------------------------

std::vector<store_factory> store_factories() {
    const auto sqlite = [](const fs::path& scratch, store_options opts) {
        return open_store("sqlite:" + (scratch / "t.db").string(), std::move(opts));
    };
    return {
        {"sqlite", sqlite, sqlite},
    };
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract, ::testing::ValuesIn(store_factories()),
                         [](const ::testing::TestParamInfo<store_factory>& info) {
                             return info.param.name;
                         });

} // namespace posfeed::store::contract
