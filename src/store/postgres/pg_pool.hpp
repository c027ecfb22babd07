#pragma once

#include "store/postgres/pg_conn.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace posfeed::store::postgres {

/// A pool of connections for reads and credential writes: thread-safe, opened on demand up to
/// a maximum, kept for reuse. A connection that failed is dropped when given back, so the pool
/// heals itself once the server is back.
class pool {
  public:
    pool(std::string conninfo, std::size_t max);

    /// A connection borrowed from the pool, given back on destruction.
    class lease {
      public:
        lease(pool& owner, std::unique_ptr<connection> c) : owner_(&owner), c_(std::move(c)) {}
        lease(lease&&) = default;
        lease& operator=(lease&&) = delete;
        ~lease();
        connection& operator*() const { return *c_; }
        connection* operator->() const { return c_.get(); }

      private:
        pool* owner_;
        std::unique_ptr<connection> c_;
    };

    /// A connection: an idle one, a new one while fewer than `max` are open, else waits for
    /// one to be given back. Throws pg_error when a new connection cannot be made.
    lease acquire();

  private:
    void give_back(std::unique_ptr<connection> c);

    std::string conninfo_;
    std::size_t max_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<connection>> idle_;
    std::size_t open_ = 0;
};

} // namespace posfeed::store::postgres
