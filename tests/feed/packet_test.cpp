#include "feed/packet.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace posfeed::feed {
namespace {

using core::event_type;

constexpr core::rve sample_rve{1627377065994}; // 20210727.091105994

std::string packet(packet_format fmt, event_type type, std::vector<std::string_view> records,
                   core::rve rve = sample_rve) {
    std::string out;
    append_packet(out, fmt, type, records, rve);
    return out;
}

std::string xml_of(std::string_view json_object) {
    std::string out;
    append_xml_members(out, json_object);
    return out;
}

TEST(JsonPacket, WrapsRecordsInAnArrayUnderTheTypeKeyWithTheRve) {
    EXPECT_EQ(packet(packet_format::json, event_type::products, {R"({"Pid":6017,"Price":12.5})"}),
              R"({"Products":[{"Pid":6017,"Price":12.5,"RVE":20210727.091105994}]})");
}

TEST(JsonPacket, CarriesEveryRecordOfTheGroupWithTheSameRve) {
    const std::string p = packet(packet_format::json, event_type::levels,
                                 {R"({"Pid":1,"Qty":2})", R"({"Pid":2,"Qty":0})", "{}"});
    EXPECT_EQ(p, R"({"Levels":[{"Pid":1,"Qty":2,"RVE":20210727.091105994},)"
                 R"({"Pid":2,"Qty":0,"RVE":20210727.091105994},{"RVE":20210727.091105994}]})");
    const auto v = boost::json::parse(p);
    EXPECT_EQ(v.at("Levels").as_array().size(), 3u);
}

TEST(JsonPacket, UsesThePacketKeyOfEachType) {
    struct row {
        event_type type;
        std::string_view prefix;
    };
    const row rows[] = {
        {event_type::products, R"({"Products":[)"},
        {event_type::customers, R"({"Customers":[)"},
        {event_type::levels, R"({"Levels":[)"},
        {event_type::sales, R"({"Sales":[)"},
        {event_type::sale, R"({"Sale":[)"},
        {event_type::usermessage, R"({"UserMessage":[)"},
        {event_type::userprompt, R"({"UserPrompt":[)"},
        {event_type::barcode, R"({"Barcode":[)"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.prefix));
        const std::string p = packet(packet_format::json, r.type, {"{}"});
        EXPECT_TRUE(p.starts_with(r.prefix)) << p;
        EXPECT_TRUE(boost::json::parse(p).is_object());
    }
}

TEST(JsonPacket, StaysOnOneLine) {
    const std::string p =
        packet(packet_format::json, event_type::usermessage, {R"({"Text":"line1\nline2\r\n"})"});
    EXPECT_EQ(p.find('\n'), std::string::npos);
    EXPECT_EQ(p.find('\r'), std::string::npos);
}

TEST(JsonPacket, EmptyRecordListIsAnEmptyArray) {
    EXPECT_EQ(packet(packet_format::json, event_type::products, {}), R"({"Products":[]})");
}

TEST(XmlPacket, WrapsEachRecordInItsItemElementWithTheRve) {
    EXPECT_EQ(packet(packet_format::xml, event_type::products,
                     {R"({"Pid":6017,"Description":"Mug","Price":12.5,"Publish":1})"}),
              "<Products><Product><Pid>6017</Pid><Description>Mug</Description>"
              "<Price>12.5</Price><Publish>1</Publish><RVE>20210727.091105994</RVE>"
              "</Product></Products>");
}

TEST(XmlPacket, UsesTheItemNameOfEachType) {
    struct row {
        event_type type;
        std::string_view xml;
    };
    const row rows[] = {
        {event_type::customers, "<Customers><Customer><RVE>0</RVE></Customer></Customers>"},
        {event_type::levels, "<Levels><Level><RVE>0</RVE></Level></Levels>"},
        {event_type::sales, "<Sales><Sale><RVE>0</RVE></Sale></Sales>"},
        {event_type::usermessage, "<UserMessage><Message><RVE>0</RVE></Message></UserMessage>"},
        {event_type::barcode, "<Barcode><Scan><RVE>0</RVE></Scan></Barcode>"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.xml));
        EXPECT_EQ(packet(packet_format::xml, r.type, {"{}"}, core::rve{0}), r.xml);
    }
}

