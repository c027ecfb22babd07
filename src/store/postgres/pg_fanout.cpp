// The fan-out of the PostgreSQL store: one thread per node LISTENs for commit announcements
// and reads every followed RmSystem's new events from the events table, in RVE order, into the
// commit listener. See docs/architecture.md, "Several nodes".

#include "store/postgres/pg_sql.hpp"
#include "store/postgres/pg_store.hpp"

#include <spdlog/spdlog.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <map>
#include <set>

namespace posfeed::store::postgres {
namespace {

using steady = std::chrono::steady_clock;

/// How often every followed RmSystem is checked even without an announcement (a lost NOTIFY,
/// or one sent by a node that crashed between its commit and the NOTIFY): the longest a commit
/// waits to be delivered when its announcement is lost.
constexpr auto safety_poll = std::chrono::milliseconds(500);

/// Pause between attempts to connect again after the LISTEN connection failed.
constexpr auto reconnect_pause = std::chrono::milliseconds(250);

/// Events read per statement when catching an RmSystem up.
constexpr int page_rows = 1000;

/// The RVE of an announcement `<rmsystem> <rve ms>` (nullopt if it has none: read anyway).
std::optional<core::rve> announced_rve(std::string_view payload, std::size_t space) {
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    const auto text = payload.substr(space + 1);
    std::int64_t ms = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || p != text.data() + text.size()) {
        return std::nullopt;
    }
    return core::rve{ms};
}

} // namespace

void pg_store::set_commit_listener(std::function<void(group_ptr)> listener) {
    listener_ = std::move(listener);
    if (!fanout_.joinable()) {
        fanout_ = std::thread([this] { fanout_loop(); });
    }
}

void pg_store::wake_fanout() {
    if (wake_fd_ >= 0) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
    }
}

void pg_store::follow(const std::string& rmsystem, std::function<void(core::status)> ready) {
    {
        const std::lock_guard lock(follow_mu_);
        if (unreachable_ || !listener_) {
            // Without the LISTEN connection nothing can be promised: the stream is refused and
            // the client retries (an open stream keeps its follow and catches up later).
            ready(core::error{core::error_code::unavailable,
                              "the database cannot be reached; retry later"});
            return;
        }
        follower& f = followers_[rmsystem];
        ++f.refs;
        if (f.cursor) {
            ready(core::ok_status());
            return;
        }
        f.waiting.push_back(std::move(ready));
    }
    wake_fanout(); // the fan-out thread reads the cursor and answers
}

void pg_store::unfollow(const std::string& rmsystem) {
    const std::lock_guard lock(follow_mu_);
    const auto it = followers_.find(rmsystem);
    if (it != followers_.end() && --it->second.refs <= 0) {
        followers_.erase(it);
    }
}

store_stats pg_store::stats() {
    store_stats s;
    s.notifications = notifications_.load();
    s.polls_found = polls_found_.load();
    s.reconnects = reconnects_.load();
    s.stale_groups = stale_groups_.load();
    const std::lock_guard lock(follow_mu_);
    s.followed = followers_.size();
    return s;
}

void pg_store::fail_pending(const core::error& err) {
    std::vector<std::function<void(core::status)>> failed;
    {
        const std::lock_guard lock(follow_mu_);
        unreachable_ = true;
        for (auto it = followers_.begin(); it != followers_.end();) {
            follower& f = it->second;
            for (auto& w : f.waiting) {
                failed.push_back(std::move(w));
            }
            // Waiters were counted in refs; they never became follows.
            f.refs -= static_cast<int>(f.waiting.size());
            f.waiting.clear();
            it = (!f.cursor && f.refs <= 0) ? followers_.erase(it) : std::next(it);
        }
    }
    for (auto& w : failed) {
        w(err);
    }
}

