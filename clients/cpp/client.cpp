#include "client.hpp"

#include "sse_parser.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <random>

namespace posfeed::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::awaitable;
using std::chrono::milliseconds;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t header_limit = 64U << 10U;
constexpr std::size_t error_body_limit = 64U << 10U;
constexpr milliseconds max_retry_after{3'600'000};

/// Where to connect and what to ask for, from `client_options`.
struct request_target {
    bool tls = false;
    std::string host; // for the resolver and TLS (no brackets around IPv6)
    std::string port;
    std::string host_header;
    std::string target;
};

/// The outcome of one connection.
struct attempt_result {
    enum class kind { retry, fatal, stopped } what = kind::retry;
    std::string reason;
    std::optional<milliseconds> retry_after;
    fatal_error error;
};

attempt_result stopped_attempt() {
    attempt_result r;
    r.what = attempt_result::kind::stopped;
    return r;
}

attempt_result retry_attempt(std::string reason) {
    attempt_result r;
    r.what = attempt_result::kind::retry;
    r.reason = std::move(reason);
    return r;
}

attempt_result fatal_attempt(fatal_error error) {
    attempt_result r;
    r.what = attempt_result::kind::fatal;
    r.error = std::move(error);
    return r;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        const auto a = static_cast<unsigned char>(text[i]);
        const auto b = static_cast<unsigned char>(prefix[i]);
        if (std::tolower(a) != std::tolower(b)) {
            return false;
        }
    }
    return true;
}

std::optional<request_target> make_target(const client_options& o, std::string& error) {
    const auto parsed = boost::urls::parse_uri(o.url);
    if (!parsed) {
        error = "'" + redact_url(o.url) + "' is not a URL; expected http://host:port/eventsource";
        return std::nullopt;
    }
    boost::urls::url u(*parsed);
    request_target t;
    if (u.scheme_id() == boost::urls::scheme::http) {
        t.tls = false;
    } else if (u.scheme_id() == boost::urls::scheme::https) {
        t.tls = true;
    } else {
        error = "unsupported scheme '" + std::string(u.scheme()) + "' in '" + redact_url(o.url) +
                "'; use http:// or https://";
        return std::nullopt;
    }
    if (!u.has_authority() || u.encoded_host().empty()) {
        error = "no host in '" + redact_url(o.url) + "'";
        return std::nullopt;
    }
    if (u.has_userinfo()) {
        error = "user information in URLs is not supported; use --api-key or --token";
        return std::nullopt;
    }
    t.host = u.host_address();
    t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
    t.host_header = u.encoded_host_and_port();
    for (const auto& [name, value] : o.query) {
        u.params().append({name, value});
    }
    if (!o.format.empty()) {
        u.params().append({"format", o.format});
    }
    if (!o.token.empty()) {
        u.params().append({"token", o.token});
    }
    t.target = u.encoded_target();
    if (t.target.empty()) {
        t.target = "/";
    }
    return t;
}

/// Seconds of a `Retry-After` header (the HTTP-date form is not used by posfeed and ignored).
std::optional<milliseconds> parse_retry_after(std::string_view value) {
    while (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    while (!value.empty() && value.back() == ' ') {
        value.remove_suffix(1);
    }
    unsigned long long seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        return std::nullopt;
    }
    if (seconds > static_cast<unsigned long long>(max_retry_after.count() / 1000)) {
        return max_retry_after;
    }
    return milliseconds(seconds * 1000);
}

/// The code and message of a posfeed JSON error body, or the body itself as the message.
fatal_error describe_error(unsigned status, std::string_view reason, std::string_view body) {
    fatal_error e;
    e.status = status;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(body, ec);
    if (!ec && v.is_object()) {
        if (const auto* err = v.as_object().if_contains("error"); err && err->is_object()) {
            const auto& o = err->as_object();
            if (const auto* c = o.if_contains("code"); c && c->is_string()) {
                e.code = c->as_string();
            }
            if (const auto* m = o.if_contains("message"); m && m->is_string()) {
                e.message = m->as_string();
            }
        }
    }
    if (e.code.empty() && e.message.empty()) {
        e.message = body.empty() ? std::string(reason) : std::string(body.substr(0, 500));
    }
    return e;
}