TEST(XmlPacket, CarriesSeveralRecords) {
    EXPECT_EQ(packet(packet_format::xml, event_type::levels, {R"({"Pid":1})", R"({"Pid":2})"}),
              "<Levels><Level><Pid>1</Pid><RVE>20210727.091105994</RVE></Level>"
              "<Level><Pid>2</Pid><RVE>20210727.091105994</RVE></Level></Levels>");
    EXPECT_EQ(packet(packet_format::xml, event_type::levels, {}), "<Levels></Levels>");
}

TEST(XmlPacket, EscapesMarkupCharacters) {
    struct row {
        std::string_view json;
        std::string_view xml;
    };
    const row rows[] = {
        {R"({"D":"a<b"})", "<D>a&lt;b</D>"},
        {R"({"D":"a>b"})", "<D>a&gt;b</D>"},
        {R"({"D":"Fish & Chips"})", "<D>Fish &amp; Chips</D>"},
        {R"({"D":"say \"hi\""})", "<D>say &quot;hi&quot;</D>"},
        {R"({"D":"it's"})", "<D>it&apos;s</D>"},
        {R"({"D":"&amp;"})", "<D>&amp;amp;</D>"}, // entities in data are data
        {R"({"D":"<![CDATA[x]]>"})", "<D>&lt;![CDATA[x]]&gt;</D>"},
        {R"({"D":"back\\slash"})", "<D>back\\slash</D>"},
        {R"({"D":"a\/b"})", "<D>a/b</D>"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.json));
        EXPECT_EQ(xml_of(r.json), r.xml);
    }
}

TEST(XmlPacket, KeepsNewlinesAsCharacterReferencesOnOneLine) {
    struct row {
        std::string_view json;
        std::string_view xml;
    };
    const row rows[] = {
        {R"({"T":"line1\nline2"})", "<T>line1&#10;line2</T>"},
        {R"({"T":"a\r\nb"})", "<T>a&#13;&#10;b</T>"},
        {R"({"T":"a\tb"})", "<T>a&#9;b</T>"},
        {R"({"T":"a\u000ab"})", "<T>a&#10;b</T>"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.json));
        const std::string out = xml_of(r.json);
        EXPECT_EQ(out, r.xml);
        EXPECT_EQ(out.find('\n'), std::string::npos);
        EXPECT_EQ(out.find('\r'), std::string::npos);
    }
}

TEST(XmlPacket, ReplacesCharactersXmlCannotCarry) {
    // Control characters other than tab, CR and LF are not allowed in XML 1.0, not even as
    // character references.
    EXPECT_EQ(xml_of(R"({"T":"a\u0001b\u001fc\u0000d"})"), "<T>a\xEF\xBF\xBD"
                                                           "b\xEF\xBF\xBD"
                                                           "c\xEF\xBF\xBD"
                                                           "d</T>");
    EXPECT_EQ(xml_of(R"({"T":"a\bb\fc"})"), "<T>a\xEF\xBF\xBD"
                                            "b\xEF\xBF\xBD"
                                            "c</T>");
}

TEST(XmlPacket, ReplacesNoncharactersXmlCannotCarry) {
    // U+FFFE and U+FFFF are outside XML 1.0's Char production. Boost.JSON accepts "\uffff"
    // in a request body and our serialiser stores it as raw UTF-8, so it reaches the encoder.
    EXPECT_EQ(xml_of("{\"T\":\"a\xEF\xBF\xBF"
                     "b\"}"),
              "<T>a\xEF\xBF\xBD"
              "b</T>");
    EXPECT_EQ(xml_of(R"({"T":"a\uffffb\ufffec"})"), "<T>a\xEF\xBF\xBD"
                                                    "b\xEF\xBF\xBD"
                                                    "c</T>");
}

