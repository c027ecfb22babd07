#include "core/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

namespace posfeed::core {
namespace {

namespace fs = std::filesystem;

/// A fresh directory under the system temp dir, removed with everything in it.
class ConfigFile : public ::testing::Test {
  protected:
    void SetUp() override {
        std::random_device rd;
        dir_ = fs::temp_directory_path() /
               ("posfeed_config_test_" + std::to_string(rd()) + "_" + std::to_string(rd()));
        ASSERT_TRUE(fs::create_directories(dir_));
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    /// Writes `text` to a file in the temp dir and returns its path.
    std::string write(std::string_view text, std::string_view name = "posfeed.toml") {
        const fs::path p = dir_ / name;
        std::ofstream out(p, std::ios::binary);
        out << text;
        return p.string();
    }

    fs::path dir_;
};

TEST_F(ConfigFile, EmptyFileKeepsEveryDefault) {
    config cfg;
    ASSERT_TRUE(load_config_file(write(""), cfg).ok());
    const config defaults;
    EXPECT_EQ(cfg.listen, "127.0.0.1:8080");
    EXPECT_EQ(cfg.db, "sqlite:posfeed-data/posfeed.db");
    EXPECT_EQ(cfg.threads, defaults.threads);
    EXPECT_FALSE(cfg.demo);
    EXPECT_EQ(cfg.log_level, "info");
    EXPECT_EQ(cfg.log_format, "text");
    EXPECT_TRUE(cfg.cors_origins.empty());
    EXPECT_EQ(cfg.feed.retry_ms, defaults.feed.retry_ms);
    EXPECT_EQ(cfg.feed.keepalive_ms, 15000);
    EXPECT_EQ(cfg.history.keep_ms, 7LL * 24 * 3600 * 1000);
    EXPECT_EQ(cfg.limits.streams_per_credential, 8);
    EXPECT_EQ(cfg.limits.subscriber_queue_bytes, 1024u * 1024u);
    EXPECT_EQ(cfg.metrics.token, "");
}

TEST_F(ConfigFile, OverridesOnlyTheKeysItNames) {
    config cfg;
    cfg.db = "sqlite:/from/flags.db"; // set before: a file that does not name db keeps it
    const auto s = load_config_file(write(R"(
listen = "0.0.0.0:9090"
threads = 4
demo = true
log_level = "debug"
log_format = "json"
shutdown_grace_ms = 500
cors_origins = ["https://shop.example", "http://localhost:3000"]

[feed]
retry_ms = 1000
keepalive_ms = 2000
replay_batch = 50
debug_interval_ms = 250

[history]
keep_ms = 3600000
prune_interval_ms = 1000

[sessions]
idle_ms = 60000
cookie_secure = true
login_free_failures = 5

[limits]
streams_per_credential = 2
max_connections = 100
header_bytes = 4096
body_bytes = 65536
header_timeout_ms = 3000
subscriber_queue_bytes = 2048

[metrics]
token = "0123456789abcdef-scrape"
)"),
                                    cfg);
    ASSERT_TRUE(s.ok()) << s.err().message;
    EXPECT_EQ(cfg.listen, "0.0.0.0:9090");
    EXPECT_EQ(cfg.db, "sqlite:/from/flags.db");
    EXPECT_EQ(cfg.threads, 4);
    EXPECT_TRUE(cfg.demo);
    EXPECT_EQ(cfg.log_level, "debug");
    EXPECT_EQ(cfg.log_format, "json");
    EXPECT_EQ(cfg.shutdown_grace_ms, 500);
    EXPECT_EQ(cfg.cors_origins,
              (std::vector<std::string>{"https://shop.example", "http://localhost:3000"}));
    EXPECT_EQ(cfg.feed.retry_ms, 1000);
    EXPECT_EQ(cfg.feed.keepalive_ms, 2000);
    EXPECT_EQ(cfg.feed.replay_batch, 50);
    EXPECT_EQ(cfg.feed.debug_interval_ms, 250);
    EXPECT_EQ(cfg.history.keep_ms, 3600000);
    EXPECT_EQ(cfg.history.prune_interval_ms, 1000);
    EXPECT_EQ(cfg.sessions.idle_ms, 60000);
    EXPECT_TRUE(cfg.sessions.cookie_secure);
    EXPECT_EQ(cfg.sessions.login_free_failures, 5);
    EXPECT_EQ(cfg.limits.streams_per_credential, 2);
    EXPECT_EQ(cfg.limits.max_connections, 100);
    EXPECT_EQ(cfg.limits.header_bytes, 4096u);
    EXPECT_EQ(cfg.limits.body_bytes, 65536u);
    EXPECT_EQ(cfg.limits.header_timeout_ms, 3000);
    EXPECT_EQ(cfg.limits.subscriber_queue_bytes, 2048u);
    EXPECT_EQ(cfg.metrics.token, "0123456789abcdef-scrape");
}

TEST_F(ConfigFile, PartialSectionKeepsTheOtherKeysOfThatSection) {
    config cfg;
    ASSERT_TRUE(load_config_file(write("[feed]\nretry_ms = 42\n"), cfg).ok());
    EXPECT_EQ(cfg.feed.retry_ms, 42);
    EXPECT_EQ(cfg.feed.keepalive_ms, 15000);
    EXPECT_EQ(cfg.feed.replay_batch, feed_config{}.replay_batch);
}

TEST_F(ConfigFile, UnknownKeysAreErrorsNamingTheKey) {
    struct row {
        std::string_view toml;
        std::string_view named;
    };
    const row rows[] = {
        {"listne = \"0.0.0.0:1\"\n", "'listne'"},
        {"[feed]\nretry = 5\n", "'feed.retry'"},
        {"[history]\nkeep_days = 5\n", "'history.keep_days'"},
        {"[limits]\nstreams = 5\n", "'limits.streams'"},
        {"[sessions]\nidle = 5\n", "'sessions.idle'"},
        {"[metrics]\ntokens = \"0123456789abcdef\"\n", "'metrics.tokens'"},
        {"[limit]\nstreams_per_credential = 5\n", "'limit'"},
        {"[feed.extra]\nx = 1\n", "'feed.extra'"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.toml);
        config cfg;
        const auto s = load_config_file(write(r.toml), cfg);
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.err().code, error_code::invalid_argument);
        EXPECT_NE(s.err().message.find(r.named), std::string::npos) << s.err().message;
        EXPECT_NE(s.err().message.find("unknown key"), std::string::npos) << s.err().message;
    }
}

TEST_F(ConfigFile, ReportsEveryUnknownKeyAtOnce) {
    config cfg;
    const auto s = load_config_file(write("typo1 = 1\n[feed]\ntypo2 = 2\n"), cfg);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.err().message.find("'typo1'"), std::string::npos) << s.err().message;
    EXPECT_NE(s.err().message.find("'feed.typo2'"), std::string::npos) << s.err().message;
}

TEST_F(ConfigFile, WrongValueTypesAreErrorsNamingTheKey) {
    struct row {
        std::string_view toml;
        std::string_view named;
    };
    const row rows[] = {
        {"listen = 8080\n", "'listen'"},
        {"threads = \"four\"\n", "'threads'"},
        {"threads = -1\n", "'threads'"},
        {"threads = 1.5\n", "'threads'"},
        {"demo = \"yes\"\n", "'demo'"},
        {"log_format = 1\n", "'log_format'"},
        {"cors_origins = \"https://a.example\"\n", "'cors_origins'"},
        {"cors_origins = [\"https://a.example\", 3]\n", "'cors_origins'"},
        {"[feed]\nretry_ms = \"3s\"\n", "'feed.retry_ms'"},
        {"[limits]\nbody_bytes = -5\n", "'limits.body_bytes'"},
        {"[sessions]\ncookie_secure = \"yes\"\n", "'sessions.cookie_secure'"},
        {"[metrics]\ntoken = 1234567890123456\n", "'metrics.token'"},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.toml);
        config cfg;
        const auto s = load_config_file(write(r.toml), cfg);
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.err().code, error_code::invalid_argument);
        EXPECT_NE(s.err().message.find(r.named), std::string::npos) << s.err().message;
    }
}

