#include "http/service_manager.hpp"

#include <systemd/sd-daemon.h>

#include <string>

namespace posfeed::http {

worker_heartbeats::worker_heartbeats(std::size_t workers)
    : last_(std::make_unique<std::atomic<std::int64_t>[]>(workers)), count_(workers) {
    const auto now = clock::now().time_since_epoch().count();
    for (std::size_t i = 0; i < count_; ++i) {
        last_[i].store(now);
    }
}

void worker_heartbeats::beat(std::size_t i, clock::time_point now) {
    last_[i].store(now.time_since_epoch().count(), std::memory_order_relaxed);
}

std::optional<std::size_t> worker_heartbeats::stale(clock::time_point now,
                                                    clock::duration max_age) const {
    for (std::size_t i = 0; i < count_; ++i) {
        const clock::time_point last{clock::duration{last_[i].load(std::memory_order_relaxed)}};
        if (now - last > max_age) {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<std::chrono::microseconds> service_manager::watchdog_interval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        return std::chrono::microseconds(usec);
    }
    return std::nullopt;
}

void service_manager::ready(std::string_view status) {
    sd_notify(0, ("READY=1\nSTATUS=" + std::string(status)).c_str());
}

void service_manager::stopping() {
    sd_notify(0, "STOPPING=1\nSTATUS=shutting down");
}

void service_manager::watchdog() {
    sd_notify(0, "WATCHDOG=1");
}

} // namespace posfeed::http
