#pragma once

#include "core/event_type.hpp"
#include "feed/packet.hpp"
#include "store/store.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace posfeed::feed {

/// What one subscriber receives of a group: the types it wants, its format, and its
/// `location=` and session filters.
struct subscription_filter {
    core::type_mask want = 0;
    packet_format format = packet_format::json;
    std::string location; ///< "" = every location
    std::string session;  ///< "" = no session: session-scoped types are never delivered
};

/// A committed group encoded once per format and filter variant, shared read-only by every
/// subscriber it goes to (SPEC 2, STYLE "fan-out hands out shared immutable buffers").
/// Each packet frame is `event: <type>\ndata: <packet>\n`; the writer puts `id_line()` before
/// the last packet a subscriber receives from the group, and a blank line after each.
class encoded_group {
  public:
    /// How many subscribers of a session want `barcode` (for the barcode Owner of SPEC 4).
    using watcher_count = std::function<int(const std::string& session_key)>;

    /// Encodes `g`: per event type, one packet with all its records; for location-filterable
    /// types with records at several locations, one packet per location as well; for
    /// session-scoped types, one packet per session. Each barcode scan gets its own packets:
    /// aimed at a session, one with Owner 1 (2 when `watchers` says the session has several
    /// barcode subscribers) for that session's subscribers and one with Owner 0 for the rest;
    /// aimed at none, one with Owner 2 for all.
    /// `only`, when given, encodes that format alone (a stream's own replay); a group shared by
    /// the hub is encoded in both.
    explicit encoded_group(const store::event_group& g, const watcher_count& watchers = {},
                           std::optional<packet_format> only = std::nullopt);

    /// The same, encoded lazily: on the first call that needs packets (in both formats), by
    /// whichever thread makes it; a group no subscriber is offered is never encoded. The hub
    /// uses this, so the store's writer thread only hands the group over.
    encoded_group(store::group_ptr g, watcher_count watchers);

    const std::string& rmsystem() const { return rmsystem_; }
    core::rve rve() const { return rve_; }
    core::type_mask types() const { return types_; }
    /// `id: <RVE>\n`.
    const std::string& id_line() const { return id_line_; }

    /// Calls `f(const std::string& frame)` for each packet `filter` selects, in group order.
    template <class F> void for_each_frame(const subscription_filter& filter, F&& f) const {
        ensure_encoded();
        for (const auto& p : packets_) {
            if (selects(p, filter)) {
                f(p.frame[static_cast<int>(filter.format)]);
            }
        }
    }

    /// As for_each_frame, with the packet's type: `f(core::event_type, const std::string&)`.
    template <class F> void for_each_packet(const subscription_filter& filter, F&& f) const {
        ensure_encoded();
        for (const auto& p : packets_) {
            if (selects(p, filter)) {
                f(p.type, p.frame[static_cast<int>(filter.format)]);
            }
        }
    }

    /// Bytes `filter` would receive of this group (for queue accounting).
    std::size_t bytes_for(const subscription_filter& filter) const;

  private:
    /// Which subscribers a packet is for, besides type and location.
    enum class audience {
        all,            ///< everyone who wants the type
        session,        ///< only subscribers of `session`
        other_sessions, ///< everyone except subscribers of `session`
    };

    struct packet {
        core::event_type type;
        std::string location;      ///< records of this location only; "" = all of the type's
        std::string only_location; ///< when every record is at one location: that location
        audience to = audience::all;
        std::string session;
        std::string frame[2]; ///< by packet_format
    };

    static bool selects(const packet& p, const subscription_filter& f);
    void encode(const store::event_group& g, const watcher_count& watchers,
                std::optional<packet_format> only) const;
    void ensure_encoded() const;

    std::string rmsystem_;
    core::rve rve_;
    core::type_mask types_ = 0;
    std::string id_line_;
    // Set until encoded (lazy construction); packets_ is written once, under once_.
    mutable store::group_ptr pending_;
    mutable watcher_count watchers_;
    mutable std::once_flag once_;
    mutable std::vector<packet> packets_;
};

using encoded_ptr = std::shared_ptr<const encoded_group>;

} // namespace posfeed::feed
