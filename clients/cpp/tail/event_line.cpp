#include "event_line.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace posfeed::client::tail {

namespace {

bool is_json(std::string_view text) {
    boost::system::error_code ec;
    // Only validity matters: the value itself is thrown away (numbers through a double would
    // lose RVE digits, so the text is printed, never the value).
    static_cast<void>(boost::json::parse(text, ec));
    return !ec;
}

} // namespace

std::string event_line(std::string_view type, std::string_view id, std::string_view data,
                       bool data_as_json) {
    std::string line = "{\"event\":";
    line += boost::json::serialize(boost::json::string_view(type.data(), type.size()));
    line += ",\"id\":";
    line += boost::json::serialize(boost::json::string_view(id.data(), id.size()));
    line += ",\"data\":";
    if (data_as_json && is_json(data)) {
        const auto at = line.size();
        line += data;
        std::replace_if(
            line.begin() + static_cast<std::ptrdiff_t>(at), line.end(),
            [](char c) { return c == '\n' || c == '\r'; }, ' ');
    } else {
        line += boost::json::serialize(boost::json::string_view(data.data(), data.size()));
    }
    line += '}';
    return line;
}

} // namespace posfeed::client::tail
