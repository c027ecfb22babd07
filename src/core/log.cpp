#include "core/log.hpp"

#include "core/json.hpp"

#include <boost/json/value.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cctype>
#include <span>
#include <string>
#include <utility>

namespace posfeed::core {
namespace {

/// The fields of the line being logged on this thread (core::log sets them for its call).
thread_local std::span<const log_field> current_fields;

/// Sets current_fields for a scope and restores the previous ones after it.
class fields_scope {
  public:
    explicit fields_scope(std::initializer_list<log_field> fields)
        : outer_(std::exchange(current_fields, std::span(fields.begin(), fields.size()))) {}
    ~fields_scope() { current_fields = outer_; }
    fields_scope(const fields_scope&) = delete;
    fields_scope& operator=(const fields_scope&) = delete;

  private:
    std::span<const log_field> outer_;
};

void append_to(spdlog::memory_buf_t& dest, const std::string& s) {
    dest.append(s.data(), s.data() + s.size());
}

/// `%K`: the fields of the line as ` key=value` (text format). Each sink has its own copy,
/// used under the sink's lock, so the scratch string needs no lock of its own.
class text_fields_flag final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg&, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        scratch_.clear();
        for (const auto& f : current_fields) {
            if (f.in_text) {
                scratch_.push_back(' ');
                scratch_.append(f.key);
                scratch_.push_back('=');
                f.value.append_text(scratch_);
            }
        }
        append_to(dest, scratch_);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<text_fields_flag>();
    }

  private:
    std::string scratch_;
};

/// `%Q`: the message as a JSON string literal (json format).
class json_message_flag final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        scratch_.clear();
        append_log_json_string(scratch_, std::string_view(msg.payload.data(), msg.payload.size()));
        append_to(dest, scratch_);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<json_message_flag>();
    }

  private:
    std::string scratch_;
};

/// `%J`: the fields of the line as `,"key":value` members (json format).
class json_fields_flag final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg&, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        scratch_.clear();
        for (const auto& f : current_fields) {
            scratch_.push_back(',');
            append_log_json_string(scratch_, f.key);
            scratch_.push_back(':');
            f.value.append_json(scratch_);
        }
        append_to(dest, scratch_);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<json_fields_flag>();
    }

  private:
    std::string scratch_;
};

/// The length of the well-formed UTF-8 sequence at the start of `s` (1 to 4), or 0 when its
/// first byte does not start one (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
std::size_t utf8_sequence(std::string_view s) {
    const auto b = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xc0) == 0x80; };
    const unsigned char c = b(0);
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        return cont(1) ? 2 : 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (!cont(1) || !cont(2)) {
            return 0;
        }
        const unsigned char c1 = b(1);
        if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f)) {
            return 0; // overlong, or a surrogate
        }
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (!cont(1) || !cont(2) || !cont(3)) {
            return 0;
        }
        const unsigned char c1 = b(1);
        if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f)) {
            return 0; // overlong, or past U+10FFFF
        }
        return 4;
    }
    return 0;
}

} // namespace

std::unique_ptr<spdlog::formatter> make_log_formatter(std::string_view format) {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc, "\n");
    if (format == "json") {
        f->add_flag<json_message_flag>('Q');
        f->add_flag<json_fields_flag>('J');
        f->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","message":%Q%J})");
    } else {
        f->add_flag<text_fields_flag>('K');
        f->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v%K");
    }
    return f;
}