TEST_F(ConfigFile, SectionThatIsNotATableIsAnError) {
    // `feed = 5` names a known section with a value that is not a table: it must not be
    // silently ignored.
    config cfg;
    const auto s = load_config_file(write("feed = 5\n"), cfg);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.err().message.find("'feed'"), std::string::npos) << s.err().message;
}

TEST_F(ConfigFile, IntegerTooLargeForTheSettingIsAnError) {
    // 4294967297 does not fit an int; it must not wrap around to 1.
    config cfg;
    const auto s = load_config_file(write("threads = 4294967297\n"), cfg);
    EXPECT_FALSE(s.ok()) << "threads became " << cfg.threads;
}

TEST_F(ConfigFile, MalformedTomlNamesTheFile) {
    config cfg;
    const std::string path = write("listen = \"unterminated\n");
    const auto s = load_config_file(path, cfg);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.err().code, error_code::invalid_argument);
    EXPECT_NE(s.err().message.find(path), std::string::npos) << s.err().message;
}

TEST_F(ConfigFile, MissingFileIsAnErrorNamingIt) {
    config cfg;
    const std::string path = (dir_ / "does-not-exist.toml").string();
    const auto s = load_config_file(path, cfg);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.err().message.find(path), std::string::npos) << s.err().message;
}

