#include "subscriber.hpp"

#include "groups.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>

#include <array>

namespace posfeed_bench {
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// The read buffer of every stream of this thread: a stream reads only after its socket is
/// readable and parses the bytes before it awaits again, so they never overlap.
thread_local std::array<char, 256 * 1024> read_buffer;

} // namespace

stream_request stream_request::make(const http_url& url, const std::vector<std::string>& headers,
                                    bool live_on_headers) {
    std::string text = "GET " + url.target + " HTTP/1.1\r\nHost: " + url.authority() +
                       "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n";
    for (const auto& h : headers) {
        text += h + "\r\n";
    }
    text += "\r\n";
    return stream_request{.url = url, .text = std::move(text), .live_on_headers = live_on_headers};
}

std::vector<stream_request> stream_request::from(const bench_options& o) {
    std::vector<stream_request> requests;
    const auto group_headers = read_group_headers(o.group_headers, o.groups);
    for (const auto& url : parse_http_url_list(o.stream_url, "--stream-url")) {
        if (o.groups <= 1) {
            requests.push_back(make(url, o.headers, o.live_on == "headers"));
            continue;
        }
        // Entry k is group k % groups: stream i (request i % size) is in group i % groups.
        for (std::uint32_t g = 0; g < o.groups; ++g) {
            http_url grouped = url;
            grouped.target = with_group(url.target, g);
            auto headers = o.headers;
            if (!group_headers.empty()) {
                headers.push_back(group_headers[g]);
            }
            requests.push_back(make(grouped, headers, o.live_on == "headers"));
        }
    }
    return requests;
}

subscriber::subscriber(asio::io_context& ctx, const stream_request& request, std::uint32_t index,
                       std::uint32_t source_address, stream_sink& sink)
    : socket_(ctx), request_(request), index_(index), source_address_(source_address), sink_(sink) {
}

asio::awaitable<std::string> subscriber::open() {
    using asio::ip::tcp;
    boost::system::error_code ec;
    socket_.open(tcp::v4(), ec);
    if (ec) {
        co_return "socket: " + ec.message();
    }
    // Let connect() pick the port per 4-tuple, so one source address serves many servers.
    const int on = 1;
    ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    socket_.bind(tcp::endpoint(asio::ip::address_v4(source_address_), 0), ec);
    if (ec) {
        co_return "bind " + asio::ip::address_v4(source_address_).to_string() + ": " + ec.message();
    }
    const tcp::endpoint server(asio::ip::make_address_v4(request_.url.host), request_.url.port);
    auto [cec] = co_await socket_.async_connect(server, use_tuple);
    if (cec) {
        co_return "connect: " + cec.message();
    }
    socket_.set_option(tcp::no_delay(true), ec);
    auto [wec, n] = co_await asio::async_write(socket_, asio::buffer(request_.text), use_tuple);
    if (wec) {
        co_return "write: " + wec.message();
    }
    socket_.non_blocking(true, ec);
    while (!live_) {
        std::string error = co_await read_once();
        if (!error.empty()) {
            close();
            co_return error;
        }
    }
    co_return std::string{};
}

asio::awaitable<void> subscriber::follow() {
    while (!closed_) {
        std::string error = co_await read_once();
        if (!error.empty()) {
            if (!closed_) {
                close();
                sink_.on_end(index_, error);
            }
            co_return;
        }
    }
}

void subscriber::close() {
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
}

asio::awaitable<std::string> subscriber::read_once() {
    auto [wec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, use_tuple);
    if (wec) {
        co_return "wait: " + wec.message();
    }
    // Drain what the socket holds now, a buffer at a time.
    while (true) {
        boost::system::error_code ec;
        const std::size_t n = socket_.read_some(asio::buffer(read_buffer), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            co_return std::string{};
        }
        if (ec == asio::error::eof) {
            co_return "the server closed the connection";
        }
        if (ec) {
            co_return "read: " + ec.message();
        }
        std::string error = consume(std::string_view(read_buffer.data(), n));
        if (!error.empty()) {
            co_return error;
        }
        if (n < read_buffer.size()) {
            co_return std::string{};
        }
    }
}

std::string subscriber::consume(std::string_view data) {
    if (head_done_) {
        return consume_body(data);
    }
    head_.append(data);
    auto end = head_.find("\r\n\r\n");
    std::size_t terminator = 4;
    if (end == std::string::npos) {
        end = head_.find("\n\n");
        terminator = 2;
    }
    if (end == std::string::npos) {
        return head_.size() > 65536 ? "response head too large" : std::string{};
    }
    response_head head;
    if (!parse_response_head(std::string_view(head_).substr(0, end + terminator), head)) {
        return "malformed response head";
    }
    if (head.status != 200) {
        const auto first_line = head_.substr(0, head_.find('\r'));
        return "status " + std::to_string(head.status) + " (" + first_line + ")";
    }
    head_done_ = true;
    chunked_ = head.chunked;
    if (request_.live_on_headers) {
        live_ = true;
    }
    const std::string rest = head_.substr(end + terminator);
    std::string().swap(head_);
    return rest.empty() ? std::string{} : consume_body(rest);
}

std::string subscriber::consume_body(std::string_view data) {
    auto on_event = [this](const sse_parser::event& ev) {
        if (ev.ready) {
            live_ = true;
        } else if (ev.seq >= 0) {
            sink_.on_event(index_, ev.seq, ev.data_bytes);
        }
    };
    if (!chunked_) {
        sse_.feed(data, on_event);
        return {};
    }
    chunks_.feed(data, [&](std::string_view payload) { sse_.feed(payload, on_event); });
    if (chunks_.failed()) {
        return "malformed chunked body";
    }
    if (chunks_.done()) {
        return "the server ended the stream";
    }
    return {};
}

} // namespace posfeed_bench
