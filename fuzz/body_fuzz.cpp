// Fuzzes the JSON request body parsers of src/pos. The first byte picks the parser, the rest
// is the body. A successful parse must give values the writers can use as they are: finite
// numbers, and validated objects that serialise to JSON which parses again.

#include "pos/barcode.hpp"
#include "pos/customers.hpp"
#include "pos/levels.hpp"
#include "pos/products.hpp"
#include "pos/sales.hpp"
#include "pos/terminal.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void require_finite(double v) {
    require(std::isfinite(v));
}

void require_finite(const std::optional<double>& v) {
    if (v) {
        require_finite(*v);
    }
}

void require_reparses(const boost::json::object& fields) {
    const std::string text = boost::json::serialize(fields);
    boost::system::error_code ec;
    const boost::json::value back = boost::json::parse(text, ec);
    require(!ec && back.is_object() && back.as_object() == fields);
}

template <class T> void require_error_message(const posfeed::core::result<T>& r) {
    if (!r.ok()) {
        require(!r.err().message.empty());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace posfeed;
    if (size == 0) {
        return 0;
    }
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 10) {
    case 0:
    case 1: {
        auto r = pos::parse_product_input(body, data[0] % 10 == 0);
        require_error_message(r);
        if (r.ok()) {
            require_reparses(r->fields);
        }
        break;
    }
    case 2: {
        auto r = pos::parse_customer_input(body, (data[0] & 0x80) != 0);
        require_error_message(r);
        if (r.ok()) {
            require_reparses(r->fields);
        }
        break;
    }
    case 3: {
        auto r = pos::parse_stock_adjustment(body);
        require_error_message(r);
        if (r.ok()) {
            require(r->delta.has_value() != r->set.has_value()); // exactly one
            require_finite(r->delta);
            require_finite(r->set);
            require(!r->set || *r->set >= 0);
        }
        break;
    }
    case 4: {
        auto r = pos::parse_sale_input(body);
        require_error_message(r);
        if (r.ok()) {
            require(!r->lines.empty() && r->lines.size() <= 1000);
            for (const auto& l : r->lines) {
                require_finite(l.qty);
                require(l.qty > 0);
                require_finite(l.price);
            }
        }
        break;
    }
    case 5: {
        auto r = pos::parse_item_input(body);
        require_error_message(r);
        if (r.ok()) {
            require_finite(r->qty);
        }
        break;
    }
    case 6: {
        auto r = pos::parse_payment_input(body);
        require_error_message(r);
        if (r.ok()) {
            require_finite(r->amount);
        }
        break;
    }
    case 7: {
        auto r = pos::parse_message_input(body);
        require_error_message(r);
        break;
    }
    case 8: {
        auto r = pos::parse_prompt_input(body);
        require_error_message(r);
        if (r.ok()) {
            require(r->options.size() <= 20);
        }
        break;
    }
    case 9: {
        std::string session_id;
        auto r = pos::parse_barcode_scan(body, &session_id);
        require_error_message(r);
        if (r.ok()) {
            (void)pos::classify_barcode(r->raw);
        }
        break;
    }
    }
    return 0;
}
