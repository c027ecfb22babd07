#pragma once

#include "core/error.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace posfeed::pos {

/// Record kinds of POS sessions.
inline constexpr auto active_sale_kind = core::record_kind::active_sale;
inline constexpr auto prompt_kind = core::record_kind::prompt;

/// The POS session a terminal write acts for.
struct terminal {
    std::string session_key;   ///< hash of the session id: tags the session's events
    std::int64_t location = 1; ///< the session's location (login `Location`, default 1)
};

/// `{Pid | Barcode, Qty}` for POST ActiveSession/Sale/Items.
struct item_input {
    std::optional<std::int64_t> pid;
    std::string barcode;
    double qty = 1;
};
core::result<item_input> parse_item_input(std::string_view body);

/// `{Amount, Method}` for POST ActiveSession/Sale/Payments.
struct payment_input {
    double amount = 0;
    std::string method;
};
core::result<payment_input> parse_payment_input(std::string_view body);

/// Adds a line to the session's active sale (starting one, with a new Sid, when there is none
/// open). A barcode that matches no product still sends the session a `usermessage` saying so,
/// and answers not_found. Every change sends the whole sale as a `sale` packet to the session.
store::write_fn add_sale_item(terminal t, item_input in);

/// Removes line `line` (1-based, as in each line's `Line`).
store::write_fn remove_sale_item(terminal t, std::int64_t line);

/// Records a payment.
store::write_fn add_payment(terminal t, payment_input in);

/// Completes the active sale: one transaction group with `sales` + `levels` for the retail
/// feed and `sale` with State `completed` for the session. conflict when it is not fully paid
/// or has no lines.
store::write_fn complete_active_sale(terminal t);

/// Voids the active sale (State `voided`).
store::write_fn void_active_sale(terminal t);

/// The session's current sale: `{"data":{...}}`, not_found when there is none. Blocking.
core::result<std::string> get_active_sale(store::store& db, const std::string& rmsystem,
                                          const terminal& t);

/// `{Text, Severity}`: Severity `info` (default), `warning` or `error`.
struct message_input {
    std::string text;
    std::string severity;
};
core::result<message_input> parse_message_input(std::string_view body);

/// Sends a `usermessage` to the session.
store::write_fn send_message(std::string session_key, message_input in);

/// `{Text, Options}` for a prompt; Options is an array of 0 to 20 strings (none: free answer).
struct prompt_input {
    std::string text;
    std::vector<std::string> options;
};
core::result<prompt_input> parse_prompt_input(std::string_view body);

/// Puts a question to the session: a `userprompt` with a new PromptId; the prompt is kept
/// (with its answer, once given) and readable at GET /openapi/Prompts/{PromptId}.
store::write_fn send_prompt(std::string session_key, prompt_input in);

/// Records the session's answer: must be one of the Options when there are any; not_found for
/// a prompt of another session, conflict when already answered.
store::write_fn answer_prompt(std::string session_key, std::int64_t prompt_id,
                              std::string_view body);

} // namespace posfeed::pos
