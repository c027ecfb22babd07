#pragma once

#include "store/store.hpp"

#include <atomic>
#include <string>
#include <thread>

namespace posfeed::app {

/// Prepares the demo data set in RmSystem `1` (created if missing): a sample catalogue with
/// stock levels at three locations. Returns a new API key with every scope. Idempotent apart
/// from the key: an existing catalogue is kept.
std::string prepare_demo(store::store& db);

/// A store simulator: price edits and stock movements at a few per second, so that a newcomer
/// sees live traffic at once. Stops on destruction.
class store_simulator {
  public:
    explicit store_simulator(store::store& db);
    ~store_simulator();
    store_simulator(const store_simulator&) = delete;
    store_simulator& operator=(const store_simulator&) = delete;

  private:
    void run();
    store::store& db_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

} // namespace posfeed::app
