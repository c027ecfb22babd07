#include "http/connection.hpp"

#include "core/log.hpp"
#include "http/cors.hpp"
#include "http/handlers.hpp"
#include "http/request.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>

namespace posfeed::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// The error answered to a request that could not be read, or nullopt to just close.
std::optional<http_error> read_error(const boost::system::error_code& ec, bool request_line_read) {
    if (ec == beast_http::error::header_limit) {
        // The parser fills in the method once the request line is complete: a limit hit before
        // that is a request line (a URL) that is too long.
        if (!request_line_read) {
            return http_error{protocol_code::uri_too_long,
                              "the request line (the URL) is too long; the limit is set by "
                              "limits.header_bytes"};
        }
        return http_error{
            protocol_code::header_too_large,
            "the request headers are too large; the limit is set by limits.header_bytes"};
    }
    if (ec == beast_http::error::body_limit) {
        return http_error{protocol_code::payload_too_large,
                          "the request body is too large; the limit is set by limits.body_bytes"};
    }
    if (ec.category() == beast_http::make_error_code(beast_http::error::bad_target).category()) {
        return core::invalid_argument("the request is not valid HTTP/1.1 (" + ec.message() + ")");
    }
    return std::nullopt;
}

/// Logs an answered request (not an event stream: eventsource.cpp logs those): at `debug`
/// below 400, at `info` from 400 on (docs/decisions.md, decision 38). The target is redacted.
void log_request(const request& req, int status, std::chrono::steady_clock::time_point started) {
    const auto level = status < 400 ? spdlog::level::debug : spdlog::level::info;
    if (!core::log_enabled(level)) {
        return; // skip the redaction and formatting of a line nobody reads
    }
    const double ms = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count() /
                      1000.0;
    const std::string_view method = req.method_string();
    const std::string target = core::redact_target(req.target());
    core::log(level, fmt::format("{} {} {} {:.1f}ms", method, target, status, ms),
              {{"method", method, false},
               {"target", target, false},
               {"status", status, false},
               {"duration_ms", std::round(ms * 10) / 10, false}});
}

asio::awaitable<void> serve(context& ctx, beast::tcp_stream& stream, std::size_t shard,
                            connection_slot& slot) {
    beast::flat_buffer buffer;
    boost::system::error_code peer_ec;
    // Unspecified (never loopback) when the peer is already gone.
    const auto peer = stream.socket().remote_endpoint(peer_ec).address();
    const auto header_timeout = std::chrono::milliseconds(ctx.cfg.limits.header_timeout_ms);
    while (true) {
        beast_http::request_parser<beast_http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(ctx.cfg.limits.header_bytes));
        parser.body_limit(ctx.cfg.limits.body_bytes);
        stream.expires_after(header_timeout);
        auto [ec, n] = co_await beast_http::async_read(stream, buffer, parser, use_tuple);
        if (ec) {
            if (ec != beast_http::error::end_of_stream && ec != beast::error::timeout) {
                if (const auto err = read_error(ec, !parser.get().method_string().empty())) {
                    request dummy;
                    dummy.version(11);
                    dummy.keep_alive(false);
                    auto res = error_response(dummy, *err);
                    res.keep_alive(false);
                    // The request is incomplete: neither its target nor its headers are logged.
                    const int status = static_cast<int>(res.result_int());
                    core::log(spdlog::level::info,
                              fmt::format("request not read: {} {}", status, err->code_name()),
                              {{"status", status, false}, {"code", err->code_name(), false}});
                    stream.expires_after(std::chrono::seconds(5));
                    co_await beast_http::async_write(stream, res, use_tuple);
                }
            }
            break;
        }
        stream.expires_never();
        const request_scope active(slot);
        request req = parser.release();
        const auto started = std::chrono::steady_clock::now();
        const auto t = parse_target(req.target());
        if (!t.ok()) {
            auto res = error_response(req, t.err());
            res.keep_alive(false);
            log_request(req, static_cast<int>(res.result_int()), started);
            co_await beast_http::async_write(stream, res, use_tuple);
            break;
        }
        if (is_eventsource_path(t->path) && req.method() != beast_http::verb::options) {
            co_await serve_eventsource(ctx, stream, req, *t, shard, slot);
            break;
        }
        response res;
        if (req.method() == beast_http::verb::options) {
            res = preflight_response(ctx.cfg, req);
        } else {
            res = co_await handle_request(ctx, req, *t, peer);
        }
        apply_cors(ctx.cfg, req, res);
        if (req.method() == beast_http::verb::head) {
            // The headers of the GET, Content-Length included, without the body.
            const auto length = res.body().size();
            res.body().clear();
            res.content_length(length);
        }
        if (ctx.shutting_down) {
            res.keep_alive(false);
        }
        if (res.keep_alive()) {
            // How long an idle connection is kept (the next request must arrive within the
            // header timeout), in whole seconds rounded down: clients that honour the hint
            // (Node's http.Agent, curl) stop reusing the connection before this side closes
            // it, instead of racing the close with their next request.
            res.set(beast_http::field::keep_alive,
                    "timeout=" + std::to_string(ctx.cfg.limits.header_timeout_ms / 1000));
        }
        ctx.stats.request(static_cast<int>(res.result_int()));
        log_request(req, static_cast<int>(res.result_int()), started);
        stream.expires_after(std::chrono::seconds(30));
        auto [wec, wn] = co_await beast_http::async_write(stream, res, use_tuple);
        if (wec || !res.keep_alive()) {
            break;
        }
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

} // namespace

asio::awaitable<void> run_connection(context& ctx, asio::ip::tcp::socket socket,
                                     std::size_t shard) {
    connection_slot slot(ctx);
    beast::tcp_stream stream(std::move(socket));
    try {
        co_await serve(ctx, stream, shard, slot);
    } catch (const std::exception& e) {
        spdlog::warn("connection closed after an unexpected error: {}", e.what());
    }
}

} // namespace posfeed::http
