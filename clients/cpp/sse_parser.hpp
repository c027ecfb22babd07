#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace posfeed::client {

/// One dispatched event. The views point into the parser's buffers: they are valid only until
/// the handler returns.
struct sse_event {
    /// The event type; `message` when the block named none (or named the empty string).
    std::string_view type;
    /// The block's `data` values joined by LF (the final LF removed). Valid UTF-8.
    std::string_view data;
    /// The stream's last-event-id buffer after this block (it persists across events).
    std::string_view last_event_id;
    /// Whether this event's own block had an accepted `id:` field (one without NUL), as opposed
    /// to inheriting `last_event_id` from an earlier block.
    bool has_id = false;
};

/// An incremental parser of a `text/event-stream` body that follows the WHATWG HTML "Event
/// stream interpretation" rules exactly: UTF-8 decoding with U+FFFD for invalid bytes (also
/// when a sequence is split across feeds), one leading BOM stripped at stream start, CR, LF and
/// CRLF line ends (a CRLF split across feeds is one line end), comments, `event`, `data`, `id`
/// (ignored when it contains NUL), `retry` (ASCII digits only), dispatch on a blank line only,
/// no event for empty data, and an incomplete event at the end of the stream discarded (simply
/// never dispatched).
///
/// Feeding is safe at any split, down to one byte at a time; buffers are reused across events,
/// so a steady stream allocates nothing once they have grown. Not thread-safe: one stream, one
/// thread at a time. Handlers must not call `feed` or `reset` on the same parser.
class sse_parser {
  public:
    /// Called for every dispatched event.
    using event_handler = std::function<void(const sse_event&)>;
    /// Called for every accepted `retry:` field with its value in milliseconds (saturated at
    /// UINT64_MAX).
    using retry_handler = std::function<void(std::uint64_t)>;

    /// `max_buffered`: a bound on the bytes held for one line plus one event's data (0 = none);
    /// past it the parser fails (see `failed`) and ignores the rest of the stream.
    explicit sse_parser(event_handler on_event, retry_handler on_retry = {},
                        std::size_t max_buffered = 0);

    /// Parses the next bytes of the stream, calling the handlers for what they complete.
    void feed(std::string_view bytes);

    /// Starts a new stream: forgets every partial line, event and UTF-8 sequence, the
    /// last-event-id buffer, and expects a BOM again. Keeps the buffers' capacity.
    void reset();

    /// The last-event-id buffer (what a browser would send as Last-Event-ID).
    [[nodiscard]] std::string_view last_event_id() const { return last_event_id_; }

    /// True once a line or an event passed `max_buffered`; the stream should be dropped.
    [[nodiscard]] bool failed() const { return failed_; }

  private:
    void decode(unsigned char byte);
    void code_point(char32_t cp, const char* bytes, std::size_t size);
    void end_line();
    void field(std::string_view name, std::string_view value);
    void dispatch();

    event_handler on_event_;
    retry_handler on_retry_;
    std::size_t max_buffered_;

    // UTF-8 decoder (WHATWG Encoding "UTF-8 decoder").
    char32_t utf8_cp_ = 0;
    int utf8_needed_ = 0;
    int utf8_seen_ = 0;
    unsigned char utf8_lower_ = 0x80;
    unsigned char utf8_upper_ = 0xBF;
    char utf8_bytes_[4] = {};
    bool at_start_ = true;

    bool after_cr_ = false;
    bool failed_ = false;
    std::string line_;
    std::string data_;
    std::string type_;
    std::string last_event_id_;
    bool block_has_id_ = false;
};

} // namespace posfeed::client
