#pragma once

#include "http_url.hpp"
#include "options.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace posfeed_bench {

namespace asio = boost::asio;

/// The publish request of a run: method, URL, headers and a body template in which `{seq}` is
/// the sequence number and `{pad}` a filler of `pad` characters.
struct publish_template {
    http_url url;
    std::string method = "POST";
    std::vector<std::string> headers;
    std::string content_type = "application/json";
    std::string body = "bench-{seq}- {pad}";
    int pad = 0;
    std::uint32_t groups = 1;               ///< seq goes to group group_of(seq, groups)
    std::vector<std::string> group_headers; ///< empty, or the header of each group

    /// The request (head and body) that publishes `seq`; with groups, to its group: `{group}`
    /// in the target and body replaced, the group's header added.
    [[nodiscard]] std::string request(std::int64_t seq) const;
    /// The body alone, for `seq` (`{group}` left as it is).
    [[nodiscard]] std::string body_for(std::int64_t seq) const;

    /// The publish flags of `o` (--publish-method, --header, --content-type, --publish-body,
    /// --pad), one template per URL of `--publish-url`; publish connection (or writer) j of a
    /// run uses entry j % size. Throws std::runtime_error for a bad URL.
    static std::vector<publish_template> from(const bench_options& o);
};

/// The answer to one publish: the HTTP status (0 when there was none) and, when it failed,
/// what went wrong.
struct publish_result {
    int status = 0;
    std::string error;
    [[nodiscard]] bool ok() const { return status >= 200 && status < 300; }
};

/// One keep-alive HTTP/1.1 connection sending requests one at a time; it connects on first use
/// and reconnects after the server closes it. Lives on one io_context.
class publisher {
  public:
    publisher(asio::io_context& ctx, const publish_template& tmpl);

    /// Sends `seq` and reads the whole answer.
    asio::awaitable<publish_result> send(std::int64_t seq);

  private:
    asio::awaitable<publish_result> exchange(const std::string& request);
    void reset();

    asio::ip::tcp::socket socket_;
    const publish_template& template_;
    bool connected_ = false;
    std::string in_;
};

} // namespace posfeed_bench
