// Fuzzes the C++ client's event-stream parser (clients/cpp, posfeed::client::sse_parser) with
// untrusted server bytes. The first input byte picks how the rest is split into feeds; the
// events and retry values must be the same as when the rest is fed whole and one byte at a time
// (the parser must not depend on where reads end), and every dispatched string must be valid
// UTF-8 (invalid input bytes become U+FFFD).

#include "sse_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using posfeed::client::sse_event;
using posfeed::client::sse_parser;

struct outcome {
    std::vector<std::string> items; // "E<type>\0<data>\0<id>\0<has_id>" or "R<ms>"
    bool operator==(const outcome&) const = default;
};

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80           ? 1
                        : (c >> 5) == 0x6  ? 2
                        : (c >> 4) == 0xE  ? 3
                        : (c >> 3) == 0x1E ? 4
                                           : 0;
        if (n == 0 || i + n > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += n;
    }
    return true;
}

template <class Split> outcome run(std::string_view input, Split&& split) {
    outcome out;
    sse_parser parser(
        [&out](const sse_event& e) {
            if (!valid_utf8(e.type) || !valid_utf8(e.data) || !valid_utf8(e.last_event_id)) {
                std::abort();
            }
            std::string item = "E";
            item.append(e.type).push_back('\0');
            item.append(e.data).push_back('\0');
            item.append(e.last_event_id).push_back('\0');
            item.push_back(e.has_id ? '1' : '0');
            out.items.push_back(std::move(item));
        },
        [&out](std::uint64_t ms) { out.items.push_back("R" + std::to_string(ms)); });
    split(parser, input);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const unsigned step = 1 + data[0] % 7;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto whole = run(input, [](sse_parser& p, std::string_view in) { p.feed(in); });
    const auto bytes = run(input, [](sse_parser& p, std::string_view in) {
        for (char c : in) {
            p.feed(std::string_view(&c, 1));
        }
    });
    const auto chunks = run(input, [step](sse_parser& p, std::string_view in) {
        for (std::size_t i = 0; i < in.size(); i += step) {
            p.feed(in.substr(i, step));
        }
    });
    if (!(whole == bytes) || !(whole == chunks)) {
        std::abort();
    }
    return 0;
}
