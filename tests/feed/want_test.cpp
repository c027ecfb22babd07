#include "feed/want.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace posfeed::feed {
namespace {

using core::event_type;

TEST(ParseWant, AcceptsEachTypeAlone) {
    const std::string_view names[] = {"products", "customers",   "levels",     "sales",  "debug",
                                      "sale",     "usermessage", "userprompt", "barcode"};
    for (const auto name : names) {
        SCOPED_TRACE(std::string(name));
        const auto w = parse_want(name);
        ASSERT_TRUE(w.ok()) << w.err().message;
        ASSERT_EQ(w->types.size(), 1u);
        EXPECT_EQ(core::to_string(w->types[0]), name);
        EXPECT_EQ(w->mask, core::bit(w->types[0]));
    }
}

TEST(ParseWant, KeepsTheOrderAskedAndDropsDuplicates) {
    struct row {
        std::string_view in;
        std::vector<event_type> types;
    };
    const row rows[] = {
        {"products,levels", {event_type::products, event_type::levels}},
        {"levels,products", {event_type::levels, event_type::products}},
        {"sale,sale,sale", {event_type::sale}},
        {"barcode,products,barcode,levels,products",
         {event_type::barcode, event_type::products, event_type::levels}},
        {"products,customers,levels,sales,debug,sale,usermessage,userprompt,barcode",
         {event_type::products, event_type::customers, event_type::levels, event_type::sales,
          event_type::debug, event_type::sale, event_type::usermessage, event_type::userprompt,
          event_type::barcode}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.in));
        const auto w = parse_want(r.in);
        ASSERT_TRUE(w.ok()) << w.err().message;
        EXPECT_EQ(w->types, r.types);
        core::type_mask mask = 0;
        for (const auto t : r.types) {
            mask |= core::bit(t);
        }
        EXPECT_EQ(w->mask, mask);
    }
}

TEST(ParseWant, RejectsUnknownNamesNamingThemAndListingValidOnes) {
    struct row {
        std::string_view in;
        std::vector<std::string_view> named;
    };
    const row rows[] = {
        {"product", {"'product'"}},
        {"Products", {"'Products'"}}, // case-sensitive
        {"PRODUCTS", {"'PRODUCTS'"}},
        {"all", {"'all'"}},
        {"*", {"'*'"}},
        {"ready", {"'ready'"}}, // control events are never wanted
        {"reset", {"'reset'"}},
        {"products,bogus,levels,nope", {"'bogus'", "'nope'"}},
        {" products", {"' products'"}},
        {"products ", {"'products '"}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.in));
        const auto w = parse_want(r.in);
        ASSERT_FALSE(w.ok());
        EXPECT_EQ(w.err().code, core::error_code::invalid_argument);
        for (const auto n : r.named) {
            EXPECT_NE(w.err().message.find(n), std::string::npos) << w.err().message;
        }
        EXPECT_NE(w.err().message.find(core::valid_type_list()), std::string::npos)
            << w.err().message;
    }
}

TEST(ParseWant, RejectsEmptyListsAndEmptyItems) {
    const std::string_view bad[] = {"", ",", "products,", ",products", "products,,levels", ",,"};
    for (const auto in : bad) {
        SCOPED_TRACE(std::string(in));
        const auto w = parse_want(in);
        ASSERT_FALSE(w.ok());
        EXPECT_EQ(w.err().code, core::error_code::invalid_argument);
        EXPECT_NE(w.err().message.find("'want'"), std::string::npos) << w.err().message;
        EXPECT_NE(w.err().message.find(core::valid_type_list()), std::string::npos)
            << w.err().message;
    }
}

TEST(ParseWant, TruncatesVeryLongUnknownNamesInTheMessage) {
    const std::string huge(100000, 'x');
    const auto w = parse_want(huge);
    ASSERT_FALSE(w.ok());
    EXPECT_LT(w.err().message.size(), 1000u);
}

TEST(ParseWant, HandlesArbitraryBytesWithoutCrashing) {
    const std::string inputs[] = {std::string("\0products", 9), "\xff\xfe", "products\r\nX: y",
                                  std::string(10000, ',')};
    for (const auto& in : inputs) {
        EXPECT_FALSE(parse_want(in).ok());
    }
}

} // namespace
} // namespace posfeed::feed
