#include "client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace posfeed::client {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

TEST(RedactUrl, HidesTokenAndSessionValues) {
    EXPECT_EQ(redact_url("http://h/eventsource?want=a&token=pft_secret&rve=0"),
              "http://h/eventsource?want=a&token=redacted&rve=0");
    EXPECT_EQ(redact_url("http://h/e?token=x#frag"), "http://h/e?token=redacted#frag");
    EXPECT_EQ(redact_url("http://h/e?session=abc&mytoken=keep"),
              "http://h/e?session=redacted&mytoken=keep");
    EXPECT_EQ(redact_url("http://h/e"), "http://h/e");
}

TEST(BackoffDelay, DoublesFromTheBaseUpToTheCap) {
    EXPECT_EQ(backoff_delay(1000ms, 0, 30000ms), 1000ms);
    EXPECT_EQ(backoff_delay(1000ms, 1, 30000ms), 2000ms);
    EXPECT_EQ(backoff_delay(3000ms, 3, 30000ms), 24000ms);
    EXPECT_EQ(backoff_delay(3000ms, 4, 30000ms), 30000ms);
    EXPECT_EQ(backoff_delay(3000ms, 1000, 30000ms), 30000ms);
    EXPECT_EQ(backoff_delay(60000ms, 0, 30000ms), 30000ms);
}

/// A scripted HTTP server on 127.0.0.1: the n-th connection gets the n-th answer (raw bytes);
/// with `hold`, the connection then stays open until the client closes it.
struct scripted_server {
    struct answer {
        std::string bytes;
        bool hold = false;
    };

    explicit scripted_server(asio::io_context& io, std::vector<answer> script)
        : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          answers(std::move(script)) {
        asio::co_spawn(io, serve(), asio::detached);
    }

    asio::awaitable<void> serve() {
        for (const answer& a : answers) {
            auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
            if (ec) {
                co_return;
            }
            std::string head;
            auto [rec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(head),
                                                            "\r\n\r\n", use_tuple);
            requests.push_back(head.substr(0, n));
            co_await asio::async_write(socket, asio::buffer(a.bytes), use_tuple);
            if (a.hold) {
                char c;
                co_await socket.async_read_some(asio::buffer(&c, 1), use_tuple);
            }
        }
    }

    [[nodiscard]] std::string url(const std::string& path = "/eventsource") const {
        return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + path;
    }

    tcp::acceptor acceptor;
    std::vector<answer> answers;
    std::vector<std::string> requests;
};

std::string stream_head() {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
}

std::string chunked_head() {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
           "chunked\r\n\r\n";
}

std::string chunk(const std::string& s) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx", s.size());
    return std::string(size) + "\r\n" + s + "\r\n";
}

std::string event(const std::string& type, const std::string& rve, bool with_id) {
    return (with_id ? "id: " + rve + "\n" : std::string()) + "event: " + type +
           "\ndata: {\"X\":[{\"RVE\":" + rve + "}]}\n\n";
}

struct received {
    std::vector<std::string> events; // "type id"
    std::vector<reconnect_notice> reconnects;
    std::vector<resume_state> states;
    run_result result;
};

/// Runs a client against `server` until it stops (after `stop_after` events) or fails.
received run_client(asio::io_context& io, client_options options, std::size_t stop_after) {
    received r;
    feed_client* self = nullptr;
    client_handlers h;
    h.on_event = [&](const feed_event& e) {
        r.events.push_back(std::string(e.type) + " " + std::string(e.id));
        if (r.events.size() >= stop_after) {
            self->stop();
        }
    };
    h.on_state = [&](const resume_state& s) { r.states.push_back(s); };
    h.on_reconnect = [&](const reconnect_notice& n) { r.reconnects.push_back(n); };
    feed_client client(io.get_executor(), std::move(options), std::move(h));
    self = &client;
    bool done = false;
    asio::co_spawn(io, client.run(), [&](std::exception_ptr e, run_result result) {
        EXPECT_FALSE(e);
        r.result = std::move(result);
        done = true;
    });
    asio::steady_timer guard(io, 20s);
    guard.async_wait([&](boost::system::error_code ec) {
        if (!ec) {
            ADD_FAILURE() << "the client did not finish within 20 s";
            client.stop();
        }
    });
    while (!done && io.run_one() > 0) {
    }
    guard.cancel();
    return r;
}

