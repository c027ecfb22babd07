#include "auth/api_key.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace posfeed::auth {
namespace {

std::string to_hex(const unsigned char* data, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(n * 2, '0');
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    return out;
}

bool is_hex(std::string_view s) {
    for (const char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

} // namespace

core::result<scopes> parse_scopes(std::string_view list) {
    scopes out;
    if (list == "*") {
        return scopes{core::all_types, true};
    }
    std::string unknown;
    bool any = false;
    while (true) {
        const auto comma = list.find(',');
        const std::string_view item = list.substr(0, comma);
        if (item == "write") {
            out.write = true;
            any = true;
        } else if (auto t = core::parse_event_type(item)) {
            out.read |= core::bit(*t);
            any = true;
        } else {
            unknown += (unknown.empty() ? "'" : ", '") + std::string(item) + "'";
        }
        if (comma == std::string_view::npos) {
            break;
        }
        list = list.substr(comma + 1);
    }
    if (!unknown.empty() || !any) {
        return core::invalid_argument(
            "unknown scope " + (unknown.empty() ? std::string("''") : unknown) +
            "; use a comma-separated list of event types (" + std::string(core::valid_type_list()) +
            ") and/or 'write', or '*'");
    }
    return out;
}

std::string format_scopes(const scopes& s) {
    if (s.read == core::all_types && s.write) {
        return "*";
    }
    std::string out;
    for (int i = 0; i < core::event_type_count; ++i) {
        if ((s.read & (core::type_mask{1} << i)) != 0) {
            out += out.empty() ? "" : ",";
            out += core::to_string(static_cast<core::event_type>(i));
        }
    }
    if (s.write) {
        out += out.empty() ? "write" : ",write";
    }
    return out;
}

std::string random_hex(std::size_t n) {
    std::string bytes(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
        throw std::runtime_error("OpenSSL RAND_bytes failed");
    }
    return to_hex(reinterpret_cast<const unsigned char*>(bytes.data()), n);
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL SHA-256 failed");
    }
    return to_hex(digest, len);
}

bool equal_secret(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

new_api_key generate_api_key(const std::string& rmsystem, const scopes& s) {
    const std::string id = random_hex(8);
    const std::string secret = random_hex(32);
    return {"pfk_" + id + "_" + secret,
            store::api_key_row{id, rmsystem, sha256_hex(secret), format_scopes(s), false}};
}

std::optional<std::pair<std::string_view, std::string_view>> split_api_key(std::string_view key) {
    // pfk_ + 16 hex + _ + 64 hex
    if (key.size() != 4 + 16 + 1 + 64 || !key.starts_with("pfk_") || key[20] != '_') {
        return std::nullopt;
    }
    const std::string_view id = key.substr(4, 16);
    const std::string_view secret = key.substr(21);
    if (!is_hex(id) || !is_hex(secret)) {
        return std::nullopt;
    }
    return std::pair{id, secret};
}

} // namespace posfeed::auth
