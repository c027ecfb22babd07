// Fuzzes the resume point parsers: core::parse_rve (`rve=` and `Last-Event-ID`) and
// feed::pick_resume_point. A value parse_rve accepts must be in range and round-trip through
// str(); pick_resume_point must agree with parse_rve on the value that wins.
//
// Input layout: byte 0 selects which of header/parameter are present (bit 0: header, bit 1:
// parameter); the rest is split at the first NUL into the header value and the parameter.

#include "core/rve.hpp"
#include "feed/resume.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace {

void check_rve(std::string_view text) {
    using namespace posfeed::core;
    const std::optional<rve> v = parse_rve(text);
    if (!v) {
        return;
    }
    if (v->ms < 0 || v->ms > max_rve_ms) {
        std::abort();
    }
    const std::string s = v->str();
    const std::optional<rve> back = parse_rve(s);
    if (!back || *back != *v) {
        std::abort();
    }
    std::string appended = "x";
    v->append_to(appended);
    if (std::string_view(appended).substr(1) != s) {
        std::abort();
    }
    (void)iso_time(*v);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace posfeed;
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    check_rve(all);
    if (size == 0) {
        return 0;
    }
    const unsigned sel = data[0];
    const std::string_view rest = all.substr(1);
    const auto nul = rest.find('\0');
    const std::string_view a = rest.substr(0, nul);
    const std::string_view b =
        nul == std::string_view::npos ? std::string_view{} : rest.substr(nul + 1);
    check_rve(a);
    check_rve(b);

    const std::optional<std::string_view> header = (sel & 1) ? std::optional(a) : std::nullopt;
    const std::optional<std::string_view> param = (sel & 2) ? std::optional(b) : std::nullopt;
    auto r = feed::pick_resume_point(header, param);
    // The header wins when present and non-empty; otherwise the parameter.
    std::optional<std::string_view> winner;
    if (header && !header->empty()) {
        winner = header;
    } else if (param) {
        winner = param;
    }
    if (r.ok() && r->has_value()) {
        if (!winner) {
            std::abort();
        }
        const auto direct = core::parse_rve(*winner);
        if (!direct || *direct != **r) {
            std::abort();
        }
    }
    if (!r.ok() && r.err().message.empty()) {
        std::abort();
    }
    return 0;
}
