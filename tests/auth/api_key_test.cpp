#include "auth/api_key.hpp"
#include "auth/credential.hpp"
#include "store/open_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <string_view>

namespace posfeed::auth {
namespace {

namespace fs = std::filesystem;
using core::event_type;

TEST(ParseScopes, StarMeansEveryTypeAndWrite) {
    const auto s = parse_scopes("*");
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->read, core::all_types);
    EXPECT_TRUE(s->write);
}

TEST(ParseScopes, ReadsListsOfTypesAndWrite) {
    struct row {
        std::string_view in;
        core::type_mask read;
        bool write;
    };
    const row rows[] = {
        {"products", core::bit(event_type::products), false},
        {"products,levels", core::bit(event_type::products) | core::bit(event_type::levels), false},
        {"write", 0, true},
        {"levels,write", core::bit(event_type::levels), true},
        {"write,sale,usermessage", core::bit(event_type::sale) | core::bit(event_type::usermessage),
         true},
        {"products,products", core::bit(event_type::products), false},
        {"products,customers,levels,sales,debug,sale,usermessage,userprompt,barcode",
         core::all_types, false},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.in));
        const auto s = parse_scopes(r.in);
        ASSERT_TRUE(s.ok()) << s.err().message;
        EXPECT_EQ(s->read, r.read);
        EXPECT_EQ(s->write, r.write);
    }
}

TEST(ParseScopes, UnknownEntriesAreErrorsNamingThem) {
    struct row {
        std::string_view in;
        std::vector<std::string_view> named;
    };
    const row rows[] = {
        {"read", {"'read'"}},
        {"products,admin", {"'admin'"}},
        {"Products", {"'Products'"}},
        {"WRITE", {"'WRITE'"}},
        {"bogus,products,nope", {"'bogus'", "'nope'"}},
        {"", {"''"}},
        {"products,", {"''"}},
        {"*,write", {"'*'"}},
        {" products", {"' products'"}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.in));
        const auto s = parse_scopes(r.in);
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.err().code, core::error_code::invalid_argument);
        for (const auto n : r.named) {
            EXPECT_NE(s.err().message.find(n), std::string::npos) << s.err().message;
        }
        EXPECT_NE(s.err().message.find("'write'"), std::string::npos) << s.err().message;
    }
}

TEST(FormatScopes, IsCanonicalAndParsesBack) {
    struct row {
        scopes in;
        std::string_view text;
    };
    const row rows[] = {
        {{core::all_types, true}, "*"},
        {{core::all_types, false},
         "products,customers,levels,sales,debug,sale,usermessage,userprompt,barcode"},
        {{core::bit(event_type::levels) | core::bit(event_type::products), false},
         "products,levels"},
        {{core::bit(event_type::barcode), true}, "barcode,write"},
        {{0, true}, "write"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.text));
        EXPECT_EQ(format_scopes(r.in), r.text);
        const auto back = parse_scopes(format_scopes(r.in));
        ASSERT_TRUE(back.ok());
        EXPECT_EQ(back->read, r.in.read);
        EXPECT_EQ(back->write, r.in.write);
    }
}

TEST(Sha256Hex, MatchesKnownVectors) {
    struct row {
        std::string_view in;
        std::string_view hex;
    };
    const row rows[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.in));
        EXPECT_EQ(sha256_hex(r.in), r.hex);
    }
}

