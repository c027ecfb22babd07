#include "http/chunk_writer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>

namespace posfeed::http {

namespace asio = boost::asio;

boost::asio::awaitable<bool> chunk_writer::write(std::string_view text) {
    if (text.empty()) {
        co_return true;
    }
    // A client that stops reading cannot hold the stream forever: a write that makes no
    // progress for the timeout closes it (it resumes from its Last-Event-ID).
    stream_.expires_after(timeout_);
    chunk_head head;
    const std::array<asio::const_buffer, 3> chunk{head.format(text.size()), asio::buffer(text),
                                                  asio::buffer(crlf)};
    auto [ec, n] = co_await asio::async_write(stream_, chunk, asio::as_tuple(asio::use_awaitable));
    last_write_ = clock::now();
    if (ec) {
        error_ = ec;
    }
    co_return !ec;
}

boost::asio::awaitable<void> chunk_writer::finish() {
    stream_.expires_after(std::chrono::seconds(5));
    co_await asio::async_write(stream_, boost::beast::http::make_chunk_last(),
                               asio::as_tuple(asio::use_awaitable));
}

} // namespace posfeed::http
