#pragma once

#include "store/store.hpp"

#include <atomic>
#include <string>
#include <thread>

namespace posfeed::app {

/// Prepares the demo data set in RmSystem `1` (created if missing): 1,000 products, 200
/// customers and stock levels at three locations (SPEC 10). Returns a new API key with every scope.
/// Idempotent apart from the key: an existing catalogue is kept.
std::string prepare_demo(store::store& db);

/// The barcode of demo product `pid`: an EAN-13 with a valid check digit.
std::string demo_barcode(int pid);

/// A store simulator: sales (most of the traffic), receipts and price edits at a few per second, so
/// that a newcomer sees live traffic at once. Stops on destruction.
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
