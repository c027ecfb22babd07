#include "app/demo.hpp"

#include "auth/api_key.hpp"
#include "auth/password.hpp"
#include "pos/barcode.hpp"
#include "pos/customers.hpp"
#include "pos/levels.hpp"
#include "pos/products.hpp"
#include "pos/records.hpp"
#include "pos/sales.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <future>
#include <random>

namespace posfeed::app {
namespace {

constexpr std::string_view demo_rm = "1";
constexpr int demo_products = 1000;
constexpr int demo_locations = 3;
constexpr int demo_customers = 200;

constexpr std::array<std::string_view, 12> first_names = {"Aroha", "Ben",  "Chloe", "Dev",
                                                          "Emma",  "Finn", "Grace", "Hemi",
                                                          "Isla",  "Jack", "Kiri",  "Liam"};
constexpr std::array<std::string_view, 9> last_names = {
    "Smith", "Ngata", "Patel", "Wilson", "Chen", "Brown", "Taylor", "Walker", "Singh"};

constexpr std::array<std::string_view, 8> colours = {"Red",   "Blue", "Green", "Black",
                                                     "White", "Navy", "Grey",  "Olive"};
constexpr std::array<std::string_view, 10> nouns = {"Shirt", "Jeans", "Jacket", "Sock",  "Cap",
                                                    "Scarf", "Boot",  "Belt",   "Glove", "Hoodie"};

void check(const store::write_result& r) {
    if (!r.body.ok()) {
        throw std::runtime_error("demo data: " + r.body.err().message);
    }
}

} // namespace

/// Submits every write and waits for all of them: the store commits them in groups, so the
/// catalogue loads in seconds rather than one fsync per record.
void write_all(store::store& db, const std::string& rm, std::vector<store::write_fn> fns) {
    std::vector<std::future<store::write_result>> results;
    for (auto& fn : fns) {
        auto p = std::make_shared<std::promise<store::write_result>>();
        results.push_back(p->get_future());
        db.submit(rm, std::move(fn), [p](store::write_result r) { p->set_value(std::move(r)); });
    }
    for (auto& f : results) {
        check(f.get());
    }
}

std::string prepare_demo(store::store& db) {
    const std::string rm(demo_rm);
    if (!db.rmsystem_exists(rm)) {
        if (auto s = db.create_rmsystem(rm); !s.ok()) {
            throw std::runtime_error(s.err().message);
        }
    }
    if (!db.get_record(rm, pos::product_kind, "1").has_value()) {
        std::mt19937 rng(42);
        std::vector<store::write_fn> writes;
        for (int i = 1; i <= demo_products; ++i) {
            pos::product_input in;
            in.fields["Description"] = std::string(colours[i % colours.size()]) + " " +
                                       std::string(nouns[(i / 8) % nouns.size()]) + " " +
                                       std::to_string(i);
            in.fields["Price"] = static_cast<double>(500 + rng() % 20000) / 100.0;
            in.fields["Colour"] = std::string(colours[i % colours.size()]);
            in.fields["Barcode"] = demo_barcode(i);
            in.fields["Publish"] = 1;
            writes.push_back(pos::create_product(std::move(in)));
        }
        write_all(db, rm, std::move(writes));
        writes.clear();
        for (int i = 1; i <= demo_customers; ++i) {
            pos::customer_input in;
            in.fields["Name"] = std::string(first_names[i % first_names.size()]) + " " +
                                std::string(last_names[(i / 7) % last_names.size()]);
            in.fields["Email"] = "customer" + std::to_string(i) + "@example.com";
            in.fields["Phone"] = "+64 21 555 " + std::to_string(1000 + i);
            writes.push_back(pos::create_customer(std::move(in)));
        }
        for (int i = 1; i <= demo_products; ++i) {
            for (int loc = 1; loc <= demo_locations; ++loc) {
                writes.push_back(pos::adjust_stock(
                    {i, loc, std::nullopt, static_cast<double>(10 + rng() % 40), "count"}));
            }
        }
        write_all(db, rm, std::move(writes));
    }
    if (!db.find_user("demo")) {
        if (auto s = db.add_user({rm, "demo", auth::hash_password("demo")}); !s.ok()) {
            throw std::runtime_error(s.err().message);
        }
    }
    auto key = auth::generate_api_key(rm, auth::scopes{core::all_types, true});
    if (auto s = db.add_api_key(key.row); !s.ok()) {
        throw std::runtime_error(s.err().message);
    }
    return key.key;
}

std::string demo_barcode(int pid) {
    // EAN-13 with a valid check digit: 94 (a GS1 prefix) + the product number.
    std::string digits =
        "94" + std::string(10 - std::to_string(pid).size(), '0') + std::to_string(pid);
    int sum = 0;
    for (std::size_t i = 0; i < 12; ++i) {
        sum += (digits[i] - '0') * (i % 2 == 0 ? 1 : 3);
    }
    return digits + std::to_string((10 - sum % 10) % 10);
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
        const int pick = static_cast<int>(rng() % 20);
        store::write_fn fn;
        if (pick < 14) {
            // a sale of one to three lines, sometimes to a known customer
            pos::sale_input sale;
            sale.location = loc;
            if (rng() % 3 == 0) {
                sale.cid = 1 + rng() % demo_customers;
            }
            const int lines = 1 + static_cast<int>(rng() % 3);
            for (int l = 0; l < lines; ++l) {
                sale.lines.push_back({static_cast<std::int64_t>(1 + rng() % demo_products),
                                      static_cast<double>(1 + rng() % 3), std::nullopt});
            }
            fn = pos::complete_sale(std::move(sale));
        } else if (pick < 16) {
            // a scanner at a till reads a product's barcode (sometimes a damaged label)
            std::string raw = demo_barcode(static_cast<int>(pid));
            if (rng() % 10 == 0) {
                raw.back() = raw.back() == '0' ? '1' : '0';
            }
            fn = pos::scan_barcode({std::move(raw), loc, ""});
        } else if (pick < 18) {
            fn = pos::adjust_stock(
                {pid, loc, static_cast<double>(6 + rng() % 24), std::nullopt, "receipt"});
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
