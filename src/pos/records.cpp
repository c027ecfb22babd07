#include "pos/records.hpp"

#include "core/json.hpp"

#include <boost/json/parse.hpp>

#include <charconv>

namespace posfeed::pos {

std::string data_response(const store::record& r) {
    return data_response(r.body, r.rve);
}

std::string data_response(std::string_view body, core::rve rve) {
    std::string out = "{\"data\":";
    core::append_with_rve(out, body, rve);
    out.push_back('}');
    return out;
}

std::string record_body(const boost::json::object& obj) {
    return core::to_json(obj);
}

boost::json::object parse_record(const store::record& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    if (ec || !v.is_object()) {
        throw store::data_error("stored record " + std::string(core::to_string(r.kind)) + " '" +
                                r.id + "' is damaged: its body is not a JSON object");
    }
    return std::move(v.get_object());
}

void overlay(boost::json::object& target, const boost::json::object& patch) {
    for (const auto& m : patch) {
        target[m.key()] = m.value();
    }
}

store::record put_if_changed(store::write_txn& tx, const std::optional<store::record>& old,
                             core::record_kind kind, std::string id, std::string location,
                             const boost::json::object& obj, core::event_type type,
                             std::string lookup, std::string session) {
    std::string body = record_body(obj);
    if (old && old->body == body && old->location == location && old->lookup == lookup) {
        return *old;
    }
    const bool deleted = obj.contains("Deleted") && obj.at("Deleted").is_int64() &&
                         obj.at("Deleted").get_int64() == 1;
    store::record r{kind, std::move(id), location, {}, deleted, body, std::move(lookup)};
    tx.put(r);
    r.rve = tx.rve();
    tx.emit(store::event{type, std::move(location), std::move(session), std::move(body)});
    return r;
}

store::write_fn delete_record(core::record_kind kind, std::int64_t id, std::string what,
                              core::event_type type) {
    return [kind, id, what = std::move(what),
            type](store::write_txn& tx) -> core::result<std::string> {
        const auto old = tx.get(kind, std::to_string(id));
        if (!old || old->deleted) {
            return core::not_found(what + " does not exist");
        }
        boost::json::object obj = parse_record(*old);
        obj["Deleted"] = 1;
        return data_response(
            put_if_changed(tx, old, kind, old->id, old->location, obj, type, old->lookup));
    };
}

core::result<std::int64_t> parse_id(std::string_view segment, std::string_view name) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), v);
    if (ec != std::errc() || p != segment.data() + segment.size() || v < 1 || v > max_id) {
        return core::invalid_argument(std::string(name) + " '" + std::string(segment) +
                                      "' is not valid; use a positive integer");
    }
    return v;
}

} // namespace posfeed::pos
