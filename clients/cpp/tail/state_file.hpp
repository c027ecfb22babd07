#pragma once

#include "../duplicate_filter.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace posfeed::client::tail {

/// The text of a state file: line 1 is the last complete RVE (the Last-Event-ID to resume from;
/// empty before the first complete group), and while inside a group a second line
/// `partial <rve> <delivered>`.
[[nodiscard]] std::string format_state(const resume_state& state);

/// The result of reading or parsing a state file.
struct state_read {
    /// False: `error` says what is wrong (naming the line); `state` is then unset.
    bool ok = false;
    /// Unset when the file does not exist (a first run).
    std::optional<resume_state> state;
    std::string error;
};

/// Parses the text `format_state` writes. RVEs must be `0` or digits, a dot and digits.
[[nodiscard]] state_read parse_state(std::string_view text);

/// Reads and parses `file`; a missing file is ok with no state.
[[nodiscard]] state_read read_state_file(const std::filesystem::path& file);

/// Replaces `file` atomically with `format_state(state)`: writes `file`.tmp in the same
/// directory, fsyncs it, renames it over `file` and fsyncs the directory, so that after a crash
/// the file holds either the old or the new state, never a mix. Returns an empty string on
/// success, else what failed (with the OS error).
[[nodiscard]] std::string write_state_file(const std::filesystem::path& file,
                                           const resume_state& state);

} // namespace posfeed::client::tail
