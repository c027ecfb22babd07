#include "groups.hpp"

#include <fstream>
#include <stdexcept>

namespace posfeed_bench {

std::string with_group(std::string_view text, std::uint32_t group) {
    constexpr std::string_view marker = "{group}";
    const std::string number = std::to_string(group);
    std::string out;
    out.reserve(text.size());
    for (std::size_t at = 0;;) {
        const std::size_t next = text.find(marker, at);
        out.append(text.substr(at, next - at));
        if (next == std::string_view::npos) {
            return out;
        }
        out += number;
        at = next + marker.size();
    }
}

std::vector<std::string> read_group_headers(const std::string& path, std::uint32_t groups) {
    std::vector<std::string> lines;
    if (path.empty()) {
        return lines;
    }
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("--group-headers: cannot read " + path);
    }
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.find(':') == std::string::npos) {
            throw std::runtime_error("--group-headers: line " + std::to_string(lines.size() + 1) +
                                     " of " + path + " is not 'Name: value'");
        }
        lines.push_back(std::move(line));
    }
    if (lines.size() < groups) {
        throw std::runtime_error("--group-headers: " + path + " has " +
                                 std::to_string(lines.size()) + " lines, --groups needs " +
                                 std::to_string(groups));
    }
    return lines;
}

} // namespace posfeed_bench
