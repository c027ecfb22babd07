#include "feed/resume.hpp"

#include <string>

namespace posfeed::feed {

core::result<std::optional<core::rve>>
pick_resume_point(std::optional<std::string_view> last_event_id,
                  std::optional<std::string_view> rve_param) {
    const auto parse = [](std::string_view text,
                          std::string_view source) -> core::result<std::optional<core::rve>> {
        if (const auto v = core::parse_rve(text)) {
            return std::optional<core::rve>(*v);
        }
        std::string shown(text.substr(0, 40));
        return core::invalid_argument(std::string(source) + " '" + shown +
                                      "' is not a valid resume point; use an RVE such as "
                                      "20210727.091105994 (YYYYMMDD.HHmmSSCCC) or 0");
    };
    if (last_event_id && !last_event_id->empty()) {
        return parse(*last_event_id, "Last-Event-ID");
    }
    if (rve_param) {
        return parse(*rve_param, "rve");
    }
    return std::optional<core::rve>();
}

} // namespace posfeed::feed
