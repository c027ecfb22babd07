#pragma once

#include <algorithm>
#include <vector>

namespace posfeed_bench {

/// Percentiles of a set of latency samples in milliseconds.
struct latency_summary {
    double p50 = 0;
    double p99 = 0;
    double max = 0;
    double mean = 0;

    /// Summarises `samples` (reordered in place); all zero when it is empty.
    static latency_summary of(std::vector<float>& samples) {
        latency_summary s;
        if (samples.empty()) {
            return s;
        }
        auto at = [&](double q) {
            const auto k = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1));
            std::nth_element(samples.begin(), samples.begin() + static_cast<long>(k),
                             samples.end());
            return static_cast<double>(samples[k]);
        };
        s.p50 = at(0.50);
        s.p99 = at(0.99);
        s.max = *std::max_element(samples.begin(), samples.end());
        double sum = 0;
        for (const float v : samples) {
            sum += v;
        }
        s.mean = sum / static_cast<double>(samples.size());
        return s;
    }
};

} // namespace posfeed_bench
