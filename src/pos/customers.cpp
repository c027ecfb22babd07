#include "pos/customers.hpp"

#include "pos/json_input.hpp"
#include "pos/records.hpp"

namespace posfeed::pos {

core::result<customer_input> parse_customer_input(std::string_view body, bool create) {
    auto r = body_reader::parse(body);
    if (!r.ok()) {
        return r.take_err();
    }
    body_reader& in = *r;
    customer_input out;
    auto& f = out.fields;
    if (create) {
        in.require("Name");
    }
    if (auto v = in.string("Name", 200)) {
        if (v->empty()) {
            in.fail(core::invalid_argument("field 'Name' must not be empty"));
        }
        f["Name"] = *v;
    }
    if (auto v = in.string("Email", 200)) {
        f["Email"] = *v;
    }
    if (auto v = in.string("Phone", 50)) {
        f["Phone"] = *v;
    }
    if (auto s = in.finish(); !s.ok()) {
        return s.take_err();
    }
    if (!create && f.empty()) {
        return core::invalid_argument(
            "the PATCH body names no field; send at least one of 'Name', 'Email', 'Phone'");
    }
    return out;
}

store::write_fn create_customer(customer_input in) {
    return [in = std::move(in)](store::write_txn& tx) -> core::result<std::string> {
        const std::int64_t cid = tx.next_id("cid");
        boost::json::object obj{
            {"Cid", cid}, {"Name", ""}, {"Email", ""}, {"Phone", ""}, {"Deleted", 0}};
        overlay(obj, in.fields);
        const auto rec = put_if_changed(tx, std::nullopt, customer_kind, std::to_string(cid), "",
                                        obj, core::event_type::customers);
        return data_response(rec);
    };
}

store::write_fn patch_customer(std::int64_t cid, customer_input in) {
    return [cid, in = std::move(in)](store::write_txn& tx) -> core::result<std::string> {
        const auto old = tx.get(customer_kind, std::to_string(cid));
        if (!old || old->deleted) {
            return core::not_found("customer " + std::to_string(cid) + " does not exist");
        }
        boost::json::object obj = parse_record(*old);
        overlay(obj, in.fields);
        const auto rec =
            put_if_changed(tx, old, customer_kind, old->id, "", obj, core::event_type::customers);
        return data_response(rec);
    };
}

} // namespace posfeed::pos
