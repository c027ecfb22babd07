#pragma once

#include "options.hpp"

#include <boost/json/object.hpp>

namespace posfeed_bench {

/// Each workload runs once and returns its JSON result line (bench/README.md lists the
/// fields). Errors in the options throw std::runtime_error before anything connects.

/// Opens N streams, waits for them to be live and reports the server's RSS growth.
boost::json::object run_idle(const bench_options& options);
/// Publishes at a steady rate to N live streams and reports deliveries, latency, loss.
boost::json::object run_fanout(const bench_options& options);
/// Publishes N events, then times one stream that resumes from before them.
boost::json::object run_replay(const bench_options& options);
/// W connections publish back to back; reports commits per second and ack latency.
boost::json::object run_write(const bench_options& options);

/// The fields every result starts with.
boost::json::object result_base(const char* workload, const bench_options& options);

} // namespace posfeed_bench
