#pragma once

#include "publisher.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace posfeed_bench {

/// What happened to each sequence number of a publish run. `sent_ns` may be read from any
/// thread (a stream's receipt looks its send time up); the rest belongs to the publishing
/// thread until the run is over.
struct publish_log {
    explicit publish_log(std::int64_t total);

    std::int64_t total;                                   ///< sequence numbers 0 .. total-1
    std::unique_ptr<std::atomic<std::int64_t>[]> sent_ns; ///< steady ns; 0 = not sent yet
    std::vector<std::uint8_t> acked;                      ///< 1 when answered 2xx
    std::int64_t published = 0;                           ///< answered 2xx
    std::int64_t errors = 0;                              ///< failed or not 2xx
    std::string first_error;
    std::int64_t first_send_ns = 0;
    std::int64_t last_ack_ns = 0;
    std::vector<float> ack_ms; ///< request-to-answer latency of every publish
};

/// Publishes sequence numbers 0 .. log.total-1 over `connections` keep-alive connections on
/// `ctx`, connection j to `templates[j % templates.size()]` (round-robin over the servers; at
/// least one template, outliving the run): paced evenly at `rate` per second, or as fast as
/// the servers answer when `rate` is 0. Returns when every one has been answered.
asio::awaitable<void> publish_all(asio::io_context& ctx,
                                  std::span<const publish_template> templates, int connections,
                                  double rate, publish_log& log);

} // namespace posfeed_bench
