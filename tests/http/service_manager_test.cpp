#include "http/service_manager.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

namespace posfeed::http {
namespace {

using namespace std::chrono_literals;
using clock = worker_heartbeats::clock;

TEST(WorkerHeartbeats, AllFreshRightAfterConstruction) {
    const worker_heartbeats beats(3);
    EXPECT_EQ(beats.stale(clock::now(), 1s), std::nullopt);
}

TEST(WorkerHeartbeats, AWorkerThatStopsBeatingIsNamed) {
    worker_heartbeats beats(3);
    const auto t0 = clock::now();
    beats.beat(0, t0);
    beats.beat(1, t0);
    beats.beat(2, t0);
    const auto t1 = t0 + 10s;
    beats.beat(0, t1);
    beats.beat(2, t1);
    EXPECT_EQ(beats.stale(t1, 5s), std::optional<std::size_t>(1));
    beats.beat(1, t1);
    EXPECT_EQ(beats.stale(t1, 5s), std::nullopt);
}

TEST(WorkerHeartbeats, ABeatExactlyMaxAgeOldIsStillFresh) {
    worker_heartbeats beats(1);
    const auto t0 = clock::now();
    beats.beat(0, t0);
    EXPECT_EQ(beats.stale(t0 + 5s, 5s), std::nullopt);
    EXPECT_EQ(beats.stale(t0 + 5s + 1ns, 5s), std::optional<std::size_t>(0));
}

TEST(ServiceManager, NoWatchdogWithoutTheManagerAskingForOne) {
    ::unsetenv("WATCHDOG_USEC");
    EXPECT_EQ(service_manager::watchdog_interval(), std::nullopt);
    ::setenv("WATCHDOG_USEC", "30000000", 1);
    ::unsetenv("WATCHDOG_PID");
    EXPECT_EQ(service_manager::watchdog_interval(), std::chrono::microseconds(30000000));
    ::unsetenv("WATCHDOG_USEC");
}

} // namespace
} // namespace posfeed::http