void pg_store::start_pending(connection& c) {
    std::vector<std::string> pending;
    {
        const std::lock_guard lock(follow_mu_);
        for (const auto& [rm, f] : followers_) {
            if (!f.cursor) {
                pending.push_back(rm);
            }
        }
    }
    for (const auto& rm : pending) {
        // The newest committed RVE: everything after it reaches the listener (the follower's
        // replay reads after ready, so it sees at least this much).
        const auto r = c.query("SELECT last_rve FROM rmsystems WHERE id = $1", params{}.add(rm));
        const core::rve at{r.empty() ? 0 : r.int64(0, 0)};
        std::vector<std::function<void(core::status)>> ready;
        {
            const std::lock_guard lock(follow_mu_);
            const auto it = followers_.find(rm);
            if (it == followers_.end()) {
                continue; // unfollowed meanwhile
            }
            it->second.cursor = at;
            ready.swap(it->second.waiting);
        }
        for (auto& w : ready) {
            w(core::ok_status());
        }
    }
}

void pg_store::deliver_new(connection& c, const std::string& rmsystem) {
    while (true) {
        core::rve cursor;
        {
            const std::lock_guard lock(follow_mu_);
            const auto it = followers_.find(rmsystem);
            if (it == followers_.end() || !it->second.cursor) {
                return;
            }
            cursor = *it->second.cursor;
        }
        const auto r = c.query("SELECT rve, type, location, session, body FROM events WHERE "
                               "rmsystem = $1 AND rve > $2 ORDER BY rve, seq LIMIT $3",
                               params{}.add(rmsystem).add(cursor).add(std::int64_t{page_rows}));
        std::vector<event_group> groups;
        for (int i = 0; i < r.rows(); ++i) {
            const core::rve v{r.int64(i, 0)};
            if (groups.empty() || groups.back().rve != v) {
                groups.push_back(event_group{rmsystem, v, {}});
            }
            const auto type = core::parse_event_type(r.text_view(i, 1));
            if (!type) {
                spdlog::error("stored event of rmsystem {} at {} has an unknown type '{}': skipped",
                              rmsystem, v.str(), r.text_view(i, 1));
                continue;
            }
            groups.back().events.push_back(event{*type, r.text(i, 2), r.text(i, 3), r.text(i, 4)});
        }
        const bool cut = r.rows() == page_rows;
        if (cut && groups.size() > 1) {
            groups.pop_back(); // may be cut: read again from the group before it
        } else if (cut) {
            // One group larger than a page: read it whole.
            const auto whole =
                c.query("SELECT rve, type, location, session, body FROM events WHERE rmsystem = "
                        "$1 AND rve = $2 ORDER BY seq",
                        params{}.add(rmsystem).add(groups.front().rve));
            groups.front().events.clear();
            for (int i = 0; i < whole.rows(); ++i) {
                if (const auto type = core::parse_event_type(whole.text_view(i, 1))) {
                    groups.front().events.push_back(
                        event{*type, whole.text(i, 2), whole.text(i, 3), whole.text(i, 4)});
                }
            }
        }
        for (auto& g : groups) {
            {
                const std::lock_guard lock(follow_mu_);
                const auto it = followers_.find(rmsystem);
                if (it == followers_.end() || !it->second.cursor) {
                    return; // unfollowed meanwhile
                }
                if (g.rve <= *it->second.cursor) {
                    // Cannot happen while commits of an RmSystem are ordered by its row lock;
                    // if it ever does, sending it would break the order every client relies on.
                    ++stale_groups_;
                    spdlog::error("group of rmsystem {} at {} arrived at or below the last "
                                  "delivered RVE {}: dropped",
                                  rmsystem, g.rve.str(), it->second.cursor->str());
                    continue;
                }
                it->second.cursor = g.rve;
            }
            listener_(std::make_shared<const event_group>(std::move(g)));
        }
        if (!cut) {
            return;
        }
    }
}

