#pragma once

#include "core/event_type.hpp"
#include "core/rve.hpp"

#include <span>
#include <string>
#include <string_view>

namespace posfeed::feed {

/// Wire formats of packets (`format=`).
enum class packet_format { json, xml };

/// Appends a packet (SPEC 4): `{"Products":[<record>+RVE, ...]}` for JSON, or
/// `<Products><Product>...<RVE>...</RVE></Product></Products>` for XML, on one line.
/// `records` are JSON object texts without RVE, all of `type`.
void append_packet(std::string& out, packet_format fmt, core::event_type type,
                   std::span<const std::string_view> records, core::rve rve);

/// A record and its own RVE (snapshot and catch-up packets, where each record keeps the RVE
/// of its last change).
struct versioned_record {
    std::string_view body;
    core::rve rve;
};

/// Appends a packet of records that each carry their own RVE.
void append_packet(std::string& out, packet_format fmt, core::event_type type,
                   std::span<const versioned_record> records);

/// Appends a packet whose key is `key` and whose records are given as complete JSON objects
/// (RVE included or not): used for `ready`, `reset` and `debug`.
void append_control_packet(std::string& out, packet_format fmt, std::string_view key,
                           std::string_view item_name, std::string_view record_json);

/// Appends one JSON object text as XML elements (no enclosing element): each member becomes
/// `<Key>value</Key>`; arrays of objects become `<Key><Item>...</Item>...</Key>` where Item is
/// the key without its final `s`. Text is escaped (`&<>"'`, CR and LF as character references
/// so the packet stays on one line); characters XML 1.0 cannot carry become U+FFFD.
void append_xml_members(std::string& out, std::string_view json_object);

/// Appends `text` escaped for XML character data or attribute values, on one line.
void append_xml_text(std::string& out, std::string_view text);

} // namespace posfeed::feed
