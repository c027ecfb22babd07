#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>

namespace posfeed::http {

/// The end of an HTTP/1.1 chunk's size line and of its data.
inline constexpr std::string_view crlf = "\r\n";

/// The size line of an HTTP/1.1 chunk (`<hex size>\r\n`), formatted in place: a stream keeps
/// one and writes no allocation per chunk.
class chunk_head {
  public:
    /// Formats `size` and returns the line; valid until the next call.
    boost::asio::const_buffer format(std::size_t size) {
        auto* end = std::to_chars(text_.data(), text_.data() + 16, size, 16).ptr;
        std::memcpy(end, crlf.data(), crlf.size());
        return boost::asio::buffer(text_.data(), static_cast<std::size_t>(end - text_.data()) + 2);
    }

  private:
    std::array<char, 18> text_{};
};

/// Writes SSE bytes as HTTP/1.1 chunks, one chunk per call, from a coroutine (the replay, the
/// snapshot and the conflated catch-up; the live phase writes on its own, see live_stream).
/// Every write has a deadline of `timeout`: a client that stops reading cannot hold the stream
/// forever. Does not own the stream.
class chunk_writer {
  public:
    using clock = std::chrono::steady_clock;

    chunk_writer(boost::beast::tcp_stream& s, std::chrono::milliseconds timeout)
        : stream_(s), timeout_(timeout) {}

    /// Keeps `raw` bytes (the response head) to go out in front of the next write, in the
    /// same send: opening a stream costs one write to the socket, not one per part.
    void hold(std::string_view raw) { held_.append(raw); }
    /// Keeps `text` as a whole chunk to go out with the next write (nothing for empty text).
    void hold_chunk(std::string_view text);
    /// Writes what is held, if anything; false when that write failed (see error()).
    boost::asio::awaitable<bool> flush();

    /// Writes `text` as one chunk (nothing for empty text), after what is held; false when
    /// the write failed or timed out (see error()).
    boost::asio::awaitable<bool> write(std::string_view text);

    /// Writes the last chunk (the server ends the stream), after what is held, within 5 s.
    boost::asio::awaitable<void> finish();

    /// When the last write completed (or the writer was made).
    clock::time_point last_write() const { return last_write_; }

    /// Why the last write failed (default: none; beast::error::timeout when it timed out).
    boost::system::error_code error() const { return error_; }

  private:
    /// Writes `buffers` (what is held first) within the timeout; then nothing is held.
    template <class Buffers> boost::asio::awaitable<bool> send(const Buffers& buffers);

    boost::beast::tcp_stream& stream_;
    std::chrono::milliseconds timeout_;
    boost::system::error_code error_;
    std::string held_; ///< bytes that go out in front of the next write
    clock::time_point last_write_ = clock::now();
};

} // namespace posfeed::http
