#include "pos/levels.hpp"

#include "pos/json_input.hpp"
#include "pos/records.hpp"

namespace posfeed::pos {

std::string level_id(std::int64_t pid, std::int64_t location) {
    return std::to_string(pid) + "@" + std::to_string(location);
}

core::result<stock_adjustment> parse_stock_adjustment(std::string_view body) {
    auto r = body_reader::parse(body);
    if (!r.ok()) {
        return r.take_err();
    }
    body_reader& in = *r;
    stock_adjustment out;
    in.require("Pid");
    in.require("Location");
    if (auto v = in.integer("Pid", 1, max_id)) {
        out.pid = *v;
    }
    if (auto v = in.integer("Location", 1, max_id)) {
        out.location = *v;
    }
    out.delta = in.decimal("Delta", -max_amount, max_amount);
    out.set = in.decimal("Set", 0, max_amount);
    if (auto v = in.string("Reason", 100)) {
        out.reason = *v;
    }
    if (in.has("Delta") == in.has("Set")) {
        in.fail(core::invalid_argument(
            "send exactly one of 'Delta' (a change) and 'Set' (a counted quantity)"));
    }
    if (auto s = in.finish(); !s.ok()) {
        return s.take_err();
    }
    if (out.reason.empty()) {
        out.reason = out.set ? "count" : "adjustment";
    }
    return out;
}

core::result<store::record> change_level(store::write_txn& tx, std::int64_t pid,
                                         std::int64_t location, std::optional<double> delta,
                                         std::optional<double> set, const std::string& reason) {
    const auto product = tx.get(product_kind, std::to_string(pid));
    if (!product || product->deleted) {
        return core::invalid_argument("unknown Pid " + std::to_string(pid) + "; no such product");
    }
    const std::string id = level_id(pid, location);
    const auto old = tx.get(level_kind, id);
    double qty = 0;
    if (old) {
        qty = parse_record(*old).at("Qty").to_number<double>();
    }
    const double next = round4(set ? *set : qty + delta.value_or(0));
    if (next == qty) {
        if (old) {
            return *old;
        }
        // Nothing was ever stocked here and nothing changes: report a zero level, fire nothing.
        return store::record{
            level_kind,
            id,
            std::to_string(location),
            core::rve{},
            false,
            record_body(boost::json::object{
                {"Pid", pid}, {"Location", location}, {"Qty", 0}, {"Reason", reason}}),
            {}};
    }
    const boost::json::object obj{
        {"Pid", pid}, {"Location", location}, {"Qty", next}, {"Reason", reason}};
    return put_if_changed(tx, std::nullopt, level_kind, id, std::to_string(location), obj,
                          core::event_type::levels);
}

store::write_fn adjust_stock(stock_adjustment in) {
    return [in = std::move(in)](store::write_txn& tx) -> core::result<std::string> {
        auto rec = change_level(tx, in.pid, in.location, in.delta, in.set, in.reason);
        if (!rec.ok()) {
            return rec.take_err();
        }
        return data_response(*rec);
    };
}

} // namespace posfeed::pos