std::string describe_network_error(const boost::system::error_code& ec, milliseconds idle) {
    if (ec == beast::error::timeout) {
        if (idle.count() % 1000 == 0) {
            return "no bytes for " + std::to_string(idle.count() / 1000) + " s";
        }
        return "no bytes for " + std::to_string(idle.count()) + " ms";
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == http::error::partial_message) {
        return "the connection closed";
    }
    return ec.message();
}

} // namespace

milliseconds backoff_delay(milliseconds base, unsigned attempt, milliseconds cap) {
    if (base <= milliseconds::zero()) {
        base = milliseconds(1);
    }
    milliseconds d = base;
    for (unsigned i = 0; i < attempt && d < cap; ++i) {
        d *= 2;
    }
    return std::min(d, cap);
}

std::string redact_url(std::string_view url) {
    std::string out(url);
    const auto query = out.find('?');
    if (query == std::string::npos) {
        return out;
    }
    std::size_t at = query + 1;
    while (at < out.size() && out[at] != '#') {
        auto end = out.find_first_of("&#", at);
        if (end == std::string::npos) {
            end = out.size();
        }
        const std::string_view param(out.data() + at, end - at);
        for (const std::string_view name : {"token=", "session="}) {
            if (param.starts_with(name) && param.size() > name.size()) {
                constexpr std::string_view redacted = "redacted";
                const auto value_at = at + name.size();
                out.replace(value_at, end - value_at, redacted);
                end = value_at + redacted.size();
                break;
            }
        }
        at = end < out.size() && out[end] == '&' ? end + 1 : end;
    }
    return out;
}

struct feed_client::impl {
    impl(asio::any_io_executor ex, client_options o, client_handlers h)
        : executor(std::move(ex)), options(std::move(o)), handlers(std::move(h)),
          filter(options.resume), resolver(executor), timer(executor),
          parser([this](const sse_event& e) { on_sse(e); },
                 [this](std::uint64_t ms) {
                     server_retry = milliseconds(static_cast<milliseconds::rep>(
                         std::min<std::uint64_t>(ms, 24ULL * 3600 * 1000)));
                 },
                 options.max_event_bytes),
          random(std::random_device{}()) {}

    void on_sse(const sse_event& e) {
        if (stopped) {
            return;
        }
        ++events_on_connection;
        const std::string_view own_id = e.has_id ? e.last_event_id : std::string_view();
        const decision d = filter.on_event(e.type, e.data, own_id, e.has_id);
        if (d.what == verdict::deliver && handlers.on_event) {
            handlers.on_event(feed_event{e.type, e.data, own_id});
        }
        if (d.state_changed && handlers.on_state) {
            handlers.on_state(filter.state());
        }
    }

    void stop() {
        stopped = true;
        resolver.cancel();
        timer.cancel();
        if (current != nullptr) {
            current->cancel();
        }
    }

