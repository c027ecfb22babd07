#include "process_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace posfeed_bench {

memory_sample sample_memory(const std::vector<int>& pids) {
    memory_sample total;
    for (const int pid : pids) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/status");
        std::string line;
        std::int64_t rss = -1;
        std::int64_t anon = -1;
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string name;
            std::int64_t value = 0;
            fields >> name >> value;
            if (name == "VmRSS:") {
                rss = value;
            } else if (name == "RssAnon:") {
                anon = value;
            }
        }
        if (rss < 0) {
            return memory_sample{};
        }
        total.rss_kib = (total.rss_kib < 0 ? 0 : total.rss_kib) + rss;
        total.anon_kib = (total.anon_kib < 0 ? 0 : total.anon_kib) + anon;
    }
    return total;
}

double cpu_seconds(const std::vector<int>& pids) {
    if (pids.empty()) {
        return -1;
    }
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    double total = 0;
    for (const int pid : pids) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
        std::string stat;
        if (!std::getline(in, stat)) {
            return -1;
        }
        // Fields after the command (which may hold spaces, so skip past its last ')'):
        // state is field 3, utime 14 and stime 15.
        const auto close = stat.rfind(')');
        if (close == std::string::npos) {
            return -1;
        }
        std::istringstream fields(stat.substr(close + 1));
        std::string field;
        long long utime = -1;
        long long stime = -1;
        for (int n = 3; n <= 15 && fields >> field; ++n) {
            if (n == 14) {
                utime = std::stoll(field);
            } else if (n == 15) {
                stime = std::stoll(field);
            }
        }
        if (utime < 0 || stime < 0) {
            return -1;
        }
        total += static_cast<double>(utime + stime) / ticks;
    }
    return total;
}

std::uint64_t raise_fd_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return 1024;
    }
    if (limit.rlim_cur != limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            limit = raised;
        }
    }
    return limit.rlim_cur;
}

std::uint32_t source_address(std::uint64_t index, std::uint32_t count) {
    // 253 usable last octets (2..254) in each of the 256 third octets.
    const std::uint32_t usable = 253U * 256U;
    const std::uint32_t n = count == 0 ? 1 : (count > usable ? usable : count);
    const auto k = static_cast<std::uint32_t>(index % n);
    return (127U << 24) | ((k / 253U) << 8) | (2U + k % 253U);
}

} // namespace posfeed_bench
