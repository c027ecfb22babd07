#include "core/record_kind.hpp"

#include <gtest/gtest.h>

#include <string>

namespace posfeed::core {
namespace {

TEST(RecordKind, StoredNamesRoundTrip) {
    for (int i = 0; i < record_kind_count; ++i) {
        const auto k = static_cast<record_kind>(i);
        SCOPED_TRACE(std::string(to_string(k)));
        EXPECT_EQ(parse_record_kind(to_string(k)), k);
    }
    // The names are stored in every database: they must never change.
    EXPECT_EQ(to_string(record_kind::product), "product");
    EXPECT_EQ(to_string(record_kind::active_sale), "activesale");
    EXPECT_EQ(to_string(record_kind::prompt), "prompt");
}

TEST(RecordKind, UnknownNameIsNoKind) {
    for (const auto* name : {"", "products", "Product", "message", "barcode", "product "}) {
        SCOPED_TRACE(name);
        EXPECT_FALSE(parse_record_kind(name).has_value());
    }
}

TEST(RecordKind, FeedTypesOfTheStateKindsAndSales) {
    EXPECT_EQ(feed_type(record_kind::product), event_type::products);
    EXPECT_EQ(feed_type(record_kind::customer), event_type::customers);
    EXPECT_EQ(feed_type(record_kind::level), event_type::levels);
    EXPECT_EQ(feed_type(record_kind::sale), event_type::sales);
    EXPECT_FALSE(feed_type(record_kind::active_sale).has_value());
    EXPECT_FALSE(feed_type(record_kind::prompt).has_value());
}

TEST(RecordKind, KindsForATypeMaskInKindOrder) {
    EXPECT_EQ(record_kinds_for(state_types),
              (std::vector{record_kind::product, record_kind::customer, record_kind::level}));
    EXPECT_EQ(record_kinds_for(bit(event_type::sales) | bit(event_type::products)),
              (std::vector{record_kind::product, record_kind::sale}));
    EXPECT_TRUE(record_kinds_for(session_types | bit(event_type::barcode) | bit(event_type::debug))
                    .empty());
}

} // namespace
} // namespace posfeed::core
