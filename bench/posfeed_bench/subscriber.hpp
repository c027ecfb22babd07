#pragma once

#include "http_url.hpp"
#include "options.hpp"
#include "stream_parser.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace posfeed_bench {

namespace asio = boost::asio;

/// What every stream of a run asks for.
struct stream_request {
    http_url url;
    std::string text;     ///< the whole GET request, written once
    bool live_on_headers; ///< live at the 200 head (Nchan) instead of at `event: ready`

    /// Builds the request for `url` with extra `headers` ("Name: value").
    static stream_request make(const http_url& url, const std::vector<std::string>& headers,
                               bool live_on_headers);

    /// One request per URL of `--stream-url` in `o`, with its --header and --live-on; stream i
    /// of a run uses entry i % size. With --groups G, G per URL (`{group}` replaced, the
    /// group's --group-headers line added), so that stream i is in group i % G. Throws
    /// std::runtime_error for a bad URL or group header file.
    static std::vector<stream_request> from(const bench_options& o);
};

/// Receives what the streams of one thread read. Called on that thread only.
class stream_sink {
  public:
    virtual ~stream_sink() = default;
    /// An event whose data holds `bench-<seq>-`, read by subscriber `index`.
    virtual void on_event(std::uint32_t index, std::int64_t seq, std::size_t data_bytes) = 0;
    /// Subscriber `index` lost its stream after it was live (`reason` says how).
    virtual void on_end(std::uint32_t index, const std::string& reason) = 0;
};

/// One event stream over a raw TCP socket: writes the request once, parses the response head,
/// decodes the chunked body and parses the SSE lines, handing bench events to its sink. Reads
/// go through a buffer shared by all streams of the thread, so an idle stream costs only its
/// socket and parser state. Lives on one io_context; the sink must outlive it.
class subscriber {
  public:
    subscriber(asio::io_context& ctx, const stream_request& request, std::uint32_t index,
               std::uint32_t source_address, stream_sink& sink);

    /// Binds to the source address, connects, sends the request and reads until the stream is
    /// live. Returns an empty string when it is, else what went wrong. Events read before the
    /// stream is live (a replay) already go to the sink.
    asio::awaitable<std::string> open();

    /// Reads the live stream until it ends, then tells the sink why (unless close() ended it).
    asio::awaitable<void> follow();

    /// Closes the socket; follow() ends quietly.
    void close();

  private:
    /// Feeds received bytes through the decoders; returns an error text when the stream is
    /// over or broken, else empty.
    std::string consume(std::string_view data);
    std::string consume_body(std::string_view data);
    asio::awaitable<std::string> read_once();

    asio::ip::tcp::socket socket_;
    const stream_request& request_;
    std::uint32_t index_;
    std::uint32_t source_address_;
    stream_sink& sink_;
    std::string head_; ///< the response head while it is incomplete
    bool head_done_ = false;
    bool chunked_ = false;
    bool live_ = false;
    bool closed_ = false;
    chunked_decoder chunks_;
    sse_parser sse_;
};

} // namespace posfeed_bench