TEST(XmlPacket, KeepsNonAsciiText) {
    struct row {
        std::string_view json;
        std::string_view xml;
    };
    const row rows[] = {
        {"{\"D\":\"Caf\xC3\xA9 \xE2\x82\xAC 5\"}", "<D>Caf\xC3\xA9 \xE2\x82\xAC 5</D>"},
        {R"({"D":"Caf\u00e9"})", "<D>Caf\xC3\xA9</D>"},
        {R"({"D":"\u20ac"})", "<D>\xE2\x82\xAC</D>"},
        {R"({"D":"\ud83d\ude00"})", "<D>\xF0\x9F\x98\x80</D>"},
        {"{\"D\":\"\xF0\x9F\x98\x80\"}", "<D>\xF0\x9F\x98\x80</D>"},
        {"{\"D\":\"\xE6\x97\xA5\xE6\x9C\xAC\"}", "<D>\xE6\x97\xA5\xE6\x9C\xAC</D>"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.json));
        EXPECT_EQ(xml_of(r.json), r.xml);
    }
}

TEST(XmlPacket, TurnsNestedArraysIntoItemElements) {
    EXPECT_EQ(packet(packet_format::xml, event_type::sales,
                     {R"({"Sid":3,"Lines":[{"Pid":1,"Qty":2,"Price":12.5},{"Pid":7,"Qty":1}]})"}),
              "<Sales><Sale><Sid>3</Sid><Lines><Line><Pid>1</Pid><Qty>2</Qty><Price>12.5</Price>"
              "</Line><Line><Pid>7</Pid><Qty>1</Qty></Line></Lines>"
              "<RVE>20210727.091105994</RVE></Sale></Sales>");
}

TEST(XmlPacket, ConvertsValuesOfEveryKind) {
    struct row {
        std::string_view json;
        std::string_view xml;
    };
    const row rows[] = {
        {R"({"Options":["Yes","No"]})",
         "<Options><Option>Yes</Option><Option>No</Option></Options>"},
        {R"({"Lines":[]})", "<Lines></Lines>"},
        {R"({"Lines":[ ]})", "<Lines></Lines>"},
        {R"({"Want":["products"]})", "<Want><Item>products</Item></Want>"},
        {R"({"Grid":[[1,2],[3]]})", "<Grid><Item><Item>1</Item><Item>2</Item></Item>"
                                    "<Item><Item>3</Item></Item></Grid>"},
        {R"({"Address":{"City":"Oslo","Zip":"0150"}})",
         "<Address><City>Oslo</City><Zip>0150</Zip></Address>"},
        {R"({"Cid":null})", "<Cid></Cid>"},
        {R"({"Flag":true,"Other":false})", "<Flag>true</Flag><Other>false</Other>"},
        {R"({"Qty":-2.5,"Big":1e21,"Exact":12.50})",
         "<Qty>-2.5</Qty><Big>1e21</Big><Exact>12.50</Exact>"},
        {R"({"S":""})", "<S></S>"},
        {R"({"S":"null"})", "<S>null</S>"},
        {R"( { "A" : 1 , "B" : [ 1 , 2 ] } )", "<A>1</A><B><Item>1</Item><Item>2</Item></B>"},
        {"{}", ""},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.json));
        EXPECT_EQ(xml_of(r.json), r.xml);
    }
}

TEST(XmlPacket, KeepsTheRveLiteralExactly) {
    // A double cannot hold 20210727.091105994; the XML must carry the literal as written.
    EXPECT_EQ(xml_of(R"({"RVE":20210727.091105994,"From":20210727.090000000})"),
              "<RVE>20210727.091105994</RVE><From>20210727.090000000</From>");

    std::string ready;
    append_control_packet(ready, packet_format::xml, "Ready", "Ready",
                          R"({"RVE":20210727.091105994,"Want":["products","levels"]})");
    EXPECT_EQ(ready, "<Ready><Ready><RVE>20210727.091105994</RVE><Want><Item>products</Item>"
                     "<Item>levels</Item></Want></Ready></Ready>");

    EXPECT_NE(packet(packet_format::xml, event_type::levels, {"{}"}, core::rve{1627376400000})
                  .find("<RVE>20210727.090000000</RVE>"),
              std::string::npos);
}

