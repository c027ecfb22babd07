#include "core/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <set>

namespace posfeed::core {
namespace {

/// Walks a TOML table, copying known keys and reporting unknown ones.
class reader {
  public:
    reader(const toml::table& table, std::string prefix)
        : table_(table), prefix_(std::move(prefix)) {}

    template <class T> void get(std::string_view key, T& out) {
        seen_.insert(std::string(key));
        const toml::node* node = table_.get(key);
        if (node == nullptr) {
            return;
        }
        if constexpr (std::is_same_v<T, std::string>) {
            if (auto v = node->value<std::string>()) {
                out = *v;
                return;
            }
        } else if constexpr (std::is_same_v<T, bool>) {
            if (auto v = node->value<bool>()) {
                out = *v;
                return;
            }
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            if (const auto* arr = node->as_array()) {
                out.clear();
                for (const auto& item : *arr) {
                    if (auto s = item.value<std::string>()) {
                        out.push_back(*s);
                    } else {
                        fail(key, "an array of strings");
                        return;
                    }
                }
                return;
            }
        } else {
            if (auto v = node->value<std::int64_t>();
                v && *v >= 0 &&
                static_cast<std::uint64_t>(*v) <=
                    static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
                out = static_cast<T>(*v);
                return;
            }
        }
        fail(key, "a value of the right type");
    }

    const toml::table* sub(std::string_view key) {
        seen_.insert(std::string(key));
        const toml::node* node = table_.get(key);
        if (node != nullptr && node->as_table() == nullptr) {
            fail(key, "a table ([" + std::string(key) + "])");
        }
        return node != nullptr ? node->as_table() : nullptr;
    }

    void finish() {
        for (const auto& [key, _] : table_) {
            if (!seen_.contains(std::string(key.str()))) {
                errors_ += "unknown key '" + prefix_ + std::string(key.str()) + "'; ";
            }
        }
    }

    std::string errors_;

  private:
    void fail(std::string_view key, std::string_view what) {
        errors_ += "key '" + prefix_ + std::string(key) + "' must be " + std::string(what) + "; ";
    }

    const toml::table& table_;
    std::string prefix_;
    std::set<std::string> seen_;
};

} // namespace

status load_config_file(const std::string& path, config& cfg) {
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        return invalid_argument("cannot read config file '" + path +
                                "': " + std::string(e.description()));
    }
    std::string errors;
    reader top(root, "");
    top.get("listen", cfg.listen);
    top.get("db", cfg.db);
    top.get("threads", cfg.threads);
    top.get("demo", cfg.demo);
    top.get("log_level", cfg.log_level);
    top.get("log_format", cfg.log_format);
    top.get("shutdown_grace_ms", cfg.shutdown_grace_ms);
    top.get("cors_origins", cfg.cors_origins);
    if (const auto* t = top.sub("feed")) {
        reader r(*t, "feed.");
        r.get("retry_ms", cfg.feed.retry_ms);
        r.get("keepalive_ms", cfg.feed.keepalive_ms);
        r.get("replay_batch", cfg.feed.replay_batch);
        r.get("debug_interval_ms", cfg.feed.debug_interval_ms);
        r.finish();
        errors += r.errors_;
    }
    if (const auto* t = top.sub("history")) {
        reader r(*t, "history.");
        r.get("keep_ms", cfg.history.keep_ms);
        r.get("prune_interval_ms", cfg.history.prune_interval_ms);
        r.finish();
        errors += r.errors_;
    }
    if (const auto* t = top.sub("sessions")) {
        reader r(*t, "sessions.");
        r.get("idle_ms", cfg.sessions.idle_ms);
        r.get("cookie_secure", cfg.sessions.cookie_secure);
        r.get("login_free_failures", cfg.sessions.login_free_failures);
        r.finish();
        errors += r.errors_;
    }
    if (const auto* t = top.sub("limits")) {
        reader r(*t, "limits.");
        r.get("streams_per_credential", cfg.limits.streams_per_credential);
        r.get("max_connections", cfg.limits.max_connections);
        r.get("header_bytes", cfg.limits.header_bytes);
        r.get("body_bytes", cfg.limits.body_bytes);
        r.get("header_timeout_ms", cfg.limits.header_timeout_ms);
        r.get("write_timeout_ms", cfg.limits.write_timeout_ms);
        r.get("writes_per_second", cfg.limits.writes_per_second);
        r.get("write_burst", cfg.limits.write_burst);
        r.get("subscriber_queue_bytes", cfg.limits.subscriber_queue_bytes);
        r.finish();
        errors += r.errors_;
    }
    if (const auto* t = top.sub("metrics")) {
        reader r(*t, "metrics.");
        r.get("token", cfg.metrics.token);
        r.finish();
        errors += r.errors_;
    }
    top.finish();
    errors = top.errors_ + errors;
    if (!errors.empty()) {
        errors.resize(errors.size() - 2);
        return invalid_argument("config file '" + path + "': " + errors);
    }
    return ok_status();
}

