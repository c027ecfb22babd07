#include "http/metrics.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace posfeed::http {
namespace {

namespace ip = boost::asio::ip;

TEST(Metrics, LoopbackIsEvery127AddressAndIpv6LoopbackMappedOrNot) {
    struct row {
        std::string_view address;
        bool loopback;
    };
    const row rows[] = {
        {"127.0.0.1", true},
        {"127.1.2.3", true},
        {"127.255.255.255", true},
        {"::1", true},
        {"::ffff:127.0.0.1", true},
        {"::ffff:127.9.9.9", true},
        {"128.0.0.1", false},
        {"126.255.255.255", false},
        {"10.0.0.1", false},
        {"192.168.1.20", false},
        {"0.0.0.0", false},
        {"::", false},
        {"::2", false},
        {"::ffff:10.0.0.1", false},
        {"::127.0.0.1", false}, // IPv4-compatible, deprecated: not a loopback peer
        {"fe80::1", false},
        {"2001:db8::1", false},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.address));
        EXPECT_EQ(is_loopback(ip::make_address(r.address)), r.loopback);
    }
}

constexpr std::string_view token = "s3cret-metrics-token-0123";

TEST(Metrics, WithoutATokenAForwardedRequestIsRefusedEvenFromLoopback) {
    const auto denied = metrics_access("", std::nullopt, ip::make_address("127.0.0.1"), true);
    ASSERT_TRUE(denied);
    EXPECT_EQ(denied->status(), 403);
    EXPECT_NE(denied->message.find("forwarded by a proxy"), std::string::npos) << denied->message;
    // With a token the token decides, forwarded or not.
    EXPECT_FALSE(
        metrics_access(token, "Bearer " + std::string(token), ip::make_address("127.0.0.1"), true));
}

TEST(Metrics, WithoutATokenOnlyLoopbackPeersMayRead) {
    EXPECT_FALSE(metrics_access("", std::nullopt, ip::make_address("127.0.0.1")));
    EXPECT_FALSE(metrics_access("", std::nullopt, ip::make_address("::1")));
    EXPECT_FALSE(metrics_access("", std::nullopt, ip::make_address("::ffff:127.0.0.1")));
    // A header changes nothing when no token is set.
    EXPECT_FALSE(metrics_access("", "Bearer whatever", ip::make_address("127.0.0.1")));
    for (const std::string_view peer : {"10.1.2.3", "2001:db8::1", "::ffff:192.0.2.1", "0.0.0.0"}) {
        SCOPED_TRACE(std::string(peer));
        const auto denied = metrics_access("", "Bearer whatever", ip::make_address(peer));
        ASSERT_TRUE(denied);
        EXPECT_EQ(denied->status(), 403);
        EXPECT_TRUE(denied->is(core::error_code::permission_denied));
        EXPECT_NE(denied->message.find("metrics.token"), std::string::npos) << denied->message;
        EXPECT_NE(denied->message.find("loopback"), std::string::npos) << denied->message;
    }
}

TEST(Metrics, WithATokenEveryPeerMustPresentIt) {
    const std::string good = "Bearer " + std::string(token);
    for (const std::string_view peer : {"127.0.0.1", "::1", "10.1.2.3", "2001:db8::1"}) {
        SCOPED_TRACE(std::string(peer));
        EXPECT_FALSE(metrics_access(token, good, ip::make_address(peer)));
    }
    // The scheme is case-insensitive (RFC 9110); spaces around the token are not part of it.
    EXPECT_FALSE(metrics_access(token, "bearer " + std::string(token), ip::make_address("::1")));
    EXPECT_FALSE(
        metrics_access(token, "BEARER  " + std::string(token) + " ", ip::make_address("::1")));

    struct row {
        std::optional<std::string> authorization;
        std::string_view why;
    };
    const row rows[] = {
        {std::nullopt, "no header"},
        {"", "empty header"},
        {"Bearer", "scheme only"},
        {"Bearer ", "no token"},
        {std::string(token), "no scheme"},
        {"Basic " + std::string(token), "another scheme"},
        {"Bearer " + std::string(token.substr(1)), "too short"},
        {"Bearer " + std::string(token) + "x", "too long"},
        {"Bearer " + std::string(token.substr(0, token.size() - 1)) + "4", "last character"},
        {"Bearer S3cret-metrics-token-0123", "case matters in the token"},
        {"Bearer" + std::string(token), "no space after the scheme"},
    };
    for (const auto& r : rows) {
        for (const std::string_view peer : {"127.0.0.1", "10.1.2.3"}) {
            SCOPED_TRACE(std::string(r.why) + " from " + std::string(peer));
            const auto denied = metrics_access(
                token,
                r.authorization ? std::optional<std::string_view>(*r.authorization) : std::nullopt,
                ip::make_address(peer));
            ASSERT_TRUE(denied);
            EXPECT_EQ(denied->status(), 401);
            EXPECT_TRUE(denied->is(core::error_code::unauthenticated));
            EXPECT_NE(denied->message.find("metrics.token"), std::string::npos) << denied->message;
            EXPECT_NE(denied->message.find("Authorization: Bearer"), std::string::npos)
                << denied->message;
            // Neither the secret nor what was presented is echoed.
            EXPECT_EQ(denied->message.find("s3cret"), std::string::npos) << denied->message;
        }
    }
}

TEST(Metrics, RendersTheGaugesPassedIn) {
    metrics m(2);
    metrics::gauges now;
    now.connections = 7;
    now.max_connections = 100;
    now.streams = 3;
    now.queued_bytes = 42;
    now.database_up = true;
    const auto text = m.render(now, store::store_stats{});
    EXPECT_NE(text.find("\nposfeed_connections 7\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\nposfeed_connections_max 100\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\nposfeed_database_up 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\nposfeed_streams 3\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\nposfeed_queue_bytes 42\n"), std::string::npos) << text;
    now.database_up = false;
    EXPECT_NE(m.render(now, store::store_stats{}).find("\nposfeed_database_up 0\n"),
              std::string::npos);
}

} // namespace
} // namespace posfeed::http
