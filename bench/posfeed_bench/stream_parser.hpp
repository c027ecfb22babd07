#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace posfeed_bench {

/// The parts of an HTTP/1.1 response head the tool needs.
struct response_head {
    int status = 0;
    bool chunked = false;
    bool close = false;               ///< `Connection: close`
    std::int64_t content_length = -1; ///< -1 when absent
};

/// Parses a complete head (`text` ends with the blank line); false when it is malformed.
[[nodiscard]] bool parse_response_head(std::string_view text, response_head& head);

/// Incremental decoder of a chunked body. Feed it raw bytes; it hands the payload to a sink.
class chunked_decoder {
  public:
    /// Decodes `data`, calling `sink(std::string_view)` with payload pieces. Returns the number
    /// of bytes consumed: all of them, or fewer when the body ended (done()) inside `data`.
    /// Sets failed() on a malformed size line.
    template <class Sink> std::size_t feed(std::string_view data, Sink&& sink);
    bool done() const { return state_ == state::done; }
    bool failed() const { return state_ == state::failed; }

  private:
    enum class state { size, extension, data, data_end, trailer, done, failed };
    state state_ = state::size;
    std::uint64_t remaining_ = 0;
    bool size_digits_ = false;
    bool trailer_line_empty_ = true;
};

/// Incremental `text/event-stream` parser for the bench: keeps only what the bench needs of an
/// event (whether it is `ready`, the sequence number of the first `bench-<seq>-` token in its
/// data, and the size of its data). Lines may end in LF or CRLF; comments are skipped.
class sse_parser {
  public:
    /// One dispatched event.
    struct event {
        bool ready;             ///< `event: ready`
        std::int64_t seq;       ///< -1 when the data holds no `bench-<seq>-` token
        std::size_t data_bytes; ///< bytes of data (lines joined by LF)
    };

    /// Parses `data`, calling `on_event(const event&)` for each complete event.
    template <class OnEvent> void feed(std::string_view data, OnEvent&& on_event);

  private:
    template <class OnEvent> void line(std::string_view text, OnEvent& on_event);
    std::string partial_; ///< an incomplete line carried over to the next feed
    bool ready_ = false;
    bool has_data_ = false;
    std::int64_t seq_ = -1;
    std::size_t data_bytes_ = 0;
};

/// Finds the first `bench-<digits>-` in `text`; -1 when there is none.
[[nodiscard]] std::int64_t find_bench_seq(std::string_view text);

// ---- template definitions

template <class Sink> std::size_t chunked_decoder::feed(std::string_view data, Sink&& sink) {
    std::size_t i = 0;
    while (i < data.size()) {
        const char c = data[i];
        switch (state_) {
        case state::size:
            if (c >= '0' && c <= '9') {
                remaining_ = remaining_ * 16 + static_cast<unsigned>(c - '0');
                size_digits_ = true;
            } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
                remaining_ = remaining_ * 16 + static_cast<unsigned>((c | 0x20) - 'a' + 10);
                size_digits_ = true;
            } else if (c == ';' || c == ' ' || c == '\t') {
                state_ = state::extension;
            } else if (c == '\r') {
            } else if (c == '\n') {
                if (!size_digits_) {
                    state_ = state::failed;
                    return i;
                }
                state_ = remaining_ == 0 ? state::trailer : state::data;
                trailer_line_empty_ = true;
            } else {
                state_ = state::failed;
                return i;
            }
            ++i;
            break;
        case state::extension:
            if (c == '\n') {
                state_ = remaining_ == 0 ? state::trailer : state::data;
                trailer_line_empty_ = true;
            }
            ++i;
            break;
        case state::data: {
            const std::size_t n =
                static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - i));
            sink(data.substr(i, n));
            i += n;
            remaining_ -= n;
            if (remaining_ == 0) {
                state_ = state::data_end;
            }
            break;
        }
        case state::data_end:
            if (c == '\n') {
                state_ = state::size;
                size_digits_ = false;
            }
            ++i;
            break;
        case state::trailer:
            ++i;
            if (c == '\n') {
                if (trailer_line_empty_) {
                    state_ = state::done;
                    return i;
                }
                trailer_line_empty_ = true;
            } else if (c != '\r') {
                trailer_line_empty_ = false;
            }
            break;
        case state::done:
        case state::failed:
            return i;
        }
    }
    return i;
}

template <class OnEvent> void sse_parser::feed(std::string_view data, OnEvent&& on_event) {
    while (!data.empty()) {
        const auto lf = data.find('\n');
        if (lf == std::string_view::npos) {
            partial_.append(data);
            return;
        }
        if (partial_.empty()) {
            line(data.substr(0, lf), on_event);
        } else {
            partial_.append(data.substr(0, lf));
            std::string whole;
            whole.swap(partial_);
            line(whole, on_event);
        }
        data.remove_prefix(lf + 1);
    }
}

template <class OnEvent> void sse_parser::line(std::string_view text, OnEvent& on_event) {
    if (!text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
    }
    if (text.empty()) {
        if (ready_ || has_data_) {
            on_event(event{.ready = ready_, .seq = seq_, .data_bytes = data_bytes_});
        }
        ready_ = false;
        has_data_ = false;
        seq_ = -1;
        data_bytes_ = 0;
        return;
    }
    if (text.front() == ':') {
        return;
    }
    const auto colon = text.find(':');
    const std::string_view field = text.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
        value = text.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
    }
    if (field == "data") {
        data_bytes_ += value.size() + (has_data_ ? 1 : 0);
        has_data_ = true;
        if (seq_ < 0) {
            seq_ = find_bench_seq(value);
        }
    } else if (field == "event") {
        ready_ = value == "ready";
    }
}

} // namespace posfeed_bench
