#include "pos/customers.hpp"
#include "pos/json_input.hpp"
#include "pos/levels.hpp"
#include "pos/products.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace posfeed::pos {
namespace {

/// Whether `s` is well-formed UTF-8 (no truncated or overlong sequences).
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        if (c < 0x80) {
            n = 0;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
        } else {
            return false;
        }
        if (n > 0 && i + n >= s.size()) {
            return false;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += n + 1;
    }
    return true;
}

/// An error case: a body, and text its message must contain.
struct error_case {
    std::string_view body;
    std::vector<std::string_view> mentions;
};

template <class Parse> void expect_errors(Parse parse, std::initializer_list<error_case> cases) {
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(c.body));
        const auto r = parse(c.body);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.err().code, core::error_code::invalid_argument);
        for (const auto m : c.mentions) {
            EXPECT_NE(r.err().message.find(m), std::string::npos) << r.err().message;
        }
    }
}

// ---- body_reader ----

TEST(BodyReader, RejectsBodiesThatAreNotJsonObjects) {
    const std::string_view bad[] = {"",         "not json", "{",    R"({"a":1,})",       "[1,2]",
                                    "\"text\"", "42",       "null", "{\"a\":1} trailing"};
    for (const auto body : bad) {
        SCOPED_TRACE(std::string(body));
        const auto r = body_reader::parse(body);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.err().code, core::error_code::invalid_argument);
        EXPECT_NE(r.err().message.find("JSON"), std::string::npos) << r.err().message;
    }
}

TEST(BodyReader, ReadsFieldsOfTheRightType) {
    auto r = body_reader::parse(
        R"({"S":"text","I":42,"D":12.5,"DI":3,"F1":true,"F0":0,"Big":999999999999})");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->string("S"), "text");
    EXPECT_EQ(r->integer("I", 1, 100), 42);
    EXPECT_EQ(r->decimal("D", 0, 100), 12.5);
    EXPECT_EQ(r->decimal("DI", 0, 100), 3.0);
    EXPECT_EQ(r->flag("F1"), 1);
    EXPECT_EQ(r->flag("F0"), 0);
    EXPECT_EQ(r->integer("Big", 1, 999999999999), 999999999999);
    EXPECT_FALSE(r->string("Absent").has_value());
    EXPECT_TRUE(r->has("S"));
    EXPECT_FALSE(r->has("Absent"));
    EXPECT_TRUE(r->finish().ok());
}

TEST(BodyReader, WrongTypesAndRangesAreErrorsNamingTheField) {
    struct row {
        std::string_view body;
        std::string_view field;
    };
    const row rows[] = {
        {R"({"S":5})", "'S'"},
        {R"({"S":"12345678901"})", "'S'"}, // longer than 10 bytes
        {R"({"I":"42"})", "'I'"},
        {R"({"I":4.5})", "'I'"},
        {R"({"I":0})", "'I'"},   // below 1
        {R"({"I":101})", "'I'"}, // above 100
        {R"({"I":18446744073709551615})", "'I'"},
        {R"({"D":"12.5"})", "'D'"},
        {R"({"D":1.23456})", "'D'"}, // 5 decimals
        {R"({"D":-1})", "'D'"},
        {R"({"D":100.5})", "'D'"},
        {R"({"D":null})", "'D'"},
        {R"({"F":2})", "'F'"},
        {R"({"F":"true"})", "'F'"},
        {R"({"F":1.0})", "'F'"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.body));
        auto in = body_reader::parse(r.body);
        ASSERT_TRUE(in.ok());
        if (in->has("S")) {
            EXPECT_FALSE(in->string("S", 10).has_value());
        }
        if (in->has("I")) {
            EXPECT_FALSE(in->integer("I", 1, 100).has_value());
        }
        if (in->has("D")) {
            EXPECT_FALSE(in->decimal("D", 0, 100).has_value());
        }
        if (in->has("F")) {
            EXPECT_FALSE(in->flag("F").has_value());
        }
        const auto s = in->finish();
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.err().code, core::error_code::invalid_argument);
        EXPECT_EQ(s.err().message.find("field " + std::string(r.field)), 0u) << s.err().message;
    }
}

