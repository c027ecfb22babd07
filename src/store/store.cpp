#include "store/store.hpp"

#include "store/run_write.hpp"

#include <spdlog/spdlog.h>

#include <future>

namespace posfeed::store {

core::error key_revoked() {
    return core::error{core::error_code::unauthenticated, "the X-Api-Key has been revoked"};
}

core::error commit_failed(const store_error& e) {
    if (e.why() == store_error::cause::storage) {
        return core::error{core::error_code::unavailable,
                           "the database cannot be written now (its disk is full or it is "
                           "unwritable): nothing of this write was saved; retry later"};
    }
    return core::error{core::error_code::unavailable,
                       "the database could not commit the write; retry"};
}

bool valid_rmsystem_id(std::string_view id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    for (const char c : id) {
        const bool ok =
            (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

write_outcome run_write(const write_fn& fn, write_txn& tx) {
    try {
        core::result<std::string> out = fn(tx);
        const bool commit = out.ok() || tx.kept();
        return {std::move(out), commit};
    } catch (const unknown_rmsystem&) {
        return {core::not_found("rmsystem '" + tx.rmsystem() + "' does not exist"), false};
    } catch (const store_error&) {
        throw;
    } catch (const data_error& e) {
        spdlog::error("write to rmsystem {} failed on damaged data: {}", tx.rmsystem(), e.what());
        return {core::internal_error(std::string(e.what()) +
                                     "; the write was not applied (repair or delete the row)"),
                false};
    } catch (const std::exception& e) {
        spdlog::error("write failed with an exception: {}", e.what());
        return {core::internal_error("the write failed unexpectedly; it was not applied"), false};
    } catch (...) {
        spdlog::error("write failed with an exception that is not a std::exception");
        return {core::internal_error("the write failed unexpectedly; it was not applied"), false};
    }
}

write_result write_and_wait(store& s, std::string rmsystem, write_fn fn) {
    std::promise<write_result> done;
    auto f = done.get_future();
    s.submit(std::move(rmsystem), std::move(fn),
             [&done](write_result r) { done.set_value(std::move(r)); });
    return f.get();
}

} // namespace posfeed::store
