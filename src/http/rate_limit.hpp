#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace posfeed::http {

/// A token bucket per credential: `rate` requests a second on average, bursts up to `burst`.
/// Thread-safe; memory is bounded by forgetting full buckets when the map grows large.
class rate_limit {
  public:
    rate_limit(double rate, double burst) : rate_(rate), burst_(burst) {}

    /// Takes one token for `key`; false (with the seconds until one is free) when empty.
    bool allow(const std::string& key, int& retry_after_s);

  private:
    struct bucket {
        double tokens;
        std::chrono::steady_clock::time_point at;
    };
    double rate_;
    double burst_;
    std::mutex mu_;
    std::unordered_map<std::string, bucket> buckets_;
};

} // namespace posfeed::http
