#include "auth/key_cache.hpp"

#include <gtest/gtest.h>

namespace posfeed::auth {
namespace {

using namespace std::chrono_literals;

struct fixture {
    new_api_key key = generate_api_key("rm1", scopes{core::all_types, true});
    credential cred{
        credential::kind::api_key, key.row.id, "rm1", scopes{core::all_types, true}, {}, {}, {}};
};

TEST(KeyCache, AnUncachedOrMalformedKeyIsAskedOfTheStore) {
    const key_cache cache;
    const fixture f;
    EXPECT_FALSE(cache.find(f.key.key).has_value());
    EXPECT_FALSE(cache.find("pfk_not-a-key").has_value());
}

TEST(KeyCache, ACachedKeyAnswersWithItsCredential) {
    key_cache cache;
    const fixture f;
    cache.remember(f.key.row, f.cred);
    const auto found = cache.find(f.key.key);
    ASSERT_TRUE(found.has_value());
    ASSERT_TRUE(found->ok());
    EXPECT_EQ((*found)->id, f.key.row.id);
    EXPECT_EQ((*found)->rmsystem, "rm1");
    EXPECT_TRUE((*found)->allowed.write);
}

TEST(KeyCache, AWrongSecretForACachedIdIsRefusedAsTheStoreWould) {
    key_cache cache;
    const fixture f;
    cache.remember(f.key.row, f.cred);
    const std::string wrong = f.key.key.substr(0, 21) + std::string(64, 'b');
    const auto found = cache.find(wrong);
    ASSERT_TRUE(found.has_value());
    ASSERT_FALSE(found->ok());
    EXPECT_EQ(found->err().code, core::error_code::unauthenticated);
    EXPECT_EQ(found->err().message, bad_api_key().message);
}

TEST(KeyCache, ForgottenAndRevokedKeysAreNotCached) {
    key_cache cache;
    fixture f;
    cache.remember(f.key.row, f.cred);
    cache.forget(f.key.row.id);
    EXPECT_FALSE(cache.find(f.key.key).has_value());
    f.key.row.revoked = true;
    cache.remember(f.key.row, f.cred);
    EXPECT_FALSE(cache.find(f.key.key).has_value());
    EXPECT_EQ(cache.size(), 0U);
}

TEST(KeyCache, AnEntryIsTrustedForMaxAgeOnly) {
    key_cache cache;
    const fixture f;
    const auto t0 = key_cache::clock::now();
    cache.remember(f.key.row, f.cred, t0);
    EXPECT_TRUE(cache.find(f.key.key, t0 + key_cache::max_age).has_value());
    EXPECT_FALSE(cache.find(f.key.key, t0 + key_cache::max_age + 1ms).has_value());
}

TEST(KeyCache, StartsAgainEmptyPastMaxKeys) {
    key_cache cache;
    fixture f;
    for (std::size_t i = 0; i < key_cache::max_keys; ++i) {
        f.key.row.id = std::to_string(i);
        cache.remember(f.key.row, f.cred);
    }
    EXPECT_EQ(cache.size(), key_cache::max_keys);
    f.key.row.id = "one more";
    cache.remember(f.key.row, f.cred);
    EXPECT_EQ(cache.size(), 1U);
}

} // namespace
} // namespace posfeed::auth
