#include "core/event_type.hpp"

#include <array>

namespace posfeed::core {
namespace {

struct type_names {
    std::string_view wire;
    std::string_view key;
    std::string_view item;
};

constexpr std::array<type_names, event_type_count> names = {{
    {"products", "Products", "Product"},
    {"customers", "Customers", "Customer"},
    {"levels", "Levels", "Level"},
    {"sales", "Sales", "Sale"},
    {"debug", "Debug", "Debug"},
    {"sale", "Sale", "Sale"},
    {"usermessage", "UserMessage", "Message"},
    {"userprompt", "UserPrompt", "Prompt"},
    {"barcode", "Barcode", "Scan"},
}};

} // namespace

std::string_view to_string(event_type t) {
    return names[static_cast<int>(t)].wire;
}
std::string_view packet_key(event_type t) {
    return names[static_cast<int>(t)].key;
}
std::string_view xml_item_name(event_type t) {
    return names[static_cast<int>(t)].item;
}

std::optional<event_type> parse_event_type(std::string_view name) {
    for (int i = 0; i < event_type_count; ++i) {
        if (names[i].wire == name) {
            return static_cast<event_type>(i);
        }
    }
    return std::nullopt;
}

std::string_view valid_type_list() {
    return "products, customers, levels, sales, debug, sale, usermessage, userprompt, barcode";
}

} // namespace posfeed::core