void pg_store::listen_on(connection& c) {
    c.exec("LISTEN posfeed");
    {
        const std::lock_guard lock(follow_mu_);
        unreachable_ = false;
    }
    // LISTEN first, then read: a commit announced from here on is heard, and everything
    // committed before is read now, from each followed RmSystem's cursor.
    std::set<std::string> dirty;
    {
        const std::lock_guard lock(follow_mu_);
        for (const auto& [rm, f] : followers_) {
            if (f.cursor) {
                dirty.insert(rm);
            }
        }
    }
    auto next_poll = steady::now();
    while (!stopping_) {
        start_pending(c);
        for (const auto& rm : dirty) {
            deliver_new(c, rm);
        }
        dirty.clear();
        if (steady::now() >= next_poll) {
            // The safety poll: RmSystems whose newest RVE is past the cursor though no
            // announcement said so.
            std::vector<std::string> ids;
            std::map<std::string, core::rve> cursors;
            {
                const std::lock_guard lock(follow_mu_);
                for (const auto& [rm, f] : followers_) {
                    if (f.cursor) {
                        ids.push_back(rm);
                        cursors[rm] = *f.cursor;
                    }
                }
            }
            if (!ids.empty()) {
                std::vector<std::string_view> views(ids.begin(), ids.end());
                const auto r =
                    c.query("SELECT id, last_rve FROM rmsystems WHERE id = ANY($1::text[])",
                            params{}.add_array(views));
                for (int i = 0; i < r.rows(); ++i) {
                    const std::string rm = r.text(i, 0);
                    if (core::rve{r.int64(i, 1)} > cursors[rm]) {
                        ++polls_found_;
                        deliver_new(c, rm);
                    }
                }
            }
            next_poll = steady::now() + safety_poll;
        }
        pollfd fds[2] = {{PQsocket(c.handle()), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        const auto wait =
            std::chrono::duration_cast<std::chrono::milliseconds>(next_poll - steady::now())
                .count();
        if (::poll(fds, 2, static_cast<int>(std::max<std::int64_t>(0, wait))) < 0 &&
            errno != EINTR) {
            throw pg_error("postgresql: poll on the LISTEN connection failed", "");
        }
        if ((fds[1].revents & POLLIN) != 0) {
            std::uint64_t n = 0;
            [[maybe_unused]] const auto got = ::read(wake_fd_, &n, sizeof n);
        }
        if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
            if (PQconsumeInput(c.handle()) == 0) {
                throw pg_error("postgresql: the LISTEN connection failed: " +
                                   std::string(PQerrorMessage(c.handle())),
                               "");
            }
            while (PGnotify* n = PQnotifies(c.handle())) {
                ++notifications_;
                const std::string_view payload = n->extra;
                const auto space = payload.find(' ');
                const std::string rm(payload.substr(0, space));
                const auto rve = announced_rve(payload, space);
                {
                    const std::lock_guard lock(follow_mu_);
                    const auto it = followers_.find(rm);
                    if (it != followers_.end() && it->second.cursor &&
                        (!rve || *rve > *it->second.cursor)) {
                        dirty.insert(rm);
                    }
                }
                PQfreemem(n);
            }
        }
    }
}

void pg_store::fanout_loop() {
    bool first = true;
    auto last_warning = steady::time_point{};
    while (!stopping_) {
        try {
            connection c(conninfo_);
            if (!first) {
                ++reconnects_;
                spdlog::info("postgresql: the LISTEN connection is back; catching up every "
                             "followed rmsystem");
            }
            first = false;
            listen_on(c);
        } catch (const store_error& e) {
            fail_pending(core::error{core::error_code::unavailable,
                                     "the database cannot be reached; retry later"});
            if (steady::now() - last_warning > std::chrono::seconds(10)) {
                spdlog::warn("{}; connecting again (open streams keep their place)", e.what());
                last_warning = steady::now();
            }
            first = false;
            pollfd fd{wake_fd_, POLLIN, 0};
            ::poll(&fd, 1, static_cast<int>(reconnect_pause.count()));
        }
    }
}

} // namespace posfeed::store::postgres