TEST(BodyReader, ReportsTheFirstProblem) {
    auto in = body_reader::parse(R"({"A":"x","B":"y"})");
    ASSERT_TRUE(in.ok());
    (void)in->integer("A", 0, 1);
    (void)in->integer("B", 0, 1);
    const auto s = in->finish();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.err().message.find("'A'"), std::string::npos) << s.err().message;
    EXPECT_EQ(s.err().message.find("'B'"), std::string::npos) << s.err().message;
}

TEST(BodyReader, RequiredFieldMissingIsAnErrorNamingIt) {
    auto in = body_reader::parse(R"({})");
    ASSERT_TRUE(in.ok());
    in->require("Pid");
    const auto s = in->finish();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().message, "field 'Pid' is required");
}

TEST(BodyReader, UnknownFieldsAreErrorsNamingThemAndTheAcceptedOnes) {
    auto in = body_reader::parse(R"({"Name":"x","Nmae":"y"})");
    ASSERT_TRUE(in.ok());
    (void)in->string("Name");
    (void)in->string("Email");
    const auto s = in->finish();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().code, core::error_code::invalid_argument);
    EXPECT_NE(s.err().message.find("unknown field 'Nmae'"), std::string::npos) << s.err().message;
    EXPECT_NE(s.err().message.find("'Name', 'Email'"), std::string::npos) << s.err().message;
}

TEST(BodyReader, NestedReaderPrefixesFieldNamesInMessages) {
    auto outer = body_reader::parse(R"({"Lines":[{"Pid":1,"Qty":"two"},{"Pid":1,"Bogus":1}]})");
    ASSERT_TRUE(outer.ok());
    outer->known("Lines");
    EXPECT_TRUE(outer->finish().ok()) << "known() accepts a field checked by hand";
    const auto& lines = outer->object().at("Lines").as_array();

    auto first = body_reader::nested(lines[0].as_object(), "Lines[0].");
    EXPECT_EQ(first.integer("Pid", 1, 10), 1);
    EXPECT_FALSE(first.decimal("Qty", 0, 10).has_value());
    const auto s0 = first.finish();
    ASSERT_FALSE(s0.ok());
    EXPECT_EQ(s0.err().message.find("field 'Lines[0].Qty'"), 0u) << s0.err().message;

    auto second = body_reader::nested(lines[1].as_object(), "Lines[1].");
    (void)second.integer("Pid", 1, 10);
    (void)second.decimal("Qty", 0, 10);
    const auto s1 = second.finish();
    ASSERT_FALSE(s1.ok());
    EXPECT_NE(s1.err().message.find("unknown field 'Lines[1].Bogus'"), std::string::npos)
        << s1.err().message;

    auto third = body_reader::nested(boost::json::object{}, "Lines[2].");
    third.require("Pid");
    EXPECT_EQ(third.finish().err().message, "field 'Lines[2].Pid' is required");
}

TEST(BodyReader, ShortenedValueInAMessageIsValidUtf8) {
    // A rejected value is shown shortened to 40 bytes; the cut must not split a UTF-8
    // sequence, or the JSON error body carries invalid UTF-8.
    std::string body = R"({"S":"a)";
    for (int i = 0; i < 30; ++i) {
        body += "\xC3\xA9"; // é
    }
    body += "\"}";
    auto in = body_reader::parse(body);
    ASSERT_TRUE(in.ok());
    EXPECT_FALSE(in->string("S", 10).has_value());
    const auto s = in->finish();
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(valid_utf8(s.err().message)) << s.err().message;
}

TEST(ValidDecimal, AcceptsAtMostFourDecimalsInRange) {
    struct row {
        double v;
        bool ok;
    };
    const row rows[] = {
        {0, true},
        {12.5, true},
        {0.1, true},
        {19.99, true},
        {0.0001, true},
        {1.2345, true},
        {1.23456, false},
        {0.00001, false},
        {-0.5, false},
        {1000.5, false},
        {std::numeric_limits<double>::infinity(), false},
        {std::numeric_limits<double>::quiet_NaN(), false},
        {999.9999, true},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.v);
        EXPECT_EQ(valid_decimal(r.v, 0, 1000), r.ok);
    }
}

TEST(Round4, RemovesBinaryNoise) {
    EXPECT_EQ(round4(0.1 + 0.2), 0.3);
    EXPECT_EQ(round4(12.5), 12.5);
    EXPECT_EQ(round4(-1.00004), -1.0);
}

// ---- products ----