    awaitable<run_result> run() {
        std::string error;
        const auto target = make_target(options, error);
        if (!target) {
            co_return run_result{true, fatal_error{0, "invalid_argument", error}};
        }
        std::optional<ssl::context> tls;
        if (target->tls) {
            tls.emplace(ssl::context::tls_client);
            tls->set_verify_mode(ssl::verify_peer);
            boost::system::error_code ec;
            if (options.tls_ca_file.empty()) {
                tls->set_default_verify_paths(ec);
            } else {
                tls->load_verify_file(options.tls_ca_file, ec);
            }
            if (ec) {
                co_return run_result{
                    true,
                    fatal_error{0, "tls", "cannot load trusted certificates: " + ec.message()}};
            }
        }
        unsigned failures = 0;
        while (!stopped) {
            events_on_connection = 0;
            const attempt_result r = co_await attempt(*target, tls ? &*tls : nullptr);
            if (stopped || r.what == attempt_result::kind::stopped) {
                break;
            }
            if (r.what == attempt_result::kind::fatal) {
                co_return run_result{true, r.error};
            }
            if (events_on_connection > 0) {
                failures = 0; // a working stream: start the backoff again
            }
            milliseconds delay{};
            if (r.retry_after) {
                delay = *r.retry_after;
            } else {
                const milliseconds base = server_retry.value_or(options.initial_backoff);
                const milliseconds d = backoff_delay(base, failures, options.max_backoff);
                std::uniform_real_distribution<double> jitter(0.75, 1.25);
                delay = std::min(options.max_backoff,
                                 milliseconds(static_cast<milliseconds::rep>(
                                     static_cast<double>(d.count()) * jitter(random))));
            }
            ++failures;
            if (handlers.on_reconnect) {
                handlers.on_reconnect(reconnect_notice{failures, delay, r.reason});
            }
            if (stopped) {
                break;
            }
            timer.expires_after(delay);
            co_await timer.async_wait(use_tuple);
        }
        co_return run_result{};
    }

    /// Makes `stop()` cancel `stream` while it is in scope.
    struct current_guard {
        current_guard(impl& self, beast::tcp_stream& stream) : self_(self) {
            self_.current = &stream;
        }
        ~current_guard() { self_.current = nullptr; }
        current_guard(const current_guard&) = delete;
        current_guard& operator=(const current_guard&) = delete;
        impl& self_;
    };