void init_logging(std::string_view level, std::string_view format) {
    auto logger = spdlog::stderr_logger_mt("posfeed");
    logger->set_formatter(make_log_formatter(format));
    logger->set_level(spdlog::level::from_str(std::string(level)));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

bool log_enabled(spdlog::level::level_enum level) {
    return spdlog::default_logger_raw()->should_log(level);
}

void log(spdlog::level::level_enum level, std::string_view message,
         std::initializer_list<log_field> fields) {
    auto* logger = spdlog::default_logger_raw();
    if (!logger->should_log(level)) {
        return;
    }
    const fields_scope scope(fields);
    logger->log(level, spdlog::string_view_t(message.data(), message.size()));
}

void append_log_json_string(std::string& out, std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t n = utf8_sequence(s.substr(i));
        if (n == 0) {
            break;
        }
        i += n;
    }
    if (i == s.size()) {
        append_json_string(out, s); // the usual case: nothing to replace
        return;
    }
    std::string clean(s.substr(0, i));
    while (i < s.size()) {
        const std::size_t n = utf8_sequence(s.substr(i));
        if (n == 0) {
            clean += "\xEF\xBF\xBD"; // U+FFFD REPLACEMENT CHARACTER
            ++i;
        } else {
            clean.append(s.substr(i, n));
            i += n;
        }
    }
    append_json_string(out, clean);
}

void log_value::append_json(std::string& out) const {
    switch (kind_) {
    case kind::string:
        append_log_json_string(out, s_);
        break;
    case kind::int64:
        core::append_json(out, boost::json::value(i_));
        break;
    case kind::uint64:
        core::append_json(out, boost::json::value(u_));
        break;
    case kind::real:
        core::append_json(out, boost::json::value(d_));
        break;
    case kind::boolean:
        out += b_ ? "true" : "false";
        break;
    }
}

void log_value::append_text(std::string& out) const {
    if (kind_ != kind::string) {
        append_json(out);
        return;
    }
    bool quote = s_.empty();
    for (const char ch : s_) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= ' ' || c == 0x7f || c == '"' || c == '=' || c == '\\') {
            quote = true;
            break;
        }
    }
    if (quote) {
        append_log_json_string(out, s_);
    } else {
        out.append(s_);
    }
}

namespace {

/// Percent-decodes `s` (malformed escapes are kept as they are) for comparing names.
std::string decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() &&
            std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out.push_back(
                static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i] == '+' ? ' ' : s[i]);
        }
    }
    return out;
}

/// The path with the segment after `Sessions` (a session id, which is a credential) redacted,
/// however the client spelt it: empty segments in between, or an encoded slash.
std::string redact_path(std::string_view path) {
    std::string out;
    bool next_is_secret = false;
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const std::string_view seg = path.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        std::string plain = decode(seg);
        for (char& c : plain) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (seg.empty()) {
            // keep waiting for the id after `Sessions//`
        } else if (next_is_secret) {
            out += "[redacted]";
            next_is_secret = false;
        } else if (plain == "sessions") {
            out += seg;
            next_is_secret = true;
        } else if (plain.starts_with("sessions/")) {
            out += "Sessions%2F[redacted]";
            next_is_secret = plain == "sessions/"; // `Sessions%2F/<id>`
        } else {
            out += seg;
        }
        if (slash == std::string_view::npos) {
            break;
        }
        out.push_back('/');
        start = slash + 1;
    }
    return out;
}

} // namespace

std::string redact_target(std::string_view target) {
    static constexpr std::array<std::string_view, 5> secret_keys = {"token", "session", "api_key",
                                                                    "key", "password"};
    const auto q = target.find('?');
    if (q == std::string_view::npos) {
        return redact_path(target);
    }
    std::string out = redact_path(target.substr(0, q)) + "?";
    std::string_view rest = target.substr(q + 1);
    bool first = true;
    while (true) {
        const auto amp = rest.find('&');
        const std::string_view part = rest.substr(0, amp);
        if (!first) {
            out.push_back('&');
        }
        first = false;
        const auto eq = part.find('=');
        const std::string_view name = part.substr(0, eq);
        std::string plain = decode(name);
        for (char& c : plain) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        bool secret = false;
        for (const auto k : secret_keys) {
            if (plain == k) {
                secret = true;
            }
        }
        if (secret && eq != std::string_view::npos) {
            out.append(name).append("=[redacted]");
        } else {
            out.append(part);
        }
        if (amp == std::string_view::npos) {
            break;
        }
        rest = rest.substr(amp + 1);
    }
    return out;
}

} // namespace posfeed::core
