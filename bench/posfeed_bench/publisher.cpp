#include "publisher.hpp"

#include "groups.hpp"
#include "stream_parser.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>

namespace posfeed_bench {
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void replace_all(std::string& text, std::string_view from, std::string_view to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
}

} // namespace

std::string publish_template::body_for(std::int64_t seq) const {
    std::string text = body;
    replace_all(text, "{pad}", std::string(static_cast<std::size_t>(pad < 0 ? 0 : pad), 'x'));
    replace_all(text, "{seq}", std::to_string(seq));
    return text;
}

std::vector<publish_template> publish_template::from(const bench_options& o) {
    std::vector<publish_template> templates;
    const auto group_headers = read_group_headers(o.group_headers, o.groups);
    for (auto& url : parse_http_url_list(o.publish_url, "--publish-url")) {
        templates.push_back({.url = std::move(url),
                             .method = o.publish_method,
                             .headers = o.headers,
                             .content_type = o.content_type,
                             .body = o.publish_body,
                             .pad = o.pad,
                             .groups = std::max<std::uint32_t>(1, o.groups),
                             .group_headers = group_headers});
    }
    return templates;
}

std::string publish_template::request(std::int64_t seq) const {
    const bool grouped = groups > 1;
    const std::uint32_t group = group_of(seq, groups);
    const std::string payload = grouped ? with_group(body_for(seq), group) : body_for(seq);
    std::string text = method + " " + (grouped ? with_group(url.target, group) : url.target) +
                       " HTTP/1.1\r\nHost: " + url.authority() +
                       "\r\nContent-Type: " + content_type +
                       "\r\nContent-Length: " + std::to_string(payload.size()) + "\r\n";
    for (const auto& h : headers) {
        text += h + "\r\n";
    }
    if (grouped && !group_headers.empty()) {
        text += group_headers[group] + "\r\n";
    }
    text += "\r\n";
    text += payload;
    return text;
}

publisher::publisher(asio::io_context& ctx, const publish_template& tmpl)
    : socket_(ctx), template_(tmpl) {}

void publisher::reset() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    connected_ = false;
    in_.clear();
}

asio::awaitable<publish_result> publisher::send(std::int64_t seq) {
    const std::string request = template_.request(seq);
    publish_result result = co_await exchange(request);
    if (result.status == 0 && !result.error.empty() && result.error.starts_with("stale:")) {
        // The kept-alive connection was closed by the server before our request: once more.
        result = co_await exchange(request);
    }
    co_return result;
}

asio::awaitable<publish_result> publisher::exchange(const std::string& request) {
    using asio::ip::tcp;
    const bool reused = connected_;
    if (!connected_) {
        boost::system::error_code ec;
        socket_.open(tcp::v4(), ec);
        const tcp::endpoint server(asio::ip::make_address_v4(template_.url.host),
                                   template_.url.port);
        auto [cec] = co_await socket_.async_connect(server, use_tuple);
        if (cec) {
            reset();
            co_return publish_result{0, "connect: " + cec.message()};
        }
        socket_.set_option(tcp::no_delay(true), ec);
        connected_ = true;
    }
    auto [wec, written] = co_await asio::async_write(socket_, asio::buffer(request), use_tuple);
    if (wec) {
        reset();
        co_return publish_result{0,
                                 std::string(reused ? "stale: " : "") + "write: " + wec.message()};
    }
    // Read the head.
    std::array<char, 16384> buf;
    std::size_t head_end = std::string::npos;
    while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) {
        auto [rec, n] = co_await socket_.async_read_some(asio::buffer(buf), use_tuple);
        if (rec) {
            const bool nothing = in_.empty();
            reset();
            co_return publish_result{0, std::string(reused && nothing ? "stale: " : "") +
                                            "read: " + rec.message()};
        }
        in_.append(buf.data(), n);
    }
    response_head head;
    if (!parse_response_head(std::string_view(in_).substr(0, head_end + 4), head)) {
        reset();
        co_return publish_result{0, "malformed response head"};
    }
    in_.erase(0, head_end + 4);
    // Read (and drop) the body.
    if (head.chunked) {
        chunked_decoder chunks;
        std::size_t used = chunks.feed(in_, [](std::string_view) {});
        while (!chunks.done() && !chunks.failed()) {
            auto [rec, n] = co_await socket_.async_read_some(asio::buffer(buf), use_tuple);
            if (rec) {
                reset();
                co_return publish_result{head.status, "read body: " + rec.message()};
            }
            in_.assign(buf.data(), n);
            used = chunks.feed(in_, [](std::string_view) {});
        }
        in_.erase(0, used);
    } else if (head.content_length >= 0) {
        const auto length = static_cast<std::size_t>(head.content_length);
        while (in_.size() < length) {
            auto [rec, n] = co_await socket_.async_read_some(asio::buffer(buf), use_tuple);
            if (rec) {
                reset();
                co_return publish_result{head.status, "read body: " + rec.message()};
            }
            in_.append(buf.data(), n);
        }
        in_.erase(0, length);
    } else {
        head.close = true; // a body delimited by the end of the connection
    }
    if (head.close) {
        reset();
    }
    co_return publish_result{head.status, {}};
}

} // namespace posfeed_bench