    awaitable<attempt_result> attempt(const request_target& t, ssl::context* tls) {
        auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, use_tuple);
        if (stopped) {
            co_return stopped_attempt();
        }
        if (rec) {
            co_return retry_attempt("cannot resolve " + t.host + ": " + rec.message());
        }
        if (tls != nullptr) {
            beast::ssl_stream<beast::tcp_stream> stream(executor, *tls);
            auto& lowest = beast::get_lowest_layer(stream);
            const current_guard guard(*this, lowest);
            if (!SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str())) {
                co_return fatal_attempt(fatal_error{0, "tls", "cannot set the TLS server name"});
            }
            stream.set_verify_callback(ssl::host_name_verification(t.host));
            lowest.expires_after(options.idle_timeout);
            auto [cec, ep] = co_await lowest.async_connect(endpoints, use_tuple);
            if (stopped) {
                co_return stopped_attempt();
            }
            if (cec) {
                co_return retry_attempt(describe_network_error(cec, options.idle_timeout));
            }
            lowest.expires_after(options.idle_timeout);
            auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
            if (stopped) {
                co_return stopped_attempt();
            }
            if (hec) {
                co_return retry_attempt("TLS handshake: " + hec.message());
            }
            co_return co_await exchange(stream, lowest, t);
        }
        beast::tcp_stream stream(executor);
        const current_guard guard(*this, stream);
        stream.expires_after(options.idle_timeout);
        auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
        if (stopped) {
            co_return stopped_attempt();
        }
        if (cec) {
            co_return retry_attempt(describe_network_error(cec, options.idle_timeout));
        }
        co_return co_await exchange(stream, stream, t);
    }

    template <class Stream>
    awaitable<attempt_result> exchange(Stream& stream, beast::tcp_stream& lowest,
                                       const request_target& t) {
        using kind = attempt_result::kind;
        http::request<http::empty_body> req{http::verb::get, t.target, 11};
        req.set(http::field::host, t.host_header);
        req.set(http::field::user_agent, "posfeed_client/0.1");
        req.set(http::field::accept, "text/event-stream");
        req.set(http::field::cache_control, "no-cache");
        if (!options.api_key.empty()) {
            req.set("X-Api-Key", options.api_key);
        }
        if (!filter.state().last_id.empty()) {
            req.set("Last-Event-ID", filter.state().last_id);
        }
        lowest.expires_after(options.idle_timeout);
        auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
        if (stopped) {
            co_return stopped_attempt();
        }
        if (wec) {
            co_return retry_attempt(describe_network_error(wec, options.idle_timeout));
        }

        beast::flat_buffer buffer;
        http::response_parser<http::buffer_body> head;
        head.header_limit(header_limit);
        head.body_limit(boost::none);
        lowest.expires_after(options.idle_timeout);
        auto [rec, rn] = co_await http::async_read_header(stream, buffer, head, use_tuple);
        if (stopped) {
            co_return stopped_attempt();
        }
        if (rec) {
            co_return retry_attempt(describe_network_error(rec, options.idle_timeout));
        }
        const unsigned status = head.get().result_int();
        if (status != 200) {
            attempt_result r;
            r.reason = "status " + std::to_string(status);
            if (status == 408 || status == 429 || status >= 500) {
                r.what = kind::retry;
                if (status == 429 || status == 503) {
                    r.retry_after = parse_retry_after(head.get()[http::field::retry_after]);
                }
                co_return r;
            }
            std::string body;
            if (!head.is_done()) {
                http::response_parser<http::string_body> rest(std::move(head));
                rest.body_limit(error_body_limit);
                lowest.expires_after(options.idle_timeout);
                // A cut or oversized body still leaves the status to report.
                co_await http::async_read(stream, buffer, rest, use_tuple);
                if (stopped) {
                    co_return stopped_attempt();
                }
                body = std::move(rest.get().body());
                r.error = describe_error(status, rest.get().reason(), body);
            } else {
                r.error = describe_error(status, head.get().reason(), body);
            }
            r.what = kind::fatal;
            co_return r;
        }
        const std::string_view content_type = head.get()[http::field::content_type];
        if (!iequals_prefix(content_type, "text/event-stream")) {
            co_return fatal_attempt(fatal_error{status, "not_an_event_stream",
                                                "the server answered 200 with Content-Type '" +
                                                    std::string(content_type) +
                                                    "', not text/event-stream"});
        }

        parser.reset();
        filter.new_connection();
        std::array<char, 16384> chunk{};
        while (!head.is_done()) {
            head.get().body().data = chunk.data();
            head.get().body().size = chunk.size();
            lowest.expires_after(options.idle_timeout);
            auto [ec, n] = co_await http::async_read_some(stream, buffer, head, use_tuple);
            if (ec == http::error::need_buffer) {
                ec = {};
            }
            const std::size_t got = chunk.size() - head.get().body().size;
            if (got > 0 && !stopped) {
                parser.feed(std::string_view(chunk.data(), got));
            }
            if (stopped) {
                co_return stopped_attempt();
            }
            if (parser.failed()) {
                co_return retry_attempt("an event passed " +
                                        std::to_string(options.max_event_bytes) + " bytes");
            }
            if (ec) {
                co_return retry_attempt(describe_network_error(ec, options.idle_timeout));
            }
        }
        co_return retry_attempt("the server ended the stream");
    }

    asio::any_io_executor executor;
    client_options options;
    client_handlers handlers;
    duplicate_filter filter;
    asio::ip::tcp::resolver resolver;
    asio::steady_timer timer;
    sse_parser parser;
    std::mt19937 random;
    std::optional<milliseconds> server_retry;
    beast::tcp_stream* current = nullptr;
    std::uint64_t events_on_connection = 0;
    bool stopped = false;
};

feed_client::feed_client(asio::any_io_executor executor, client_options options,
                         client_handlers handlers)
    : impl_(std::make_unique<impl>(std::move(executor), std::move(options), std::move(handlers))) {}

feed_client::~feed_client() = default;

awaitable<run_result> feed_client::run() {
    return impl_->run();
}

void feed_client::stop() {
    impl_->stop();
}

const resume_state& feed_client::state() const {
    return impl_->filter.state();
}

} // namespace posfeed::client