TEST(ProductInput, AcceptsAFullCreate) {
    const auto r = parse_product_input(
        R"({"Physkey":"ABC","Description":"Mug","Price":12.5,"Colour":"Red","Barcode":"4006381333931","Publish":true})",
        true);
    ASSERT_TRUE(r.ok()) << r.err().message;
    const auto& f = r->fields;
    EXPECT_EQ(f.at("Physkey").as_string(), "ABC");
    EXPECT_EQ(f.at("Description").as_string(), "Mug");
    EXPECT_EQ(f.at("Price").to_number<double>(), 12.5);
    EXPECT_EQ(f.at("Colour").as_string(), "Red");
    EXPECT_EQ(f.at("Barcode").as_string(), "4006381333931");
    EXPECT_EQ(f.at("Publish").to_number<std::int64_t>(), 1);
}

TEST(ProductInput, CreateWithNoFieldsUsesDefaults) {
    const auto r = parse_product_input("{}", true);
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_TRUE(r->fields.empty());
}

TEST(ProductInput, PatchKeepsOnlyTheFieldsGiven) {
    const auto r = parse_product_input(R"({"Price":9.99})", false);
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->fields.size(), 1u);
    EXPECT_EQ(r->fields.at("Price").to_number<double>(), 9.99);
}

TEST(ProductInput, ErrorsNameTheField) {
    const auto create = [](std::string_view b) { return parse_product_input(b, true); };
    const auto patch = [](std::string_view b) { return parse_product_input(b, false); };
    expect_errors(create, {
                              {R"({"Price":"12.5"})", {"'Price'"}},
                              {R"({"Price":-1})", {"'Price'"}},
                              {R"({"Price":1.23456})", {"'Price'", "4 decimals"}},
                              {R"({"Price":1e13})", {"'Price'"}},
                              {R"({"Description":5})", {"'Description'"}},
                              {R"({"Colour":")" + std::string(101, 'x') + R"("})", {"'Colour'"}},
                              {R"({"Barcode":")" + std::string(65, '1') + R"("})", {"'Barcode'"}},
                              {R"({"Physkey":")" + std::string(41, 'K') + R"("})", {"'Physkey'"}},
                              {R"({"Publish":"yes"})", {"'Publish'"}},
                              {R"({"Publish":2})", {"'Publish'"}},
                              {R"({"Price":12.5,"Prcie":1})", {"unknown field 'Prcie'"}},
                              {R"({"Pid":7})", {"unknown field 'Pid'"}},
                              {R"({"RVE":20210727.091105994})", {"unknown field 'RVE'"}},
                              {R"({"description":"lowercase"})", {"unknown field 'description'"}},
                              {"[]", {"JSON object"}},
                          });
    expect_errors(patch, {
                             {"{}", {"'Description'", "'Price'"}},
                             {R"({"Physkey":"ABC"})", {"unknown field 'Physkey'"}},
                             {R"({"Deleted":1})", {"unknown field 'Deleted'"}},
                         });
}

// ---- customers ----

TEST(CustomerInput, AcceptsCreateAndPatch) {
    const auto c =
        parse_customer_input(R"({"Name":"Ada","Email":"ada@example.com","Phone":"1"})", true);
    ASSERT_TRUE(c.ok()) << c.err().message;
    EXPECT_EQ(c->fields.at("Name").as_string(), "Ada");
    EXPECT_EQ(c->fields.at("Email").as_string(), "ada@example.com");
    EXPECT_EQ(c->fields.at("Phone").as_string(), "1");

    const auto p = parse_customer_input(R"({"Phone":"555"})", false);
    ASSERT_TRUE(p.ok()) << p.err().message;
    EXPECT_EQ(p->fields.size(), 1u);
}

TEST(CustomerInput, ErrorsNameTheField) {
    const auto create = [](std::string_view b) { return parse_customer_input(b, true); };
    const auto patch = [](std::string_view b) { return parse_customer_input(b, false); };
    expect_errors(create,
                  {
                      {"{}", {"'Name'", "required"}},
                      {R"({"Email":"a@b"})", {"'Name'", "required"}},
                      {R"({"Name":""})", {"'Name'", "empty"}},
                      {R"({"Name":42})", {"'Name'"}},
                      {R"({"Name":")" + std::string(201, 'n') + R"("})", {"'Name'"}},
                      {R"({"Name":"A","Email":7})", {"'Email'"}},
                      {R"({"Name":"A","Phone":")" + std::string(51, '5') + R"("})", {"'Phone'"}},
                      {R"({"Name":"A","Cid":3})", {"unknown field 'Cid'"}},
                      {R"({"Name":"A","email":"x"})", {"unknown field 'email'"}},
                  });
    expect_errors(patch, {
                             {"{}", {"'Name'", "'Email'", "'Phone'"}},
                             {R"({"Name":""})", {"'Name'", "empty"}},
                             {R"({"Adress":"x"})", {"unknown field 'Adress'"}},
                         });
}