TEST(FeedClient, ResumesAfterACutInsideAGroupWithoutDuplicates) {
    asio::io_context io;
    const std::string r1 = "20210727.091105001";
    const std::string r2 = "20210727.091105002";
    scripted_server server(
        io, {{stream_head() + "retry: 10\n\n" + event("products", r1, true) +
              event("sales", r2, false)},
             {chunked_head() + chunk("retry: 10\n\n") + chunk(event("sales", r2, false)) +
                  chunk(event("levels", r2, true) + "event: ready\ndata: {}\n\n"),
              true}});
    client_options o;
    o.url = server.url("/eventsource_1?rve=0");
    o.query = {{"want", "products,sales,levels"}};
    o.api_key = "pfk_key";
    o.token = "pft_token";
    o.format = "xml";
    const received r = run_client(io, o, 4);
    EXPECT_FALSE(r.result.failed) << r.result.error.message;
    EXPECT_EQ(r.events,
              (std::vector<std::string>{"products " + r1, "sales ", "levels " + r2, "ready "}));
    ASSERT_EQ(r.reconnects.size(), 1U);
    EXPECT_EQ(r.reconnects[0].reason, "the server ended the stream");
    EXPECT_GE(r.reconnects[0].delay, 7ms);
    EXPECT_LE(r.reconnects[0].delay, 13ms);
    ASSERT_EQ(server.requests.size(), 2U);
    EXPECT_EQ(server.requests[0].find("Last-Event-ID"), std::string::npos);
    EXPECT_NE(server.requests[1].find("Last-Event-ID: " + r1 + "\r\n"), std::string::npos)
        << server.requests[1];
    for (const auto& req : server.requests) {
        EXPECT_EQ(
            req.rfind(
                "GET /eventsource_1?rve=0&want=products,sales,levels&format=xml&token=pft_token "
                "HTTP/1.1\r\n",
                0),
            0U)
            << req;
        EXPECT_NE(req.find("X-Api-Key: pfk_key\r\n"), std::string::npos);
        EXPECT_NE(req.find("Accept: text/event-stream\r\n"), std::string::npos);
    }
    ASSERT_FALSE(r.states.empty());
    EXPECT_EQ(r.states.back(), (resume_state{r2, std::nullopt}));
}

TEST(FeedClient, StopsOnARefusalWithTheServersCodeAndMessage) {
    asio::io_context io;
    const std::string body = R"({"error":{"code":"unauthenticated","message":"unknown API key"}})";
    scripted_server server(io, {{"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                                 "Content-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body}});
    client_options o;
    o.url = server.url();
    const received r = run_client(io, o, 1);
    ASSERT_TRUE(r.result.failed);
    EXPECT_EQ(r.result.error.status, 401U);
    EXPECT_EQ(r.result.error.code, "unauthenticated");
    EXPECT_EQ(r.result.error.message, "unknown API key");
    EXPECT_TRUE(r.reconnects.empty());
}

TEST(FeedClient, HonoursRetryAfterAndRetriesServerErrors) {
    asio::io_context io;
    scripted_server server(
        io, {{"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n"},
             {"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"},
             {stream_head() + "event: ready\ndata: {}\n\n", true}});
    client_options o;
    o.url = server.url();
    o.initial_backoff = 5ms;
    const received r = run_client(io, o, 1);
    EXPECT_FALSE(r.result.failed);
    ASSERT_EQ(r.reconnects.size(), 2U);
    EXPECT_EQ(r.reconnects[0].reason, "status 503");
    EXPECT_EQ(r.reconnects[0].delay, 0ms);
    EXPECT_EQ(r.reconnects[1].reason, "status 500");
    EXPECT_EQ(r.reconnects[1].attempt, 2U);
    EXPECT_GE(r.reconnects[1].delay, 7ms); // 5 ms doubled, with jitter
    EXPECT_EQ(r.events, (std::vector<std::string>{"ready "}));
}

TEST(FeedClient, ReconnectsAConnectionThatSendsNothing) {
    asio::io_context io;
    scripted_server server(io, {{stream_head() + ": hello\n", true},
                                {stream_head() + "event: ready\ndata: {}\n\n", true}});
    client_options o;
    o.url = server.url();
    o.idle_timeout = 200ms;
    o.initial_backoff = 1ms;
    const received r = run_client(io, o, 1);
    ASSERT_EQ(r.reconnects.size(), 1U);
    EXPECT_EQ(r.reconnects[0].reason, "no bytes for 200 ms");
    EXPECT_EQ(r.events, (std::vector<std::string>{"ready "}));
}

TEST(FeedClient, RefusesAnAnswerThatIsNotAnEventStream) {
    asio::io_context io;
    scripted_server server(io, {{"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                                 "2\r\n\r\nhi"}});
    client_options o;
    o.url = server.url();
    const received r = run_client(io, o, 1);
    ASSERT_TRUE(r.result.failed);
    EXPECT_EQ(r.result.error.code, "not_an_event_stream");
}

TEST(FeedClient, RejectsABadUrlWithoutConnecting) {
    asio::io_context io;
    client_options o;
    o.url = "ftp://127.0.0.1/eventsource?token=secret";
    const received r = run_client(io, o, 1);
    ASSERT_TRUE(r.result.failed);
    EXPECT_EQ(r.result.error.status, 0U);
    EXPECT_EQ(r.result.error.code, "invalid_argument");
    EXPECT_EQ(r.result.error.message.find("secret"), std::string::npos) << r.result.error.message;
}

} // namespace
} // namespace posfeed::client
