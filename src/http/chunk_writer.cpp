#include "http/chunk_writer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace posfeed::http {

namespace asio = boost::asio;

void chunk_writer::hold_chunk(std::string_view text) {
    if (text.empty()) {
        return;
    }
    chunk_head head;
    const auto line = head.format(text.size());
    held_.append(static_cast<const char*>(line.data()), line.size());
    held_.append(text);
    held_.append(crlf);
}

template <class Buffers> boost::asio::awaitable<bool> chunk_writer::send(const Buffers& buffers) {
    // A client that stops reading cannot hold the stream forever: a write that makes no
    // progress for the timeout closes it (it resumes from its Last-Event-ID).
    stream_.expires_after(timeout_);
    auto [ec, n] =
        co_await asio::async_write(stream_, buffers, asio::as_tuple(asio::use_awaitable));
    held_.clear();
    last_write_ = clock::now();
    if (ec) {
        error_ = ec;
    }
    co_return !ec;
}

boost::asio::awaitable<bool> chunk_writer::flush() {
    if (held_.empty()) {
        co_return true;
    }
    co_return co_await send(asio::buffer(held_));
}

boost::asio::awaitable<bool> chunk_writer::write(std::string_view text) {
    if (text.empty()) {
        co_return true;
    }
    chunk_head head;
    const std::array<asio::const_buffer, 4> chunk{asio::buffer(held_), head.format(text.size()),
                                                  asio::buffer(text), asio::buffer(crlf)};
    co_return co_await send(chunk);
}

boost::asio::awaitable<void> chunk_writer::finish() {
    stream_.expires_after(std::chrono::seconds(5));
    // The last chunk, without trailers.
    static constexpr std::string_view last_chunk = "0\r\n\r\n";
    const std::array<asio::const_buffer, 2> bufs{asio::buffer(held_), asio::buffer(last_chunk)};
    co_await asio::async_write(stream_, bufs, asio::as_tuple(asio::use_awaitable));
    held_.clear();
}

} // namespace posfeed::http
