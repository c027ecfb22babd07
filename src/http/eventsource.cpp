// The event source endpoint (SPEC 3): validation, the 200 header, then the replay (replay.cpp)
// and the live phase (live_stream.cpp).

#include "core/log.hpp"
#include "http/cors.hpp"
#include "http/handlers.hpp"
#include "http/live_stream.hpp"
#include "http/replay.hpp"
#include "http/stream_request.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffer_traits.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace posfeed::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
/// Validates the request; the error becomes the JSON response.
asio::awaitable<core::result<stream_request, http_error>> validate(context& ctx, const request& req,
                                                                   const target& t) {
    if (req.method() != beast_http::verb::get) {
        co_return http_error{protocol_code::method_not_allowed,
                             "the event source answers GET only, not " +
                                 std::string(req.method_string())};
    }
    if (ctx.shutting_down) {
        co_return core::error{core::error_code::unavailable,
                              "the server is shutting down; reconnect"};
    }
    auto cred = co_await authenticate(ctx, req, t);
    if (!cred.ok()) {
        co_return cred.take_err();
    }
    std::optional<store::session_row> named_session;
    if (const auto named = named_session_id(t, *cred)) {
        auto find = [&ctx, key = auth::session_key(*named)] { return ctx.db.find_session(key); };
        named_session = co_await ctx.pool.run(std::move(find));
    }
    auto parsed =
        parse_stream_request(t, header(req, "Last-Event-ID"), std::move(*cred), named_session);
    if (!parsed.ok()) {
        co_return parsed.take_err();
    }
    co_return std::move(*parsed);
}

/// Answers a stream request that cannot start with its JSON error (SPEC 3) and closes.
asio::awaitable<void> refuse(context& ctx, beast::tcp_stream& stream, const request& req,
                             const std::string& logged_target, const http_error& err,
                             int retry_after_s) {
    auto res = error_response(req, err, retry_after_s, "GET");
    apply_cors(ctx.cfg, req, res);
    res.keep_alive(false);
    const int status = static_cast<int>(res.result_int());
    core::log(spdlog::level::info, fmt::format("GET {} {}", logged_target, status),
              {{"method", "GET", false},
               {"target", logged_target, false},
               {"status", status, false},
               {"code", err.code_name()}});
    ctx.stats.request(status);
    co_await beast_http::async_write(stream, res, use_tuple);
}

/// The response head as it goes on the wire (status line, fields, blank line).
std::string head_text(beast_http::response<beast_http::empty_body>& res) {
    beast_http::response_serializer<beast_http::empty_body> serializer(res);
    serializer.split(true);
    std::string text;
    boost::system::error_code ec;
    while (!ec && !serializer.is_header_done()) {
        serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
            for (const auto b : beast::buffers_range_ref(buffers)) {
                text.append(static_cast<const char*>(b.data()), b.size());
            }
            serializer.consume(beast::buffer_bytes(buffers));
        });
    }
    return text;
}

} // namespace

asio::awaitable<void> serve_eventsource(context& ctx, beast::tcp_stream& stream, const request& req,
                                        const target& t, std::size_t shard, connection_slot& slot) {
    std::string logged_target = core::redact_target(req.target());
    auto sr = co_await validate(ctx, req, t);
    if (sr.ok() && !ctx.hub.try_open_stream(sr->cred.id, ctx.cfg.limits.streams_per_credential)) {
        sr = core::error{
            core::error_code::resource_exhausted,
            "this credential already has " + std::to_string(ctx.cfg.limits.streams_per_credential) +
                " open streams (limits.streams_per_credential); close one or retry later"};
    }
    if (!sr.ok()) {
        co_await refuse(ctx, stream, req, logged_target, sr.err(), 5);
        co_return;
    }
    // Owns the stream slot from here on (released when it is destroyed). Attached to the hub
    // first, then the store follows the RmSystem, then the replay reads: whatever commits after
    // the reads reaches the stream's queue, on this node or any other.
    auto live = std::make_shared<live_stream>(ctx, co_await asio::this_coro::executor, shard, *sr,
                                              logged_target);
    if (const auto followed = co_await async_follow(ctx.db, sr->cred.rmsystem, asio::use_awaitable);
        !followed.ok()) {
        core::log(spdlog::level::warn,
                  fmt::format("GET {}: {}", logged_target, followed.err().message),
                  {{"method", "GET", false}, {"target", logged_target, false}});
        co_await refuse(ctx, stream, req, logged_target, followed.err(), 1);
        co_return;
    }
    live->followed();

    beast_http::response<beast_http::empty_body> res{beast_http::status::ok, req.version()};
    res.set(beast_http::field::server, "posfeed");
    res.set(beast_http::field::content_type, "text/event-stream");
    res.set(beast_http::field::cache_control, "no-cache");
    res.set("X-Accel-Buffering", "no");
    apply_cors(ctx.cfg, req, res);
    res.chunked(true);
    res.keep_alive(true);
    // The head goes out with the replay's first chunk, in one send (a write error shows there).
    chunk_writer out(stream, std::chrono::milliseconds(ctx.cfg.limits.write_timeout_ms));
    out.hold(head_text(res));
    live->opened();
    ctx.stats.stream_opened();
    ctx.stats.request(200);

    const auto ready_rve = co_await replay(ctx, out, live->sub(), *sr, live->sent());
    if (!ready_rve) {
        if (live->sub().closed()) {
            co_await out.finish();
        } else {
            // A replay that ended before its first write still answers with the head.
            co_await out.flush();
        }
        live->replay_ended(out.error());
        co_return;
    }
    // The live phase runs without this coroutine (or the connection's): see live_stream.
    live->start(stream.release_socket(), std::move(slot), *ready_rve, out.last_write());
}

} // namespace posfeed::http