status validate(const config& cfg) {
    std::string errors;
    const auto check = [&errors](bool ok, std::string_view key, std::string_view accepted) {
        if (!ok) {
            // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict for
            // `"'" + std::string(key)` (operator+ inserting into its rvalue argument).
            errors.append("'").append(key).append("' must be ").append(accepted).append("; ");
        }
    };
    static constexpr std::array<std::string_view, 7> levels = {"trace", "debug",    "info", "warn",
                                                               "error", "critical", "off"};
    check(std::find(levels.begin(), levels.end(), cfg.log_level) != levels.end(), "log_level",
          "one of trace, debug, info, warn, error, critical, off");
    check(cfg.log_format == "text" || cfg.log_format == "json", "log_format", "text or json");
    check(cfg.threads >= 0 && cfg.threads <= 256, "threads", "0 (one per core) to 256");
    check(split_host_port(cfg.listen).ok(), "listen",
          "HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080");
    check(cfg.feed.keepalive_ms >= 100, "feed.keepalive_ms", "at least 100");
    check(cfg.feed.replay_batch >= 1 && cfg.feed.replay_batch <= 100000, "feed.replay_batch",
          "1 to 100000");
    check(cfg.feed.debug_interval_ms >= 10, "feed.debug_interval_ms", "at least 10");
    check(cfg.history.keep_ms >= 1, "history.keep_ms", "at least 1");
    check(cfg.history.prune_interval_ms >= 10, "history.prune_interval_ms", "at least 10");
    check(cfg.limits.streams_per_credential >= 1, "limits.streams_per_credential", "at least 1");
    check(cfg.limits.max_connections >= 1, "limits.max_connections", "at least 1");
    check(cfg.limits.header_bytes >= 256, "limits.header_bytes", "at least 256");
    check(cfg.limits.body_bytes >= 1, "limits.body_bytes", "at least 1");
    check(cfg.limits.header_timeout_ms >= 100, "limits.header_timeout_ms", "at least 100");
    check(cfg.limits.write_timeout_ms >= 100, "limits.write_timeout_ms", "at least 100");
    check(cfg.limits.subscriber_queue_bytes >= 1024, "limits.subscriber_queue_bytes",
          "at least 1024");
    check(cfg.sessions.idle_ms >= 1000, "sessions.idle_ms", "at least 1000");
    check(cfg.limits.writes_per_second >= 1, "limits.writes_per_second", "at least 1");
    check(cfg.limits.write_burst >= 1, "limits.write_burst", "at least 1");
    // The token itself is never part of the message: it is a secret.
    const auto& token = cfg.metrics.token;
    check(token.empty() ||
              (token.size() >= 16 &&
               std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 0x7f; })),
          "metrics.token",
          "empty (loopback peers only) or at least 16 printable ASCII characters without spaces");
    if (!errors.empty()) {
        errors.resize(errors.size() - 2);
        return invalid_argument("configuration: " + errors);
    }
    return ok_status();
}

result<std::pair<std::string, unsigned short>> split_host_port(const std::string& listen) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
        return invalid_argument("listen address '" + listen +
                                "' must be HOST:PORT, e.g. 127.0.0.1:8080");
    }
    std::string host = listen.substr(0, colon);
    const bool opens = host.front() == '[';
    const bool closes = host.back() == ']';
    if (opens != closes || (!opens && host.find_first_of("[]") != std::string::npos)) {
        return invalid_argument("listen address '" + listen +
                                "' has unbalanced brackets; write IPv6 as [::1]:8080");
    }
    if (opens) {
        host = host.substr(1, host.size() - 2);
    }
    unsigned port = 0;
    const char* first = listen.data() + colon + 1;
    const char* last = listen.data() + listen.size();
    const auto [ptr, ec] = std::from_chars(first, last, port);
    if (ec != std::errc() || ptr != last || port > 65535) {
        return invalid_argument("listen address '" + listen + "' has a bad port; use 0..65535");
    }
    return std::pair{host, static_cast<unsigned short>(port)};
}

} // namespace posfeed::core
