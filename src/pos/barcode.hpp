#pragma once

#include "core/error.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace posfeed::pos {

/// Barcode types of SPEC 4.
enum class barcode_type : int {
    unknown = 0,
    ean13 = 1,
    upca = 2,
    ean8 = 3,
    upce = 4,
    gtin14 = 5,
    gs1 = 6,
    code128 = 7,
    url = 8,
    instore = 9,
};

/// `UNKNOWN`, `EAN13`, ... as in SPEC 4.
std::string_view to_string(barcode_type t);

/// Classifies a raw scan. Numeric codes are classified only when their check digit is valid:
/// 13 digits EAN-13 (prefix 20-29: INSTORE, variable weight or price), 12 UPC-A, 8 EAN-8 (or,
/// failing that, UPC-E with number system 0/1, checked through its UPC-A expansion), 14 GTIN-14;
/// a numeric code of those lengths with a wrong check digit is UNKNOWN. GS1 application-
/// identifier data: `(NN)...` text, a `]C1`/`]e0`/`]d2`/`]Q3` symbology prefix or a GS (0x1D)
/// separator. `http://`/`https://`: URL. Other printable ASCII: CODE128. Anything else
/// (empty, control characters, non-ASCII): UNKNOWN.
barcode_type classify_barcode(std::string_view raw);

/// Whether the last digit of `digits` is the GS1 mod-10 check digit of the others.
bool gs1_check_digit_ok(std::string_view digits);

/// A validated POST /openapi/Barcodes body.
struct barcode_scan {
    std::string raw;
    std::optional<std::int64_t> location;
    std::string session_key; ///< the session the scan is aimed at ("" = none)
};

/// Validates `{RawScan, Session?, Location?}`; the Session is resolved by the caller.
core::result<barcode_scan> parse_barcode_scan(std::string_view body, std::string* session_id);

/// Logs a `barcode` event: RawScan, TypeCode, TypeStr, Pid (when a product has that barcode),
/// Location. The Owner is added per subscriber when the event is delivered.
store::write_fn scan_barcode(barcode_scan scan);

} // namespace posfeed::pos
