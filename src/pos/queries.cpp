#include "pos/queries.hpp"

#include "core/json.hpp"
#include "pos/levels.hpp"
#include "pos/records.hpp"
#include "pos/sales.hpp"

#include <charconv>

namespace posfeed::pos {
namespace {

core::result<std::int64_t> parse_number(std::string_view text, std::string_view name,
                                        std::int64_t min, std::int64_t max) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max) {
        return core::invalid_argument(
            "parameter '" + std::string(name) + "' must be an integer from " + std::to_string(min) +
            " to " + std::to_string(max) + ", got '" + std::string(text.substr(0, 40)) + "'");
    }
    return v;
}

} // namespace

core::result<std::string> get_one(store::store& db, const std::string& rmsystem,
                                  core::record_kind kind, const std::string& id,
                                  const std::string& what) {
    const auto rec = db.get_record(rmsystem, kind, id);
    if (!rec || rec->deleted) {
        return core::not_found(what + " does not exist");
    }
    return data_response(*rec);
}

core::result<std::string> list_page(store::store& db, const std::string& rmsystem,
                                    core::record_kind kind, const param_getter& param) {
    store::record_query q;
    q.rmsystem = rmsystem;
    q.kind = kind;
    if (const auto v = param("limit")) {
        const auto n = parse_number(*v, "limit", 1, 1000);
        if (!n.ok()) {
            return n.err();
        }
        q.limit = static_cast<std::size_t>(*n);
    }
    if (const auto v = param("since")) {
        const auto r = core::parse_rve(*v);
        if (!r) {
            return core::invalid_argument(
                "parameter 'since' must be an RVE such as 20210727.091105994, got '" +
                std::string(v->substr(0, 40)) + "'");
        }
        q.since = *r;
        q.include_deleted = true;
    }
    if (const auto v = param("after")) {
        // cursor: <RVE>~<id>
        const auto tilde = v->find('~');
        const auto r =
            tilde == std::string_view::npos ? std::nullopt : core::parse_rve(v->substr(0, tilde));
        if (!r || tilde + 1 >= v->size()) {
            return core::invalid_argument(
                "parameter 'after' is not a cursor from a previous page's 'next'");
        }
        q.after = std::pair{*r, std::string(v->substr(tilde + 1))};
    }
    const bool has_location = kind == level_kind || kind == sale_kind;
    if (const auto v = param("location")) {
        if (!has_location) {
            return core::invalid_argument("parameter 'location' does not apply to this list");
        }
        const auto n = parse_number(*v, "location", 1, max_id);
        if (!n.ok()) {
            return n.err();
        }
        q.location = std::to_string(*n);
    }
    if (const auto v = param("pid")) {
        if (kind != level_kind) {
            return core::invalid_argument("parameter 'pid' applies to StockLevels only");
        }
        const auto n = parse_number(*v, "pid", 1, max_id);
        if (!n.ok()) {
            return n.err();
        }
        q.id_prefix = std::to_string(*n) + "@";
    }
    const auto records = db.list_records(q);
    std::string out = "{\"data\":[";
    for (std::size_t i = 0; i < records.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        core::append_with_rve(out, records[i].body, records[i].rve);
    }
    out += "],\"next\":";
    if (records.size() == q.limit) {
        core::append_json_string(out, records.back().rve.str() + "~" + records.back().id);
    } else {
        out += "null";
    }
    out += '}';
    return out;
}

} // namespace posfeed::pos
