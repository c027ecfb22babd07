#include "feed/sse.hpp"

namespace posfeed::feed {

void append_event_fields(std::string& out, std::string_view type, std::string_view data) {
    if (!type.empty()) {
        out += "event: ";
        out += type;
        out += '\n';
    }
    while (true) {
        const auto eol = data.find_first_of("\r\n");
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
