// Barcode classification (SPEC 4, pos/barcode.hpp): TypeCode/TypeStr of raw scans. Check digits
// are computed here independently (GS1 mod 10: weights 3, 1, 3, ... from the right, excluding
// the check digit), and real-world codes are included as they are printed on products.

#include "pos/barcode.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace posfeed::pos {
namespace {

using bt = barcode_type;

/// The GS1 check digit of `body` (the code without its check digit).
char check_digit(std::string_view body) {
    int sum = 0;
    bool three = true;
    for (auto it = body.rbegin(); it != body.rend(); ++it) {
        sum += (*it - '0') * (three ? 3 : 1);
        three = !three;
    }
    return static_cast<char>('0' + (10 - sum % 10) % 10);
}

/// `body` followed by its check digit.
std::string with_check(std::string_view body) {
    return std::string(body) + check_digit(body);
}

/// `code` with its last digit replaced by the next one (mod 10): a wrong check digit.
std::string wrong_check(std::string code) {
    code.back() = static_cast<char>('0' + (code.back() - '0' + 1) % 10);
    return code;
}

struct scan_case {
    std::string raw;
    bt expected;
    std::string_view why;
};

std::string printable(std::string_view raw) {
    std::string out;
    for (const char c : raw) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7F) {
            static constexpr char hex[] = "0123456789ABCDEF";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xF];
        } else {
            out += c;
        }
    }
    return out;
}

void expect_all(const std::vector<scan_case>& cases) {
    for (const auto& c : cases) {
        SCOPED_TRACE("raw '" + printable(c.raw) + "': " + std::string(c.why));
        const bt got = classify_barcode(c.raw);
        EXPECT_EQ(static_cast<int>(got), static_cast<int>(c.expected))
            << "got " << to_string(got) << ", expected " << to_string(c.expected);
    }
}

TEST(CheckDigitHelper, MatchesPublishedCodes) {
    // The helper above must agree with check digits printed on real products, or every table
    // below would test nothing.
    EXPECT_EQ(with_check("400638133393"), "4006381333931");
    EXPECT_EQ(with_check("03600029145"), "036000291452");
    EXPECT_EQ(with_check("590123412345"), "5901234123457");
    EXPECT_EQ(with_check("978030640615"), "9780306406157");
    EXPECT_EQ(with_check("9638507"), "96385074");
}

TEST(Gs1CheckDigit, AcceptsValidAndRejectsWrongOrMalformed) {
    const std::vector<std::pair<std::string, bool>> cases = {
        {"4006381333931", true},
        {"4006381333932", false},
        {"036000291452", true},
        {"036000291450", false},
        {"96385074", true},
        {"10614141000415", true},
        {"10614141000416", false},
        {"00", true}, // body "0": check 0
        {"01", false},
        {"", false},
        {"7", false}, // nothing to check against
        {"400638133393a", false},
        {"4006381333 31", false},
        {"-4006381333931", false},
    };
    for (const auto& [digits, ok] : cases) {
        SCOPED_TRACE("'" + digits + "'");
        EXPECT_EQ(gs1_check_digit_ok(digits), ok);
    }
}

TEST(BarcodeType, NamesOfEveryTypeAsInSpec) {
    const std::vector<std::pair<bt, std::string_view>> names = {
        {bt::unknown, "UNKNOWN"}, {bt::ean13, "EAN13"},     {bt::upca, "UPCA"},
        {bt::ean8, "EAN8"},       {bt::upce, "UPCE"},       {bt::gtin14, "GTIN14"},
        {bt::gs1, "GS1"},         {bt::code128, "CODE128"}, {bt::url, "URL"},
        {bt::instore, "INSTORE"},
    };
    int code = 0;
    for (const auto& [type, name] : names) {
        SCOPED_TRACE(std::string(name));
        EXPECT_EQ(static_cast<int>(type), code++) << "TypeCode as in SPEC 4";
        EXPECT_EQ(to_string(type), name);
    }
}

TEST(ClassifyBarcode, Ean13) {
    expect_all({
        {"4006381333931", bt::ean13, "real product (Stabilo pen)"},
        {"5901234123457", bt::ean13, "GS1 example"},
        {"9780306406157", bt::ean13, "ISBN-13 is an EAN-13 (Bookland 978)"},
        {with_check("871234567890"), bt::ean13, "computed check digit"},
        {with_check("100000000000"), bt::ean13, "prefix 10"},
        {with_check("300000000000"), bt::ean13, "prefix 30 is not in-store"},
        {with_check("190000000000"), bt::ean13, "prefix 19 is not in-store"},
        {"4006381333932", bt::unknown, "wrong check digit"},
        {wrong_check("5901234123457"), bt::unknown, "wrong check digit"},
        {"5901234123475", bt::unknown, "two digits swapped"},
    });
}

