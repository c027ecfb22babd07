#include "feed/debug_packets.hpp"

#include "feed/sse.hpp"

#include <array>
#include <string_view>

namespace posfeed::feed {

std::string debug_event(std::uint64_t n, packet_format fmt, core::rve now) {
    const auto i = std::to_string(9000 + n % 1000);
    std::string record;
    core::event_type type = core::event_type::products;
    switch (n % 4) {
    case 0:
        record =
            "{\"Pid\":" + i + ",\"Physkey\":\"DEBUG" + i +
            "XXXXXXXXX\",\"Description\":\"Debug product " + i +
            "\",\"Price\":12.5,\"Colour\":\"Red\",\"Barcode\":\"\",\"Publish\":1,\"Deleted\":0}";
        break;
    case 1:
        type = core::event_type::customers;
        record = "{\"Cid\":" + i + ",\"Name\":\"Debug customer " + i +
                 "\",\"Email\":\"debug@example.com\",\"Phone\":\"\",\"Deleted\":0}";
        break;
    case 2:
        type = core::event_type::levels;
        record = "{\"Pid\":" + i + ",\"Location\":1,\"Qty\":" + std::to_string(n % 50) +
                 ",\"Reason\":\"debug\"}";
        break;
    default:
        type = core::event_type::sales;
        record = "{\"Sid\":" + i + ",\"Location\":1,\"Completed\":\"" + core::iso_time(now) +
                 "\",\"Total\":25,\"Cid\":0,\"Lines\":[{\"Pid\":" + i +
                 ",\"Qty\":2,\"Price\":12.5}]}";
        break;
    }
    const std::array<std::string_view, 1> records{record};
    std::string data;
    append_packet(data, fmt, type, records, now);
    return format_event("debug", data);
}

} // namespace posfeed::feed
