#include "http/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace posfeed::http {

bool rate_limit::allow(const std::string& key, int& retry_after_s) {
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mu_);
    if (buckets_.size() > 100000) {
        // Forget buckets that have refilled: they would allow a full burst anyway.
        std::erase_if(buckets_, [&](const auto& kv) {
            const double age = std::chrono::duration<double>(now - kv.second.at).count();
            return kv.second.tokens + age * rate_ >= burst_;
        });
    }
    auto [it, fresh] = buckets_.try_emplace(key, bucket{burst_, now});
    bucket& b = it->second;
    if (!fresh) {
        const double age = std::chrono::duration<double>(now - b.at).count();
        b.tokens = std::min(burst_, b.tokens + age * rate_);
        b.at = now;
    }
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return true;
    }
    retry_after_s = std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
    return false;
}

} // namespace posfeed::http
