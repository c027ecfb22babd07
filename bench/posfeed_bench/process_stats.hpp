#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace posfeed_bench {

/// Resident memory of a set of processes, summed (a server may be several processes, as
/// nginx's master and workers), from /proc/PID/status. Values in KiB; -1 when unreadable.
struct memory_sample {
    std::int64_t rss_kib = -1;  ///< VmRSS
    std::int64_t anon_kib = -1; ///< RssAnon: private memory, without shared mappings
};

/// Samples /proc/PID/status of every pid in `pids`; an empty list gives -1 values.
[[nodiscard]] memory_sample sample_memory(const std::vector<int>& pids);

/// CPU time (user + system, all threads) of every pid in `pids`, summed, in seconds, from
/// /proc/PID/stat; -1 when one is unreadable or the list is empty.
[[nodiscard]] double cpu_seconds(const std::vector<int>& pids);

/// Raises the soft RLIMIT_NOFILE to the hard limit and returns the new soft limit.
std::uint64_t raise_fd_limit();

/// The IPv4 source address number `index` of `count` (cycling): 127.0.0.2 upwards, skipping
/// addresses whose last octet is 0, 1 or 255; at most 127.0.255.254.
[[nodiscard]] std::uint32_t source_address(std::uint64_t index, std::uint32_t count);

} // namespace posfeed_bench
