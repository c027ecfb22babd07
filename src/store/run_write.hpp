#pragma once

// For store implementations: how a write function's outcome becomes its answer, the same in
// every store.

#include "store/store.hpp"

#include <string>

namespace posfeed::store {

/// Thrown by a write_txn when the write's RmSystem does not exist; fails only that write
/// (not_found).
struct unknown_rmsystem {};

/// What became of one write function.
struct write_outcome {
    core::result<std::string> body; ///< its answer
    bool commit = false;            ///< keep what it did (it succeeded, or kept its error)
};

/// Runs `fn` against `tx` and classifies the result: success commits; an error answer rolls
/// back unless the write called keep_on_error(); unknown_rmsystem is not_found; data_error (a
/// damaged stored row) and any other exception are internal errors of this write alone, logged
/// once. store_error (the database itself failed) is rethrown: the caller fails the whole
/// transaction.
write_outcome run_write(const write_fn& fn, write_txn& tx);

} // namespace posfeed::store
