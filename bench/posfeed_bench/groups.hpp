#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace posfeed_bench {

/// Groups split a fan-out run over many channels (RmSystems, for posfeed): stream i belongs to
/// group `i % groups`; publish `seq` goes to group `group_of(seq, groups)`, a fixed pseudo-random
/// choice (so the publisher and the receipt check agree without sharing state). In URLs and
/// publish bodies `{group}` stands for the group's number; a group may also have a header of its
/// own (its credential), line g of `--group-headers`.
[[nodiscard]] inline std::uint32_t group_of(std::int64_t seq, std::uint32_t groups) {
    if (groups <= 1) {
        return 0;
    }
    // splitmix64: consecutive sequence numbers land on unrelated groups.
    auto z = static_cast<std::uint64_t>(seq) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<std::uint32_t>(z % groups);
}

/// `text` with every `{group}` replaced by `group`.
[[nodiscard]] std::string with_group(std::string_view text, std::uint32_t group);

/// The lines of the --group-headers file `path` ("Name: value" each, line g for group g): at
/// least `groups` of them. An empty path gives an empty list. Throws std::runtime_error when the
/// file cannot be read or is too short.
[[nodiscard]] std::vector<std::string> read_group_headers(const std::string& path,
                                                          std::uint32_t groups);

} // namespace posfeed_bench
