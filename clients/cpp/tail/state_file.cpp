#include "state_file.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace posfeed::client::tail {

namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

bool is_rve(std::string_view s) {
    const auto dot = s.find('.');
    if (dot == std::string_view::npos) {
        return all_digits(s);
    }
    return all_digits(s.substr(0, dot)) && all_digits(s.substr(dot + 1));
}

std::string os_error(std::string_view what, const std::filesystem::path& p) {
    return std::string(what) + " " + p.string() + ": " + std::strerror(errno);
}

/// Closes a file descriptor when it goes out of scope.
class fd_guard {
  public:
    explicit fd_guard(int fd) : fd_(fd) {}
    ~fd_guard() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    [[nodiscard]] int get() const { return fd_; }
    /// Closes now, reporting the error (a failed close can mean lost data).
    [[nodiscard]] bool close() {
        const int fd = fd_;
        fd_ = -1;
        return ::close(fd) == 0;
    }

  private:
    int fd_;
};

} // namespace

std::string format_state(const resume_state& state) {
    std::string text = state.last_id;
    text += '\n';
    if (state.partial) {
        text += "partial ";
        text += state.partial->rve;
        text += ' ';
        text += std::to_string(state.partial->delivered);
        text += '\n';
    }
    return text;
}

state_read parse_state(std::string_view text) {
    state_read r;
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        lines.push_back(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    }
    if (lines.size() > 2) {
        r.error = "expected at most 2 lines, found " + std::to_string(lines.size());
        return r;
    }
    resume_state state;
    if (!lines.empty()) {
        if (!lines[0].empty() && !is_rve(lines[0])) {
            r.error = "line 1 '" + std::string(lines[0].substr(0, 40)) +
                      "' is not an RVE (e.g. 20210727.091105994, or 0)";
            return r;
        }
        state.last_id = lines[0];
    }
    if (lines.size() == 2) {
        std::string_view rest = lines[1];
        constexpr std::string_view prefix = "partial ";
        const auto space = rest.rfind(' ');
        bool ok =
            rest.starts_with(prefix) && space != std::string_view::npos && space >= prefix.size();
        partial_group partial;
        if (ok) {
            const std::string_view rve = rest.substr(prefix.size(), space - prefix.size());
            const std::string_view count = rest.substr(space + 1);
            const auto [end, ec] =
                std::from_chars(count.data(), count.data() + count.size(), partial.delivered);
            ok = is_rve(rve) && all_digits(count) && ec == std::errc() &&
                 end == count.data() + count.size() && partial.delivered > 0;
            partial.rve = rve;
        }
        if (!ok) {
            r.error = "line 2 '" + std::string(rest.substr(0, 60)) +
                      "' is not 'partial <rve> <delivered>'";
            return r;
        }
        state.partial = std::move(partial);
    }
    r.ok = true;
    r.state = std::move(state);
    return r;
}

state_read read_state_file(const std::filesystem::path& file) {
    fd_guard fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            return state_read{true, std::nullopt, {}};
        }
        return state_read{false, std::nullopt, os_error("cannot open", file)};
    }
    std::string text;
    std::array<char, 4096> buf{};
    while (true) {
        const auto n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return state_read{false, std::nullopt, os_error("cannot read", file)};
        }
        if (n == 0) {
            break;
        }
        text.append(buf.data(), static_cast<std::size_t>(n));
        if (text.size() > 4096) {
            return state_read{false, std::nullopt, file.string() + ": too long for a state file"};
        }
    }
    state_read r = parse_state(text);
    if (!r.ok) {
        r.error = file.string() + ": " + r.error;
    }
    return r;
}

std::string write_state_file(const std::filesystem::path& file, const resume_state& state) {
    const std::string text = format_state(state);
    std::filesystem::path tmp = file;
    tmp += ".tmp";
    {
        fd_guard fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (fd.get() < 0) {
            return os_error("cannot create", tmp);
        }
        std::size_t written = 0;
        while (written < text.size()) {
            const auto n = ::write(fd.get(), text.data() + written, text.size() - written);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return os_error("cannot write", tmp);
            }
            written += static_cast<std::size_t>(n);
        }
        if (::fsync(fd.get()) != 0) {
            return os_error("cannot fsync", tmp);
        }
        if (!fd.close()) {
            return os_error("cannot close", tmp);
        }
    }
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        return os_error("cannot rename " + tmp.string() + " to", file);
    }
    std::filesystem::path dir = file.parent_path();
    if (dir.empty()) {
        dir = ".";
    }
    fd_guard dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() < 0) {
        return os_error("cannot open directory", dir);
    }
    if (::fsync(dfd.get()) != 0) {
        return os_error("cannot fsync directory", dir);
    }
    return {};
}

} // namespace posfeed::client::tail
