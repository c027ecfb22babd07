#include "pos/sales.hpp"

#include "pos/json_input.hpp"
#include "pos/levels.hpp"
#include "pos/records.hpp"

#include <boost/json/array.hpp>

#include <chrono>
#include <map>

namespace posfeed::pos {

core::result<sale_input> parse_sale_input(std::string_view body) {
    auto r = body_reader::parse(body);
    if (!r.ok()) {
        return r.take_err();
    }
    body_reader& in = *r;
    sale_input out;
    in.require("Location");
    in.require("Lines");
    if (auto v = in.integer("Location", 1, max_id)) {
        out.location = *v;
    }
    out.cid = in.integer("Cid", 1, max_id);
    in.known("Lines");
    if (const auto* lines = in.object().if_contains("Lines")) {
        if (!lines->is_array() || lines->get_array().empty() || lines->get_array().size() > 1000) {
            in.fail(core::invalid_argument("field 'Lines' must be an array of 1 to 1000 lines "
                                           "{\"Pid\":..,\"Qty\":..,\"Price\":..}"));
        } else {
            std::size_t i = 0;
            for (const auto& item : lines->get_array()) {
                const std::string prefix = "Lines[" + std::to_string(i++) + "].";
                if (!item.is_object()) {
                    in.fail(core::invalid_argument(
                        "field '" + prefix.substr(0, prefix.size() - 1) +
                        "' must be an object {\"Pid\":..,\"Qty\":..,\"Price\":..}"));
                    break;
                }
                auto line = body_reader::nested(item.get_object(), prefix);
                line.require("Pid");
                line.require("Qty");
                sale_line l;
                l.pid = line.integer("Pid", 1, max_id).value_or(0);
                l.qty = line.decimal("Qty", 0.0001, max_amount).value_or(0);
                l.price = line.decimal("Price", 0, max_amount);
                if (auto s = line.finish(); !s.ok()) {
                    in.fail(s.take_err());
                    break;
                }
                out.lines.push_back(l);
            }
        }
    }
    if (auto s = in.finish(); !s.ok()) {
        return s.take_err();
    }
    return out;
}

core::result<store::record> apply_sale(store::write_txn& tx, const sale_input& in) {
    if (in.cid) {
        const auto c = tx.get(customer_kind, std::to_string(*in.cid));
        if (!c || c->deleted) {
            return core::invalid_argument("unknown Cid " + std::to_string(*in.cid) +
                                          "; no such customer");
        }
    }
    boost::json::array lines;
    double total = 0;
    std::map<std::int64_t, double> sold; // per product, in Pid order
    for (std::size_t i = 0; i < in.lines.size(); ++i) {
        const auto& l = in.lines[i];
        const auto p = tx.get(product_kind, std::to_string(l.pid));
        if (!p || p->deleted) {
            return core::invalid_argument("unknown Pid " + std::to_string(l.pid) + " in Lines[" +
                                          std::to_string(i) + "]; no such product");
        }
        const double price = l.price ? *l.price : parse_record(*p).at("Price").to_number<double>();
        lines.push_back(boost::json::object{{"Pid", l.pid}, {"Qty", l.qty}, {"Price", price}});
        total += l.qty * price;
        sold[l.pid] += l.qty;
    }
    const std::int64_t sid = in.sid ? *in.sid : tx.next_id("sid");
    boost::json::object sale{{"Sid", sid},
                             {"Location", in.location},
                             {"Completed", core::iso_time(tx.rve())},
                             {"Total", round4(total)},
                             {"Cid", in.cid.value_or(0)},
                             {"Lines", std::move(lines)}};
    auto rec = put_if_changed(tx, std::nullopt, sale_kind, std::to_string(sid),
                              std::to_string(in.location), sale, core::event_type::sales);
    for (const auto& [pid, qty] : sold) {
        auto level = change_level(tx, pid, in.location, -qty, std::nullopt, "sale");
        if (!level.ok()) {
            return level.take_err();
        }
    }
    return rec;
}

store::write_fn complete_sale(sale_input in) {
    return [in = std::move(in)](store::write_txn& tx) -> core::result<std::string> {
        auto rec = apply_sale(tx, in);
        if (!rec.ok()) {
            return rec.take_err();
        }
        return data_response(*rec);
    };
}

} // namespace posfeed::pos
