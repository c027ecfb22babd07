#include "pos/terminal.hpp"

#include "core/json.hpp"
#include "pos/json_input.hpp"
#include "pos/records.hpp"
#include "pos/sales.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

namespace posfeed::pos {
namespace {

/// Recomputes Total, Paid and Balance of a sale object from its lines and payments.
void recompute(boost::json::object& sale) {
    double total = 0;
    std::int64_t n = 0;
    for (auto& l : sale.at("Lines").as_array()) {
        auto& line = l.as_object();
        line["Line"] = ++n;
        total += line.at("Qty").to_number<double>() * line.at("Price").to_number<double>();
    }
    double paid = 0;
    for (const auto& p : sale.at("Payments").as_array()) {
        paid += p.as_object().at("Amount").to_number<double>();
    }
    sale["Total"] = round4(total);
    sale["Paid"] = round4(paid);
    sale["Balance"] = round4(total - paid);
}

/// The session's sale when it is open, else nullopt.
std::optional<boost::json::object> open_sale(store::write_txn& tx, const terminal& t) {
    const auto rec = tx.get(active_sale_kind, t.session_key);
    if (!rec) {
        return std::nullopt;
    }
    auto obj = parse_record(*rec);
    if (obj.at("State").as_string() != "open") {
        return std::nullopt;
    }
    return obj;
}

store::record save(store::write_txn& tx, const terminal& t, const boost::json::object& sale) {
    const auto old = tx.get(active_sale_kind, t.session_key);
    return put_if_changed(tx, old, active_sale_kind, t.session_key, "", sale,
                          core::event_type::sale, "", t.session_key);
}

core::error no_open_sale() {
    return core::not_found("this session has no open sale; add an item to start one");
}

void tell(store::write_txn& tx, const std::string& session_key, std::string text,
          std::string severity) {
    const std::int64_t id = tx.next_id("message");
    const boost::json::object msg{
        {"Id", id}, {"Text", std::move(text)}, {"Severity", std::move(severity)}};
    tx.emit(store::event{core::event_type::usermessage, "", session_key, record_body(msg)});
}

} // namespace

core::result<item_input> parse_item_input(std::string_view body) {
    auto r = body_reader::parse(body);
    if (!r.ok()) {
        return r.take_err();
    }
    body_reader& in = *r;
    item_input out;
    out.pid = in.integer("Pid", 1, max_id);
    if (auto v = in.string("Barcode", 4096)) {
        out.barcode = *v;
    }
    if (auto v = in.decimal("Qty", 0.0001, max_amount)) {
        out.qty = *v;
    }
    if (in.has("Pid") == in.has("Barcode")) {
        in.fail(core::invalid_argument("send exactly one of 'Pid' and 'Barcode'"));
    }
    if (auto s = in.finish(); !s.ok()) {
        return s.take_err();
    }
    return out;
}

core::result<payment_input> parse_payment_input(std::string_view body) {
    auto r = body_reader::parse(body);
    if (!r.ok()) {
        return r.take_err();
    }
    body_reader& in = *r;
    payment_input out;
    in.require("Amount");
    out.amount = in.decimal("Amount", 0.0001, max_amount).value_or(0);
    out.method = in.string("Method", 50).value_or("cash");
    if (auto s = in.finish(); !s.ok()) {
        return s.take_err();
    }
    return out;
}

store::write_fn add_sale_item(terminal t, item_input in) {
    return
        [t = std::move(t), in = std::move(in)](store::write_txn& tx) -> core::result<std::string> {
            std::optional<store::record> product;
            if (in.pid) {
                product = tx.get(product_kind, std::to_string(*in.pid));
                if (!product || product->deleted) {
                    return core::invalid_argument("unknown Pid " + std::to_string(*in.pid) +
                                                  "; no such product");
                }
            } else {
                product = tx.find(product_kind, in.barcode);
                if (!product) {
                    tell(tx, t.session_key, "Barcode " + in.barcode + " is not a known product",
                         "warning");
                    tx.keep_on_error();
                    return core::not_found("barcode '" + in.barcode.substr(0, 64) +
                                           "' matches no product; the terminal was told");
                }
            }
            auto sale = open_sale(tx, t);
            if (!sale) {
                sale = boost::json::object{{"Sid", tx.next_id("sid")},
                                           {"State", "open"},
                                           {"Location", t.location},
                                           {"Lines", boost::json::array{}},
                                           {"Payments", boost::json::array{}},
                                           {"Total", 0},
                                           {"Paid", 0},
                                           {"Balance", 0}};
            }
            const auto p = parse_record(*product);
            sale->at("Lines").as_array().push_back(
                boost::json::object{{"Line", 0},
                                    {"Pid", p.at("Pid")},
                                    {"Description", p.at("Description")},
                                    {"Qty", in.qty},
                                    {"Price", p.at("Price")}});
            recompute(*sale);
            return data_response(save(tx, t, *sale));
        };
}

store::write_fn remove_sale_item(terminal t, std::int64_t line) {
    return [t = std::move(t), line](store::write_txn& tx) -> core::result<std::string> {
        auto sale = open_sale(tx, t);
        if (!sale) {
            return no_open_sale();
        }
        auto& lines = sale->at("Lines").as_array();
        if (line < 1 || line > static_cast<std::int64_t>(lines.size())) {
            return core::not_found("the sale has no line " + std::to_string(line) + "; it has " +
                                   std::to_string(lines.size()));
        }
        lines.erase(lines.begin() + (line - 1));
        recompute(*sale);
        return data_response(save(tx, t, *sale));
    };
}

store::write_fn add_payment(terminal t, payment_input in) {
    return
        [t = std::move(t), in = std::move(in)](store::write_txn& tx) -> core::result<std::string> {
            auto sale = open_sale(tx, t);
            if (!sale) {
                return no_open_sale();
            }
            sale->at("Payments")
                .as_array()
                .push_back(boost::json::object{{"Amount", in.amount}, {"Method", in.method}});
            recompute(*sale);
            return data_response(save(tx, t, *sale));
        };
}

store::write_fn complete_active_sale(terminal t) {
    return [t = std::move(t)](store::write_txn& tx) -> core::result<std::string> {
        auto sale = open_sale(tx, t);
        if (!sale) {
            return no_open_sale();
        }
        const auto& lines = sale->at("Lines").as_array();
        if (lines.empty()) {
            return core::error{core::error_code::conflict,
                               "the sale has no lines; add an item first"};
        }
        if (sale->at("Balance").to_number<double>() > 0) {
            std::string balance;
            core::append_json(balance, sale->at("Balance"));
            return core::error{core::error_code::conflict, "the sale is not fully paid: balance " +
                                                               balance + "; add a payment"};
        }
        sale_input done;
        done.sid = sale->at("Sid").as_int64();
        done.location = sale->at("Location").as_int64();
        for (const auto& l : lines) {
            const auto& line = l.as_object();
            done.lines.push_back({line.at("Pid").as_int64(), line.at("Qty").to_number<double>(),
                                  line.at("Price").to_number<double>()});
        }
        auto completed = apply_sale(tx, done);
        if (!completed.ok()) {
            return completed.take_err();
        }
        (*sale)["State"] = "completed";
        return data_response(save(tx, t, *sale));
    };
}

store::write_fn void_active_sale(terminal t) {
    return [t = std::move(t)](store::write_txn& tx) -> core::result<std::string> {
        auto sale = open_sale(tx, t);
        if (!sale) {
            return no_open_sale();
        }
        (*sale)["State"] = "voided";
        return data_response(save(tx, t, *sale));
    };
}

core::result<std::string> get_active_sale(store::store& db, const std::string& rmsystem,
                                          const terminal& t) {
    const auto rec = db.get_record(rmsystem, active_sale_kind, t.session_key);
    if (!rec) {
        return no_open_sale();
    }
    return data_response(*rec);
}

core::result<message_input> parse_message_input(std::string_view body) {
    auto r = body_reader::parse(body);
    if (!r.ok()) {
        return r.take_err();
    }
    body_reader& in = *r;
    message_input out;
    in.require("Text");
    out.text = in.string("Text", 2000).value_or("");
    out.severity = in.string("Severity", 20).value_or("info");
    if (out.severity != "info" && out.severity != "warning" && out.severity != "error") {
        in.fail(core::invalid_argument("field 'Severity' must be info, warning or error, got '" +
                                       out.severity + "'"));
    }
    if (auto s = in.finish(); !s.ok()) {
        return s.take_err();
    }
    return out;
}

store::write_fn send_message(std::string session_key, message_input in) {
    return [key = std::move(session_key),
            in = std::move(in)](store::write_txn& tx) -> core::result<std::string> {
        const std::int64_t id = tx.next_id("message");
        const boost::json::object msg{{"Id", id}, {"Text", in.text}, {"Severity", in.severity}};
        std::string body = record_body(msg);
        tx.emit(store::event{core::event_type::usermessage, "", key, body});
        return data_response(body, tx.rve());
    };
}

core::result<prompt_input> parse_prompt_input(std::string_view body) {
    auto r = body_reader::parse(body);
    if (!r.ok()) {
        return r.take_err();
    }
    body_reader& in = *r;
    prompt_input out;
    in.require("Text");
    out.text = in.string("Text", 2000).value_or("");
    if (const auto* opts = in.object().if_contains("Options")) {
        bool ok = opts->is_array() && opts->as_array().size() <= 20;
        if (ok) {
            for (const auto& o : opts->as_array()) {
                if (!o.is_string() || o.as_string().empty() || o.as_string().size() > 200) {
                    ok = false;
                    break;
                }
                out.options.emplace_back(o.as_string());
            }
        }
        if (!ok) {
            in.fail(core::invalid_argument(
                "field 'Options' must be an array of 0 to 20 non-empty strings"));
        }
    }
    in.known("Options");
    if (auto s = in.finish(); !s.ok()) {
        return s.take_err();
    }
    return out;
}

store::write_fn send_prompt(std::string session_key, prompt_input in) {
    return [key = std::move(session_key),
            in = std::move(in)](store::write_txn& tx) -> core::result<std::string> {
        const std::int64_t id = tx.next_id("prompt");
        boost::json::array options;
        for (const auto& o : in.options) {
            options.emplace_back(o);
        }
        const boost::json::object prompt{
            {"PromptId", id}, {"Text", in.text}, {"Options", std::move(options)}, {"Answer", ""}};
        const auto rec = put_if_changed(tx, std::nullopt, prompt_kind, std::to_string(id), "",
                                        prompt, core::event_type::userprompt, key, key);
        return data_response(rec);
    };
}

store::write_fn answer_prompt(std::string session_key, std::int64_t prompt_id,
                              std::string_view body) {
    std::string text(body);
    return [key = std::move(session_key), prompt_id,
            text](store::write_txn& tx) -> core::result<std::string> {
        auto r = body_reader::parse(text);
        if (!r.ok()) {
            return r.take_err();
        }
        r->require("Answer");
        const std::string answer = r->string("Answer", 2000).value_or("");
        if (auto s = r->finish(); !s.ok()) {
            return s.take_err();
        }
        const auto rec = tx.get(prompt_kind, std::to_string(prompt_id));
        if (!rec || rec->lookup != key) {
            return core::not_found("prompt " + std::to_string(prompt_id) +
                                   " was not put to this session");
        }
        auto prompt = parse_record(*rec);
        if (!prompt.at("Answer").as_string().empty()) {
            return core::error{core::error_code::conflict, "prompt " + std::to_string(prompt_id) +
                                                               " has already been answered"};
        }
        const auto& options = prompt.at("Options").as_array();
        if (answer.empty()) {
            return core::invalid_argument("field 'Answer' must not be empty");
        }
        if (!options.empty() && std::find(options.begin(), options.end(),
                                          boost::json::value(answer)) == options.end()) {
            std::string list;
            core::append_json(list, options);
            return core::invalid_argument("answer '" + answer.substr(0, 100) +
                                          "' is not one of the options " + list);
        }
        prompt["Answer"] = answer;
        // The answer is recorded without an event: no event type reports answers (SPEC 4).
        store::record updated = *rec;
        updated.body = record_body(prompt);
        tx.put(updated);
        updated.rve = tx.rve();
        return data_response(updated);
    };
}

} // namespace posfeed::pos