TEST(RandomHex, GivesTwoLowercaseHexDigitsPerByteAndDiffers) {
    const std::string a = random_hex(16);
    const std::string b = random_hex(16);
    EXPECT_EQ(a.size(), 32u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(a, b);
    EXPECT_EQ(random_hex(0), "");
}

TEST(EqualSecret, ComparesWholeStrings) {
    EXPECT_TRUE(equal_secret("abc", "abc"));
    EXPECT_TRUE(equal_secret("", ""));
    EXPECT_FALSE(equal_secret("abc", "abd"));
    EXPECT_FALSE(equal_secret("abc", "ab"));
    EXPECT_FALSE(equal_secret("ab", "abc"));
}

TEST(GenerateApiKey, SplitsBackIntoItsIdAndHashedSecret) {
    const auto k = generate_api_key("rm1", scopes{core::bit(event_type::products), true});
    EXPECT_TRUE(k.key.starts_with("pfk_"));
    EXPECT_EQ(k.key.size(), 4u + 16 + 1 + 64);
    const auto parts = split_api_key(k.key);
    ASSERT_TRUE(parts.has_value());
    EXPECT_EQ(parts->first, k.row.id);
    EXPECT_EQ(parts->first.size(), 16u);
    EXPECT_EQ(parts->second.size(), 64u);
    EXPECT_EQ(sha256_hex(parts->second), k.row.hash);
    EXPECT_EQ(k.key.find(k.row.hash), std::string::npos) << "the stored hash is not the secret";
    EXPECT_EQ(k.row.rmsystem, "rm1");
    EXPECT_EQ(k.row.scopes, "products,write");
    EXPECT_FALSE(k.row.revoked);
}

TEST(GenerateApiKey, GivesDifferentKeysEachTime) {
    std::set<std::string> ids;
    std::set<std::string> keys;
    for (int i = 0; i < 50; ++i) {
        const auto k = generate_api_key("rm1", scopes{core::all_types, true});
        ids.insert(k.row.id);
        keys.insert(k.key);
    }
    EXPECT_EQ(ids.size(), 50u);
    EXPECT_EQ(keys.size(), 50u);
}

TEST(SplitApiKey, RejectsAnythingNotOfOurFormat) {
    const std::string id(16, 'a');
    const std::string secret(64, '0');
    const std::string good = "pfk_" + id + "_" + secret;
    ASSERT_TRUE(split_api_key(good).has_value());
    const std::string bad[] = {
        "",
        "pfk_",
        good.substr(1),                                     // prefix damaged
        "PFK_" + id + "_" + secret,                         // prefix case
        "pfx_" + id + "_" + secret,                         // prefix letters
        "pfk_" + id + "-" + secret,                         // separator
        "pfk_" + id + "_" + secret + "0",                   // too long
        "pfk_" + id + "_" + secret.substr(1),               // too short
        "pfk_" + std::string(15, 'a') + "_" + secret + "0", // separator shifted
        "pfk_" + std::string(15, 'a') + "g_" + secret,      // not hex
        "pfk_" + id + "_" + std::string(63, '0') + "G",     // uppercase hex
        "pfk_" + id + "_" + std::string(63, '0') + " ",     // trailing space inside the length
        std::string(" ").append(good, 1), // not " " + ...: a false GCC 12 -O3 -Wrestrict
        "Bearer " + good,
    };
    for (const auto& key : bad) {
        SCOPED_TRACE(key);
        EXPECT_FALSE(split_api_key(key).has_value());
    }
}

/// A real SQLite store in a fresh temporary directory with RmSystem `rm1` and one key.
class AuthenticateApiKey : public ::testing::Test {
  protected:
    void SetUp() override {
        std::random_device rd;
        dir_ = fs::temp_directory_path() /
               ("posfeed_auth_test_" + std::to_string(rd()) + "_" + std::to_string(rd()));
        ASSERT_TRUE(fs::create_directories(dir_));
        db_ = store::open_store("sqlite:" + (dir_ / "t.db").string());
        ASSERT_TRUE(db_->create_rmsystem("rm1").ok());
        key_ = generate_api_key(
            "rm1", scopes{core::bit(event_type::products) | core::bit(event_type::levels), false});
        ASSERT_TRUE(db_->add_api_key(key_.row).ok());
    }

    void TearDown() override {
        db_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    void expect_unauthenticated(std::string_view presented) {
        const auto c = authenticate_api_key(*db_, presented);
        ASSERT_FALSE(c.ok());
        EXPECT_EQ(c.err().code, core::error_code::unauthenticated);
        if (!presented.empty()) {
            EXPECT_EQ(c.err().message.find(presented), std::string::npos)
                << "the message must never echo the key";
        }
        const auto parts = split_api_key(presented);
        if (parts) {
            EXPECT_EQ(c.err().message.find(parts->second), std::string::npos);
        }
    }

    fs::path dir_;
    std::unique_ptr<store::store> db_;
    new_api_key key_;
};

TEST_F(AuthenticateApiKey, AcceptsAValidKey) {
    const auto c = authenticate_api_key(*db_, key_.key);
    ASSERT_TRUE(c.ok()) << c.err().message;
    EXPECT_EQ(c->kind, credential::kind::api_key);
    EXPECT_EQ(c->id, key_.row.id);
    EXPECT_EQ(c->rmsystem, "rm1");
    EXPECT_EQ(c->allowed.read, core::bit(event_type::products) | core::bit(event_type::levels));
    EXPECT_FALSE(c->allowed.write);
}

TEST_F(AuthenticateApiKey, RejectsAWrongSecret) {
    std::string wrong = key_.key;
    wrong.back() = wrong.back() == '0' ? '1' : '0';
    expect_unauthenticated(wrong);
}

TEST_F(AuthenticateApiKey, RejectsMalformedKeys) {
    const std::string malformed[] = {
        "", "secret", key_.key + "0", key_.key.substr(0, 84), key_.row.id, key_.row.hash};
    for (const auto& k : malformed) {
        SCOPED_TRACE(k);
        expect_unauthenticated(k);
    }
}

TEST_F(AuthenticateApiKey, RejectsAnUnknownId) {
    const auto other = generate_api_key("rm1", scopes{core::all_types, true}); // never stored
    expect_unauthenticated(other.key);
}

TEST_F(AuthenticateApiKey, RejectsAnotherKeysSecretUnderThisId) {
    const auto other = generate_api_key("rm1", scopes{core::all_types, true});
    const auto secret = split_api_key(other.key)->second;
    expect_unauthenticated("pfk_" + key_.row.id + "_" + std::string(secret));
}

TEST_F(AuthenticateApiKey, RejectsARevokedKey) {
    ASSERT_TRUE(db_->revoke_api_key(key_.row.id).ok());
    expect_unauthenticated(key_.key);
    const auto c = authenticate_api_key(*db_, key_.key);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.err().message.find("revoked"), std::string::npos) << c.err().message;
}

TEST_F(AuthenticateApiKey, KeysBelongToTheirOwnRmsystem) {
    ASSERT_TRUE(db_->create_rmsystem("rm2").ok());
    const auto k2 = generate_api_key("rm2", scopes{core::all_types, true});
    ASSERT_TRUE(db_->add_api_key(k2.row).ok());
    const auto c = authenticate_api_key(*db_, k2.key);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->rmsystem, "rm2");
    EXPECT_EQ(c->allowed.read, core::all_types);
    EXPECT_TRUE(c->allowed.write);
}

} // namespace
} // namespace posfeed::auth
