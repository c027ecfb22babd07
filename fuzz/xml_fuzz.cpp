// Fuzzes the JSON-to-XML conversion of packets (feed::append_xml_members, append_packet,
// append_control_packet) on arbitrary JSON-ish text, and pos::classify_barcode on arbitrary
// scans. The XML must stay on one line (CR and LF are escaped), and a barcode classification
// must be one of the SPEC 4 types.

#include "core/event_type.hpp"
#include "core/rve.hpp"
#include "feed/packet.hpp"
#include "pos/barcode.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void require_one_line(std::string_view s) {
    require(s.find('\n') == std::string_view::npos && s.find('\r') == std::string_view::npos);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace posfeed;
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    // The scan classifier on the raw bytes.
    const pos::barcode_type bt = pos::classify_barcode(in);
    require(static_cast<int>(bt) >= 0 && static_cast<int>(bt) <= 9);
    require(!pos::to_string(bt).empty());
    (void)pos::gs1_check_digit_ok(in);

    // Members of one object.
    std::string out;
    feed::append_xml_members(out, in);

    // Whole packets: the record text may contain raw CR/LF only inside what the converter
    // copies as a literal, so the one-line check applies to well-formed JSON only; here we
    // only require no crash and no out-of-bounds read.
    const core::event_type type =
        static_cast<core::event_type>(size == 0 ? 0 : data[0] % core::event_type_count);
    const std::array<std::string_view, 2> records = {in, in};
    std::string packet;
    feed::append_packet(packet, feed::packet_format::xml, type, records, core::rve{1627376665994});
    // The JSON format splices the RVE into the record text (core::append_with_rve), which
    // requires a non-empty record (it drops the final `}`): records are always objects we
    // serialised ourselves, never client text.
    if (!in.empty()) {
        std::string json_packet;
        feed::append_packet(json_packet, feed::packet_format::json, type, records, core::rve{0});
    }
    const std::array<feed::versioned_record, 1> versioned = {
        feed::versioned_record{in, core::rve{1}}};
    std::string vpacket;
    feed::append_packet(vpacket, feed::packet_format::xml, type, versioned);
    std::string control;
    feed::append_control_packet(control, feed::packet_format::xml, "Ready", "Item", in);

    // Escaped text is always one line.
    std::string text;
    feed::append_xml_text(text, in);
    require_one_line(text);
    return 0;
}
