#pragma once

#include "store/store.hpp"

#include <memory>
#include <string>

namespace posfeed::store {

/// Opens the store named by `url`: `sqlite:PATH` (the directory is created) or
/// `postgresql://...`. Applies migrations. Throws store_error when it cannot. The only place
/// that knows the implementations: link `posfeed_store_factory` (the executable, and tests that
/// need a real store), never from a module that only uses the interface.
std::unique_ptr<store> open_store(const std::string& url, store_options options = {});

} // namespace posfeed::store
