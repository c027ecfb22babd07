#include "pos/products.hpp"

#include "pos/json_input.hpp"
#include "pos/records.hpp"

#include <random>

namespace posfeed::pos {
namespace {

std::string random_physkey() {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<int> pick(0, sizeof alphabet - 2);
    std::string out(18, 'A');
    for (char& c : out) {
        c = alphabet[pick(rng)];
    }
    return out;
}

/// A product's lookup key: its barcode.
std::string barcode_of(const boost::json::object& obj) {
    const auto* b = obj.if_contains("Barcode");
    return b != nullptr && b->is_string() ? std::string(b->get_string()) : std::string();
}

} // namespace

core::result<product_input> parse_product_input(std::string_view body, bool create) {
    auto r = body_reader::parse(body);
    if (!r.ok()) {
        return r.take_err();
    }
    body_reader& in = *r;
    product_input out;
    auto& f = out.fields;
    if (create) {
        if (auto v = in.string("Physkey", 40)) {
            f["Physkey"] = *v;
        }
    }
    if (auto v = in.string("Description", 1000)) {
        f["Description"] = *v;
    }
    if (auto v = in.decimal("Price", 0, max_amount)) {
        f["Price"] = *v;
    }
    if (auto v = in.string("Colour", 100)) {
        f["Colour"] = *v;
    }
    if (auto v = in.string("Barcode", 64)) {
        f["Barcode"] = *v;
    }
    if (auto v = in.flag("Publish")) {
        f["Publish"] = *v;
    }
    if (auto s = in.finish(); !s.ok()) {
        return s.take_err();
    }
    if (!create && f.empty()) {
        return core::invalid_argument("the PATCH body names no field; send at least one of "
                                      "'Description', 'Price', 'Colour', 'Barcode', 'Publish'");
    }
    return out;
}

store::write_fn create_product(product_input in) {
    return [in = std::move(in)](store::write_txn& tx) -> core::result<std::string> {
        const std::int64_t pid = tx.next_id("pid");
        boost::json::object obj{{"Pid", pid},        {"Physkey", random_physkey()},
                                {"Description", ""}, {"Price", 0},
                                {"Colour", ""},      {"Barcode", ""},
                                {"Publish", 0},      {"Deleted", 0}};
        overlay(obj, in.fields);
        const auto rec = put_if_changed(tx, std::nullopt, product_kind, std::to_string(pid), "",
                                        obj, core::event_type::products, barcode_of(obj));
        return data_response(rec);
    };
}

store::write_fn patch_product(std::int64_t pid, product_input in) {
    return [pid, in = std::move(in)](store::write_txn& tx) -> core::result<std::string> {
        const auto old = tx.get(product_kind, std::to_string(pid));
        if (!old || old->deleted) {
            return core::not_found("product " + std::to_string(pid) + " does not exist");
        }
        boost::json::object obj = parse_record(*old);
        overlay(obj, in.fields);
        const auto rec = put_if_changed(tx, old, product_kind, old->id, "", obj,
                                        core::event_type::products, barcode_of(obj));
        return data_response(rec);
    };
}

} // namespace posfeed::pos
