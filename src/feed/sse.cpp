#include "feed/sse.hpp"

#include <algorithm>

namespace posfeed::feed {

void append_event_fields(std::string& out, std::string_view type, std::string_view data) {
    if (!type.empty()) {
        out += "event: ";
        out += type;
        out += '\n';
    }
    while (true) {
        // A plain loop: find_first_of with a set calls memchr on the set once per character.
        const auto at =
            std::find_if(data.begin(), data.end(), [](char c) { return c == '\n' || c == '\r'; });
        const auto eol =
            at == data.end() ? std::string_view::npos : static_cast<std::size_t>(at - data.begin());
        out += "data: ";
        out += data.substr(0, eol);
        out += '\n';
        if (eol == std::string_view::npos) {
            break;
        }
        const std::size_t skip =
            (data[eol] == '\r' && eol + 1 < data.size() && data[eol + 1] == '\n') ? 2 : 1;
        data = data.substr(eol + skip);
    }
}

std::string format_event(std::string_view type, std::string_view data, std::string_view id) {
    std::string out;
    if (!id.empty()) {
        out += id_line(id);
    }
    append_event_fields(out, type, data);
    out += '\n';
    return out;
}

std::string id_line(std::string_view id) {
    std::string out = "id: ";
    out += id;
    out += '\n';
    return out;
}

std::string comment(std::string_view text) {
    std::string out = ": ";
    out += text;
    out += "\n\n";
    return out;
}

std::string retry_field(int ms) {
    return "retry: " + std::to_string(ms) + "\n\n";
}

} // namespace posfeed::feed