TEST(VersionedPacket, EachRecordCarriesItsOwnRve) {
    const std::array<versioned_record, 2> records{
        versioned_record{R"({"Pid":1})", core::rve{1627376400000}},
        versioned_record{R"({"Pid":2,"Description":"a<b"})", sample_rve}};
    std::string json;
    append_packet(json, packet_format::json, event_type::products, records);
    EXPECT_EQ(json, R"({"Products":[{"Pid":1,"RVE":20210727.090000000},)"
                    R"({"Pid":2,"Description":"a<b","RVE":20210727.091105994}]})");
    std::string xml;
    append_packet(xml, packet_format::xml, event_type::products, records);
    EXPECT_EQ(xml, "<Products><Product><Pid>1</Pid><RVE>20210727.090000000</RVE></Product>"
                   "<Product><Pid>2</Pid><Description>a&lt;b</Description>"
                   "<RVE>20210727.091105994</RVE></Product></Products>");
}

TEST(VersionedPacket, EmptyListIsAnEmptyPacket) {
    std::string json;
    append_packet(json, packet_format::json, event_type::levels,
                  std::span<const versioned_record>{});
    EXPECT_EQ(json, R"({"Levels":[]})");
}

TEST(ControlPacket, JsonWrapsTheRecordUnderTheKey) {
    std::string out;
    append_control_packet(out, packet_format::json, "Reset", "Reset",
                          R"({"Reason":"history_expired","From":20210727.091105994})");
    EXPECT_EQ(out, R"({"Reset":[{"Reason":"history_expired","From":20210727.091105994}]})");
}

TEST(ControlPacket, XmlWrapsTheRecordInKeyAndItem) {
    std::string out;
    append_control_packet(out, packet_format::xml, "Reset", "Reset",
                          R"({"Reason":"history_expired"})");
    EXPECT_EQ(out, "<Reset><Reset><Reason>history_expired</Reason></Reset></Reset>");
}

TEST(XmlText, EscapesForCharacterDataAndAttributes) {
    std::string out = "x";
    append_xml_text(out, "<a href=\"b\" c='d'>&\n");
    EXPECT_EQ(out, "x&lt;a href=&quot;b&quot; c=&apos;d&apos;&gt;&amp;&#10;");
}

TEST(XmlPacket, MalformedJsonNeitherCrashesNorReadsOutOfBounds) {
    std::vector<std::string> inputs = {
        "",
        "{",
        "}",
        "[1,2]",
        "not json",
        R"({"a")",
        R"({"a":)",
        R"({"a":1)",
        R"({"a":1,)",
        R"({"a":1,})",
        R"({"a" 1})",
        R"({a:1})",
        R"({"a":"unterminated)",
        R"({"a":"ends in backslash\)",
        R"({"a":"\u12"})",
        R"({"a":"\u12)",
        R"({"a":"\uzzzz"})",
        R"({"a":"\ud83d"})",
        R"({"a":"\ud83d\u"})",
        R"({"a":"\ud83d\u0041"})",
        R"({"a":"\udbff\uffff"})",
        R"({"a":[1,2)",
        R"({"a":[1 2]})",
        R"({"a":[,]})",
        R"({"a":{"b":)",
        R"({"a":{"b":1}})",
        R"({"a":})",
        R"({"a":,"b":1})",
        std::string("{\"a\":\"x\0y\"}", 11),
        "{\"a\":\"\xff\xfe\"}",
        "{\"a\":" + std::string(2000, '[') + std::string(2000, ']') + "}",
        "{\"a\":" + std::string(2000, '['),
        "{\"a\":" + std::string(2000, '{'),
        "{" + std::string(5000, '"'),
    };
    for (std::size_t n = 0; n < 30; ++n) {
        // Every prefix of a realistic record.
        const std::string full = R"({"Sid":3,"Lines":[{"Pid":1,"Price":12.5}],"T":"a\"b\u00e9"})";
        inputs.push_back(full.substr(0, n * full.size() / 30));
    }
    for (const auto& in : inputs) {
        SCOPED_TRACE(in.substr(0, 60));
        std::string out;
        append_xml_members(out, in);
        EXPECT_EQ(out.find('\n'), std::string::npos);
        std::string pkt;
        const std::array<std::string_view, 1> records{in};
        append_packet(pkt, packet_format::xml, event_type::sales, records, sample_rve);
        EXPECT_TRUE(pkt.starts_with("<Sales><Sale>"));
        EXPECT_TRUE(pkt.ends_with("<RVE>20210727.091105994</RVE></Sale></Sales>"));
    }
}

} // namespace
} // namespace posfeed::feed
