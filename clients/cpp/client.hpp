#pragma once

#include "duplicate_filter.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace posfeed::client {

/// What to subscribe to and how.
struct client_options {
    /// The event source: `http://host[:port]/eventsource[_<RmSystem>][?query]`, or `https://…`
    /// (certificates verified against the system's trust store, or `tls_ca_file`). Parameters
    /// already in the URL (e.g. `rve=0` for the very first connection) are kept.
    std::string url;
    /// Query parameters appended to the URL (percent-encoded here), e.g. {"want", "products"}.
    std::vector<std::pair<std::string, std::string>> query;
    /// Sent as `X-Api-Key` when not empty.
    std::string api_key;
    /// Sent as `token=` when not empty (a UrlToken).
    std::string token;
    /// Sent as `format=` when not empty: `json` or `xml`.
    std::string format;
    /// Where to start: `last_id` is sent as `Last-Event-ID`, `partial` suppresses the part of a
    /// group already delivered (e.g. both read from a state file).
    resume_state resume;
    /// A connection with no bytes at all for this long is dead (the server sends a keepalive
    /// comment every 15 s); also the limit for connecting and for the response head.
    std::chrono::milliseconds idle_timeout{45'000};
    /// The first reconnection delay until the server sends `retry:`.
    std::chrono::milliseconds initial_backoff{1'000};
    /// The longest reconnection delay (`Retry-After` excepted).
    std::chrono::milliseconds max_backoff{30'000};
    /// The bound on one line plus one event's data; a stream past it is dropped and resumed.
    std::size_t max_event_bytes = 64U << 20U;
    /// A PEM file of trusted CA certificates for https; empty: the system's default paths.
    std::string tls_ca_file;
};

/// One event handed to the application. The views are valid only during the handler.
struct feed_event {
    /// `products`, `levels`, …, or `ready`, `reset`, `debug`.
    std::string_view type;
    /// The packet (one line of JSON or XML).
    std::string_view data;
    /// This event's own `id:` (the RVE closing its group), empty when it carried none.
    std::string_view id;
};

/// Why and when the client reconnects (for logging; never contains credentials).
struct reconnect_notice {
    /// 1 for the first reconnection after a working stream, counting up while attempts fail.
    unsigned attempt = 0;
    std::chrono::milliseconds delay{0};
    /// E.g. `connection refused`, `status 503`, `no bytes for 45 s`, `the stream ended`.
    std::string reason;
};

/// An answer the client does not retry (400, 401, 403, 404, other 4xx, a 200 that is not an
/// event stream, a malformed URL).
struct fatal_error {
    /// The HTTP status; 0 when the request never got one (e.g. a bad URL).
    unsigned status = 0;
    /// `error.code` of the JSON error body, empty when the body had none.
    std::string code;
    /// `error.message` of the JSON error body, or a description of what went wrong.
    std::string message;
};

/// How `feed_client::run` ended.
struct run_result {
    /// False: `stop()` was called. True: a fatal error, described by `error`.
    bool failed = false;
    fatal_error error;
};

/// What the client calls, all on the client's executor, never concurrently.
struct client_handlers {
    /// Every event that is not a duplicate, in stream order.
    std::function<void(const feed_event&)> on_event;
    /// After an event (delivered or dropped) changed the resume state; called after `on_event`
    /// for that event. Persist it here to resume exactly across restarts.
    std::function<void(const resume_state&)> on_state;
    /// Before each wait to reconnect.
    std::function<void(const reconnect_notice&)> on_reconnect;
};

/// A subscriber of a posfeed event source (SPEC 3, 9): connects with Boost.Beast, parses the
/// stream (`sse_parser`), drops duplicates by RVE (`duplicate_filter`) and reconnects with
/// `Last-Event-ID` after dropped connections, network errors, idle connections, 408, 429 and
/// 5xx, with exponential backoff and jitter (from the server's `retry:`, else
/// `initial_backoff`, doubling up to `max_backoff`; back to the start after a stream that
/// delivered an event), waiting `Retry-After` seconds instead when a 429 or 503 carries it.
/// Other statuses end `run` with a `fatal_error`.
///
/// Lives on one executor: construct it, `co_spawn` `run()`, and call `stop()` from that
/// executor only (e.g. from a handler, a timer or a signal_set on the same io_context).
class feed_client {
  public:
    feed_client(boost::asio::any_io_executor executor, client_options options,
                client_handlers handlers);
    ~feed_client();
    feed_client(const feed_client&) = delete;
    feed_client& operator=(const feed_client&) = delete;

    /// Runs until `stop()` or a fatal error. Call once.
    boost::asio::awaitable<run_result> run();

    /// Ends `run` soon: no handler is called for anything after the current event, the
    /// connection is closed and a pending reconnection wait is cancelled. Idempotent.
    void stop();

    /// The current resume state (also passed to `on_state`).
    [[nodiscard]] const resume_state& state() const;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// `url` with the values of its `token` and `session` query parameters replaced by
/// `redacted`, for logs and messages.
[[nodiscard]] std::string redact_url(std::string_view url);

/// The next reconnection delay before jitter: `base` doubled `attempt` times (attempt 0 is
/// `base`), at most `cap`.
[[nodiscard]] std::chrono::milliseconds
backoff_delay(std::chrono::milliseconds base, unsigned attempt, std::chrono::milliseconds cap);

} // namespace posfeed::client