TEST(Validate, AcceptsTheDefaults) {
    const auto s = validate(config{});
    EXPECT_TRUE(s.ok()) << s.err().message;
}

TEST(Validate, LogFormatIsTextOrJson) {
    struct row {
        std::string_view format;
        bool ok;
    };
    const row rows[] = {
        {"text", true}, {"json", true}, {"JSON", false}, {"", false}, {"xml", false},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.format));
        config cfg;
        cfg.log_format = std::string(r.format);
        const auto s = validate(cfg);
        EXPECT_EQ(s.ok(), r.ok);
        if (!r.ok) {
            EXPECT_NE(s.err().message.find("'log_format' must be text or json"), std::string::npos)
                << s.err().message;
        }
    }
}

TEST(Validate, LogLevelIsAKnownLevel) {
    config cfg;
    cfg.log_level = "verbose";
    const auto s = validate(cfg);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.err().message.find("'log_level'"), std::string::npos) << s.err().message;
}

TEST(Validate, MetricsTokenIsEmptyOrLongPrintableAscii) {
    struct row {
        std::string_view token;
        bool ok;
    };
    const row rows[] = {
        {"", true},
        {"0123456789abcdef", true},
        {"Zx8-_~!.0123456789abcdefghijklmnopqrstuvwxyz", true},
        {"0123456789abcde", false}, // 15 characters
        {"short", false},
        {"0123456789 abcdef", false}, // a space
        {"0123456789abcdef\n", false},
        {"0123456789abcdef\xc3\xa9", false}, // not ASCII
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.token));
        config cfg;
        cfg.metrics.token = std::string(r.token);
        const auto s = validate(cfg);
        EXPECT_EQ(s.ok(), r.ok);
        if (!r.ok) {
            EXPECT_NE(s.err().message.find("'metrics.token' must be"), std::string::npos)
                << s.err().message;
            // The message names the key, never the secret.
            EXPECT_EQ(s.err().message.find(std::string(r.token)), std::string::npos)
                << s.err().message;
        }
    }
}

TEST(SplitHostPort, AcceptsHostAndPort) {
    struct row {
        std::string_view in;
        std::string_view host;
        unsigned short port;
    };
    const row rows[] = {
        {"127.0.0.1:8080", "127.0.0.1", 8080},
        {"0.0.0.0:0", "0.0.0.0", 0},
        {"localhost:65535", "localhost", 65535},
        {"store.example.com:443", "store.example.com", 443},
        {"[::1]:8080", "::1", 8080},
        {"[::]:80", "::", 80},
        {"[fe80::1%eth0]:9000", "fe80::1%eth0", 9000},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.in));
        const auto hp = split_host_port(std::string(r.in));
        ASSERT_TRUE(hp.ok()) << hp.err().message;
        EXPECT_EQ(hp->first, r.host);
        EXPECT_EQ(hp->second, r.port);
    }
}

TEST(SplitHostPort, RejectsMalformedAddressesNamingThem) {
    const std::string_view bad[] = {
        "",           "8080",         "localhost",       ":8080",
        "localhost:", "localhost:-1", "localhost:65536", "localhost:99999999999",
        "host:80a",   "host:+80",     "host: 80",        "host:80 ",
        "[::1]",      "[::1]:",       "127.0.0.1:0x50",
    };
    for (const auto in : bad) {
        SCOPED_TRACE(std::string(in));
        const auto hp = split_host_port(std::string(in));
        ASSERT_FALSE(hp.ok()) << hp->first << " " << hp->second;
        EXPECT_EQ(hp.err().code, error_code::invalid_argument);
        EXPECT_NE(hp.err().message.find(std::string("'").append(in).append("'")), std::string::npos)
            << hp.err().message;
    }
}

TEST(SplitHostPort, RejectsUnbalancedBrackets) {
    const std::string_view bad[] = {"[::1:8080", "::1]:8080"};
    for (const auto in : bad) {
        SCOPED_TRACE(std::string(in));
        const auto hp = split_host_port(std::string(in));
        EXPECT_FALSE(hp.ok()) << "host '" << hp->first << "' port " << hp->second;
    }
}

} // namespace
} // namespace posfeed::core
