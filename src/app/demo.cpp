#include "app/demo.hpp"

#include "auth/api_key.hpp"
#include "pos/levels.hpp"
#include "pos/products.hpp"
#include "pos/records.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <random>

namespace posfeed::app {
namespace {

constexpr std::string_view demo_rm = "1";
constexpr int demo_products = 1000;
constexpr int demo_locations = 3;

constexpr std::array<std::string_view, 8> colours = {"Red", "Blue", "Green", "Black", "White", "Navy", "Grey", "Olive"};
constexpr std::array<std::string_view, 10> nouns = {"Shirt", "Jeans", "Jacket", "Sock", "Cap",
                                                     "Scarf", "Boot", "Belt", "Glove", "Hoodie"};

void check(const store::write_result& r) {
    if (!r.body.ok()) {
        throw std::runtime_error("demo data: " + r.body.err().message);
    }
}

} // namespace

std::string prepare_demo(store::store& db) {
    const std::string rm(demo_rm);
    if (!db.rmsystem_exists(rm)) {
        if (auto s = db.create_rmsystem(rm); !s.ok()) {
            throw std::runtime_error(s.err().message);
        }
    }
    const bool has_catalogue = db.get_record(rm, pos::product_kind, "1").has_value();
    if (!has_catalogue) {
        std::mt19937 rng(42);
        for (int i = 1; i <= demo_products; ++i) {
            pos::product_input in;
            in.fields["Description"] = std::string(colours[i % colours.size()]) + " " +
                                       std::string(nouns[(i / 8) % nouns.size()]) + " " + std::to_string(i);
            in.fields["Price"] = static_cast<double>(500 + rng() % 20000) / 100.0;
            in.fields["Colour"] = std::string(colours[i % colours.size()]);
            in.fields["Barcode"] = std::to_string(2000000000000LL + i);
            in.fields["Publish"] = 1;
            store::write_and_wait(db, rm, pos::create_product(std::move(in)));
        }
        for (int i = 1; i <= demo_products; ++i) {
            for (int loc = 1; loc <= demo_locations; ++loc) {
                pos::stock_adjustment adj{i, loc, std::nullopt, static_cast<double>(rng() % 40), "count"};
                check(store::write_and_wait(db, rm, pos::adjust_stock(adj)));
            }
        }
    }
    auto key = auth::generate_api_key(rm, auth::scopes{core::all_types, true});
    if (auto s = db.add_api_key(key.row); !s.ok()) {
        throw std::runtime_error(s.err().message);
    }
    return key.key;
}

store_simulator::store_simulator(store::store& db) : db_(db), thread_([this] { run(); }) {}

store_simulator::~store_simulator() {
    stop_ = true;
    thread_.join();
}

void store_simulator::run() {
    std::mt19937 rng(std::random_device{}());
    const std::string rm(demo_rm);
    while (!stop_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 400));
        if (stop_) {
            break;
        }
        const std::int64_t pid = 1 + rng() % demo_products;
        const std::int64_t loc = 1 + rng() % demo_locations;
        const int pick = static_cast<int>(rng() % 10);
        store::write_fn fn;
        if (pick < 6) {
            fn = pos::adjust_stock({pid, loc, -static_cast<double>(1 + rng() % 3), std::nullopt, "sale"});
        } else if (pick < 9) {
            fn = pos::adjust_stock({pid, loc, static_cast<double>(5 + rng() % 20), std::nullopt, "receipt"});
        } else {
            pos::product_input in;
            in.fields["Price"] = static_cast<double>(500 + rng() % 20000) / 100.0;
            fn = pos::patch_product(pid, std::move(in));
        }
        db_.submit(rm, std::move(fn), [](const store::write_result& r) {
            if (!r.body.ok() && r.body.err().code != core::error_code::unavailable) {
                spdlog::warn("simulator write failed: {}", r.body.err().message);
            }
        });
    }
}

} // namespace posfeed::app
