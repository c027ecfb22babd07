#include "auth/password.hpp"

#include <sodium.h>

#include <stdexcept>

namespace posfeed::auth {
namespace {

void init_sodium() {
    static const int rc = sodium_init();
    if (rc < 0) {
        throw std::runtime_error("libsodium could not be initialised");
    }
}

} // namespace

std::string hash_password(std::string_view password) {
    init_sodium();
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        throw std::runtime_error("argon2id hashing failed (out of memory)");
    }
    return out;
}

bool verify_password(std::string_view stored_hash, std::string_view password) {
    init_sodium();
    const std::string h(stored_hash); // needs a NUL-terminated string
    return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

} // namespace posfeed::auth