// ---- stock adjustments ----

TEST(StockAdjustmentInput, AcceptsDeltaOrSetWithDefaultReasons) {
    struct row {
        std::string_view body;
        std::optional<double> delta;
        std::optional<double> set;
        std::string_view reason;
    };
    const row rows[] = {
        {R"({"Pid":1,"Location":2,"Delta":-3})", -3.0, std::nullopt, "adjustment"},
        {R"({"Pid":1,"Location":2,"Delta":0.5,"Reason":"receipt"})", 0.5, std::nullopt, "receipt"},
        {R"({"Pid":1,"Location":2,"Set":10})", std::nullopt, 10.0, "count"},
        {R"({"Pid":1,"Location":2,"Set":0,"Reason":"stocktake"})", std::nullopt, 0.0, "stocktake"},
        {R"({"Pid":999999999999,"Location":1,"Set":1.2345})", std::nullopt, 1.2345, "count"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.body));
        const auto a = parse_stock_adjustment(r.body);
        ASSERT_TRUE(a.ok()) << a.err().message;
        EXPECT_EQ(a->delta, r.delta);
        EXPECT_EQ(a->set, r.set);
        EXPECT_EQ(a->reason, r.reason);
    }
    const auto a = parse_stock_adjustment(R"({"Pid":12,"Location":3,"Delta":1})");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->pid, 12);
    EXPECT_EQ(a->location, 3);
}

TEST(StockAdjustmentInput, NeedsExactlyOneOfDeltaAndSet) {
    expect_errors(
        parse_stock_adjustment,
        {
            {R"({"Pid":1,"Location":2})", {"'Delta'", "'Set'", "exactly one"}},
            {R"({"Pid":1,"Location":2,"Delta":1,"Set":2})", {"'Delta'", "'Set'", "exactly one"}},
            {R"({"Pid":1,"Location":2,"Reason":"x"})", {"'Delta'", "'Set'"}},
        });
}

TEST(StockAdjustmentInput, ErrorsNameTheField) {
    expect_errors(
        parse_stock_adjustment,
        {
            {R"({"Location":2,"Delta":1})", {"'Pid'", "required"}},
            {R"({"Pid":1,"Delta":1})", {"'Location'", "required"}},
            {R"({"Pid":0,"Location":2,"Delta":1})", {"'Pid'"}},
            {R"({"Pid":-5,"Location":2,"Delta":1})", {"'Pid'"}},
            {R"({"Pid":"1","Location":2,"Delta":1})", {"'Pid'"}},
            {R"({"Pid":1.5,"Location":2,"Delta":1})", {"'Pid'"}},
            {R"({"Pid":1000000000000,"Location":2,"Delta":1})", {"'Pid'"}},
            {R"({"Pid":1,"Location":0,"Delta":1})", {"'Location'"}},
            {R"({"Pid":1,"Location":"main","Delta":1})", {"'Location'"}},
            {R"({"Pid":1,"Location":2,"Delta":"1"})", {"'Delta'"}},
            {R"({"Pid":1,"Location":2,"Delta":1.00001})", {"'Delta'"}},
            {R"({"Pid":1,"Location":2,"Delta":null})", {"'Delta'"}},
            {R"({"Pid":1,"Location":2,"Set":-1})", {"'Set'"}},
            {R"({"Pid":1,"Location":2,"Set":1e13})", {"'Set'"}},
            {R"({"Pid":1,"Location":2,"Set":1,"Reason":5})", {"'Reason'"}},
            {R"({"Pid":1,"Location":2,"Set":1,"Reason":")" + std::string(101, 'r') + R"("})",
             {"'Reason'"}},
            {R"({"Pid":1,"Location":2,"Set":1,"Qty":1})", {"unknown field 'Qty'"}},
            {R"({"pid":1,"Pid":1,"Location":2,"Set":1})", {"unknown field 'pid'"}},
            {"not json", {"JSON"}},
        });
}

} // namespace
} // namespace posfeed::pos