TEST(ClassifyBarcode, UpcA) {
    expect_all({
        {"036000291452", bt::upca, "real product (UPC-A on a US product)"},
        {"042100005264", bt::upca, "UPC-A expansion of UPC-E 04252614"},
        {with_check("01234567890"), bt::upca, "computed check digit"},
        {with_check("21200000345"), bt::upca, "number system 2 stays UPC-A"},
        {"036000291450", bt::unknown, "wrong check digit"},
        {wrong_check("036000291452"), bt::unknown, "wrong check digit"},
    });
}

TEST(ClassifyBarcode, Ean8) {
    expect_all({
        {"96385074", bt::ean8, "GS1 example"},
        {with_check("7351353"), bt::ean8, "computed check digit"},
        {with_check("5512345"), bt::ean8, "computed check digit"},
        {"96385075", bt::unknown, "wrong check digit, number system 9 cannot be UPC-E"},
        {wrong_check(with_check("7351353")), bt::unknown, "wrong check digit"},
        // Eight digits that are a valid EAN-8 are EAN-8, even when a UPC-E reading would also be
        // valid (pos/barcode.hpp: EAN-8 first). Every number-system-0 UPC-E ending in 5..9 is
        // such a code: its check digit equals the EAN-8 one.
        {"01234565", bt::ean8, "valid EAN-8 first"},
        {"01234558", bt::ean8, "valid as EAN-8 and as UPC-E (012345000058): EAN-8 wins"},
    });
}

TEST(ClassifyBarcode, UpcE) {
    // {UPC-E without its check digit, its UPC-A expansion without the check digit}: the check
    // digit of a UPC-E is the one of its UPC-A expansion.
    const std::vector<std::pair<std::string_view, std::string_view>> expansions = {
        {"0425261", "04210000526"}, // last digit 1: manufacturer d1 d2 d6 00, product 00 d3 d4 d5
        {"0123450", "01200000345"}, // last digit 0
        {"0123451", "01210000345"}, // last digit 1
        {"0123452", "01220000345"}, // last digit 2
        {"0123453", "01230000045"}, // last digit 3: manufacturer d1 d2 d3 00, product 000 d4 d5
        {"0123454", "01234000005"}, // last digit 4: manufacturer d1..d4 0, product 0000 d5
        {"1425261", "14210000526"}, // number system 1
    };
    std::vector<scan_case> cases = {
        {"04252614", bt::upce, "real UPC-E (expands to 042100005264)"},
        {"04252610", bt::ean8, "same digits with check 0: a valid EAN-8 instead"},
        {"04252613", bt::unknown, "wrong check digit for both readings"},
        {"04252615", bt::unknown, "wrong check digit for both readings"},
        {"24252618", bt::unknown,
         "number system 2 is not UPC-E, though 24210000526 has check digit 8 (and no EAN-8)"},
    };
    for (const auto& [e, a] : expansions) {
        const char check = check_digit(a);
        const std::string upce = std::string(e) + check;
        ASSERT_NE(check_digit(e), check) << upce << " would also be a valid EAN-8; pick another";
        cases.push_back({upce, bt::upce, "check digit from the UPC-A expansion"});
        cases.push_back({std::string(a) + check, bt::upca, "its UPC-A expansion"});
        std::string bad = upce;
        for (char d = '0'; d <= '9'; ++d) {
            bad.back() = d;
            if (d != check && d != check_digit(e)) {
                cases.push_back({bad, bt::unknown, "neither a UPC-E nor an EAN-8 check digit"});
            }
        }
    }
    expect_all(cases);
}

TEST(ClassifyBarcode, Gtin14) {
    expect_all({
        {"10614141000415", bt::gtin14, "GS1 case code example"},
        {"14006381333938", bt::gtin14, "indicator 1 + the EAN-13 4006381333931 body"},
        {with_check("0400638133393"), bt::gtin14, "indicator 0"},
        {with_check("9012345678901"), bt::gtin14, "indicator 9"},
        {"10614141000416", bt::unknown, "wrong check digit"},
        {"14006381333931", bt::unknown, "the EAN-13 check digit is wrong for 14 digits"},
    });
}

TEST(ClassifyBarcode, InStoreVariableMeasure) {
    std::vector<scan_case> cases;
    for (char second = '0'; second <= '9'; ++second) {
        const std::string body = std::string("2") + second + "1234567890";
        cases.push_back({with_check(body), bt::instore, "prefix 2x, valid check digit"});
        cases.push_back(
            {wrong_check(with_check(body)), bt::unknown, "prefix 2x, wrong check digit"});
    }
    cases.push_back({"2012345678903", bt::instore, "prefix 20"});
    cases.push_back({"2900000123458", bt::instore, "prefix 29: weight/price embedded"});
    expect_all(cases);
}

TEST(ClassifyBarcode, EverySingleDigitErrorIsCaught) {
    // The GS1 mod-10 check catches every single-digit substitution: such a scan is UNKNOWN.
    for (const std::string valid :
         {"4006381333931", "036000291452", "10614141000415", "2012345678903"}) {
        ASSERT_NE(classify_barcode(valid), bt::unknown) << valid;
        for (std::size_t i = 0; i + 1 < valid.size(); ++i) {
            for (char d = '0'; d <= '9'; ++d) {
                if (d == valid[i]) {
                    continue;
                }
                std::string bad = valid;
                bad[i] = d;
                SCOPED_TRACE(valid + " -> " + bad);
                EXPECT_EQ(classify_barcode(bad), bt::unknown);
            }
        }
    }
}

