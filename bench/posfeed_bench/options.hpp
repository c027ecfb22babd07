#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace posfeed_bench {

/// Every command-line setting of posfeed-bench (main.cpp documents each flag).
struct bench_options {
    std::string label;
    std::string stream_url;           ///< one URL or a comma-separated list (parse_http_url_list)
    std::vector<std::string> headers; ///< "Name: value", on streams and publishes
    std::string publish_url;          ///< one URL or a comma-separated list (parse_http_url_list)
    std::string publish_method = "POST";
    std::string publish_body = "bench-{seq}- {pad}";
    std::string content_type = "application/json";
    int pad = 180;
    int publishers = 4;
    std::vector<int> server_pids; ///< RSS is summed over them
    int threads = 1;
    std::uint32_t source_addresses = 200;
    std::string live_on = "ready"; ///< ready | headers
    int concurrency = 500;         ///< streams connecting at once
    int subscribers = 1000;
    double rate = 10;             ///< fanout: publishes per second
    double seconds = 10;          ///< fanout and write: duration
    double drain_s = 10;          ///< fanout: wait for stragglers
    double settle_s = 2;          ///< idle: wait before the second RSS sample
    std::int64_t events = 100000; ///< replay: events behind
    double replay_rate = 0;       ///< replay: publishes per second, 0 = unpaced
    double stall_s = 10;          ///< replay: give up after this long without news
    int writers = 64;             ///< write: connections
    double timeout_s = 300;       ///< connecting, replay: give up after it
    std::uint32_t groups = 1;     ///< fanout: channels the streams and publishes spread over
    std::string group_headers;    ///< fanout: file, line g = the header of group g
};

} // namespace posfeed_bench