TEST(ClassifyBarcode, Gs1ApplicationIdentifierData) {
    expect_all({
        {"(01)04006381333931", bt::gs1, "GTIN in parenthesised AI form"},
        {"(01)04006381333931(17)251231(10)ABC123", bt::gs1, "GTIN, expiry and batch"},
        {"(00)340123450000000000", bt::gs1, "SSCC, two-digit AI"},
        {"(415)5412345678908(3902)001234", bt::gs1, "three- and four-digit AIs"},
        {"(8200)http://example.com", bt::gs1, "AI data that contains a URL"},
        {"]C1010400638133393110ABC", bt::gs1, "GS1-128 symbology prefix"},
        {"]e00104006381333931", bt::gs1, "GS1 DataBar symbology prefix"},
        {"]d2010400638133393117251231", bt::gs1, "GS1 DataMatrix symbology prefix"},
        {"]Q3010400638133393", bt::gs1, "GS1 QR symbology prefix"},
        {"010400638133393110ABC\x1D"
         "17251231",
         bt::gs1, "GS (0x1D) separator between AIs"},
        {"]C10104006381333931\x1D"
         "10ABC",
         bt::gs1, "prefix and GS separator"},
        {"(0)123", bt::code128, "a one-digit 'AI' is not AI data"},
        {"(12345)6", bt::code128, "a five-digit 'AI' is not AI data"},
        {"(AB)123", bt::code128, "letters are not an AI"},
        {"()123", bt::code128, "empty parentheses"},
        {"x(01)04006381333931", bt::code128, "AI data starts with the parenthesis"},
        {"]C2ABC", bt::code128, "another symbology identifier is plain text"},
    });
}

TEST(ClassifyBarcode, Url) {
    expect_all({
        {"https://example.com/p/4006381333931", bt::url, "https"},
        {"http://example.com", bt::url, "http"},
        {"https://id.gs1.org/01/04006381333931", bt::url, "GS1 Digital Link"},
        {"http://", bt::url, "the scheme alone"},
        {"ftp://example.com/file", bt::code128, "other schemes are text"},
        {"www.example.com", bt::code128, "no scheme"},
        {"https:/example.com", bt::code128, "one slash"},
        {" https://example.com", bt::code128, "leading space"},
    });
}

// URI schemes are case-insensitive (RFC 3986 3.1), and QR codes often carry upper-case URLs
// because the alphanumeric mode is denser.
TEST(ClassifyBarcode, UrlSchemeIsCaseInsensitive) {
    expect_all({
        {"HTTPS://EXAMPLE.COM/P/1", bt::url, "upper-case scheme from a QR code"},
        {"HTTP://EXAMPLE.COM", bt::url, "upper-case http"},
        {"Https://example.com", bt::url, "mixed case"},
    });
}

TEST(ClassifyBarcode, PrintableTextIsCode128) {
    expect_all({
        {"ABC-123", bt::code128, "letters, digits and a dash"},
        {"a", bt::code128, "one letter"},
        {" ", bt::code128, "a space is printable"},
        {"~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./", bt::code128, "every kind of punctuation"},
        {"12345", bt::code128, "5 digits: no GTIN length"},
        {"1234567", bt::code128, "7 digits"},
        {"123456789", bt::code128, "9 digits"},
        {"12345678901", bt::code128, "11 digits"},
        {"123456789012345", bt::code128, "15 digits"},
        {"4006381333931 ", bt::code128, "an EAN-13 with a trailing space is text"},
        {"+4006381333931", bt::code128, "a sign makes it text"},
        {std::string(4096, 'X'), bt::code128, "long text"},
    });
}

TEST(ClassifyBarcode, EmptyControlAndNonAsciiAreUnknown) {
    expect_all({
        {"", bt::unknown, "empty"},
        {"\t", bt::unknown, "a tab"},
        {"ABC\r\n", bt::unknown, "a scanner's CR LF suffix"},
        {"ABC\x07", bt::unknown, "BEL"},
        {std::string("AB\0C", 4), bt::unknown, "an embedded NUL"},
        {"\x1B[A", bt::unknown, "an escape sequence"},
        {"ABC\x7F", bt::unknown, "DEL"},
        {"Caf\xC3\xA9", bt::unknown, "UTF-8 e acute"},
        {"\xE2\x82\xAC"
         "5",
         bt::unknown, "UTF-8 euro sign"},
        {"\xFF\xFE", bt::unknown, "bytes that are not UTF-8"},
        {"40063813339\xC2\xB3"
         "1",
         bt::unknown, "a superscript digit is not a digit"},
    });
}

} // namespace
} // namespace posfeed::pos
