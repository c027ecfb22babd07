#pragma once

#include "core/error.hpp"
#include "core/event_type.hpp"
#include "core/record_kind.hpp"
#include "core/rve.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace posfeed::store {

/// One logged change: the event type it fires and the record as a JSON object text without
/// its RVE (encoders add the RVE of the group).
struct event {
    core::event_type type;
    std::string location; ///< "" for types without a location
    std::string session;  ///< "" unless the event belongs to one POS session
    std::string body;
};

/// Everything one transaction logged, in the order it was logged, sharing one RVE (SPEC 2).
struct event_group {
    std::string rmsystem;
    core::rve rve;
    std::vector<event> events;
};

/// Groups are immutable once committed and shared by every subscriber that receives them.
using group_ptr = std::shared_ptr<const event_group>;

/// The current state of one record (product, customer, stock level, sale, ...).
struct record {
    core::record_kind kind{};
    std::string id;       ///< unique per (RmSystem, kind)
    std::string location; ///< "" unless the kind has one
    core::rve rve;        ///< RVE of the last change (set by write_txn::put)
    bool deleted = false; ///< tombstone: kept so that catch-up can report the delete
    std::string body;     ///< JSON object text without the RVE
    std::string lookup;   ///< secondary key ("" = none), e.g. a product's barcode
};

/// The view a write function has of its transaction. Only valid inside the function, which the
/// store runs on a thread of its own; every call sees the transaction's own earlier changes.
class write_txn {
  public:
    virtual ~write_txn() = default;

    /// The RmSystem this transaction writes to.
    virtual const std::string& rmsystem() const = 0;

    /// The record as of this transaction (its own earlier puts included).
    virtual std::optional<record> get(core::record_kind kind, std::string_view id) = 0;

    /// The first live (not deleted) record of `kind` whose lookup key is `lookup`.
    virtual std::optional<record> find(core::record_kind kind, std::string_view lookup) = 0;

    /// Inserts or replaces a record; its rve is set to rve().
    virtual void put(record r) = 0;

    /// Commits what this write did even though it answers with an error (e.g. an unknown
    /// barcode scanned into a sale: the terminal's `usermessage` must still go out).
    void keep_on_error() { keep_ = true; }
    /// Whether keep_on_error() was called (read by the store).
    bool kept() const { return keep_; }

    /// Logs an event of this transaction's group.
    virtual void emit(event e) = 0;

    /// The RVE of this transaction, allocated from the RmSystem's clock on first call, so a
    /// transaction that changes nothing uses no RVE.
    virtual core::rve rve() = 0;

    /// The next value of a per-RmSystem counter (Pid, Cid, Sid, ...), starting at 1.
    virtual std::int64_t next_id(std::string_view counter) = 0;

  private:
    bool keep_ = false;
};

/// A write: validates and applies one request inside a transaction; returns the response body
/// (JSON text) or an error, in which case everything it did is rolled back.
using write_fn = std::function<core::result<std::string>(write_txn&)>;

/// What must still hold when a write commits, checked by the store inside the write's own
/// transaction (the caller checked it earlier, perhaps from a cache): when `api_key` names a
/// key id, that key exists and is not revoked; otherwise the write does not run and answers
/// unauthenticated ("the X-Api-Key has been revoked").
struct write_guard {
    std::string api_key;
};

/// The answer to a write whose write_guard failed: unauthenticated, "the X-Api-Key has been
/// revoked".
core::error key_revoked();

/// The outcome of a write, reported once it is durable (or failed).
struct write_result {
    core::result<std::string> body = core::internal_error("write not run");
    std::optional<core::rve> rve; ///< set when the write committed a change
};

/// An API key as stored: only the hash of its secret is kept.
struct api_key_row {
    std::string id;       ///< public part of the key, the lookup key
    std::string rmsystem; ///< the RmSystem it belongs to
    std::string hash;     ///< hex SHA-256 of the secret part
    std::string scopes;   ///< comma-separated event types and/or `write`, or `*`
    bool revoked = false;
};

/// A POS user; the password is kept only as an argon2id hash string.
struct user_row {
    std::string rmsystem;
    std::string name; ///< unique over all RmSystems (a login names no RmSystem)
    std::string password_hash;
};

/// A POS session made by login. The session id and its UrlToken are secrets: only their
/// SHA-256 hashes are stored. `key` (the id's hash) is what events and streams are tagged with.
struct session_row {
    std::string key;        ///< hex SHA-256 of the session id
    std::string token_hash; ///< hex SHA-256 of the UrlToken
    std::string rmsystem;
    std::string user;
    std::string location;
    std::string terminal;
    std::int64_t created_ms = 0;
    std::int64_t last_seen_ms = 0;
    bool ended = false;
};

/// Credentials revoked or ended in a time window (revoked_since).
struct revocations {
    std::vector<std::string> ids; ///< API key ids and session keys
    std::int64_t now_ms = 0; ///< the database's clock when it was read: the next window's start
};

/// Failed logins of one user name since its last success (the login throttle, shared by every
/// node of a database).
struct login_failures {
    int count = 0;
    std::int64_t last_ms = 0; ///< when the last one was recorded (the database's clock)
    std::int64_t now_ms = 0;  ///< the database's clock when it was read
};

/// Counts of the store's own machinery, for /metrics (zero where an implementation has none).
struct store_stats {
    std::uint64_t notifications = 0; ///< commit announcements received from the database
    std::uint64_t polls_found = 0;   ///< safety polls that found commits no announcement had told
    std::uint64_t reconnects = 0;    ///< times the announcement connection was made again
    std::uint64_t stale_groups =
        0;                      ///< groups at or below an RmSystem's last delivered RVE: dropped
    std::uint64_t followed = 0; ///< RmSystems this process follows now
};

/// What a subscriber wants replayed.
struct event_query {
    std::string rmsystem;
    core::rve after;          ///< exclusive
    core::type_mask types;    ///< only these types
    std::string session;      ///< session-scoped events only of this session ("" = none)
    std::size_t limit = 1000; ///< rows per page (a group is never cut)
};

/// One page of replay, read in one read transaction.
struct event_page {
    std::vector<event_group> groups; ///< complete groups in RVE order
    core::rve newest;                ///< newest committed RVE of the RmSystem at the read
    core::rve history_from;          ///< events at or before this RVE have been pruned
    bool more = false;               ///< the limit cut the page; read again after the last
};

/// A page request over the records of one kind (the records API, SPEC 5). Records are
/// ordered by (rve, id), so `?since=` paging reads changes in the order they happened.
struct record_query {
    std::string rmsystem;
    core::record_kind kind{};
    core::rve since; ///< only records changed after this RVE (0: all)
    std::optional<std::pair<core::rve, std::string>> after; ///< keyset cursor: (rve, id)
    std::string location;                                   ///< "" = every location
    std::string id_prefix;        ///< "" = every id (levels of one product: "<pid>@")
    bool include_deleted = false; ///< tombstones, for change listings
    std::size_t limit = 100;
};

/// Reads the current state of records at one consistent point (the snapshot and the catch-up
/// of SPEC 3) page by page, so that a catalogue of any size streams in bounded memory. Holds
/// one read transaction open until destroyed; blocking, like every store read.
class record_cursor {
  public:
    virtual ~record_cursor() = default;
    /// The newest RVE of the RmSystem when the cursor was opened: everything up to it is
    /// reflected in the records read, nothing after it.
    virtual core::rve at() const = 0;
    /// The next records, up to `limit`, kind after kind in the order given at open; empty when
    /// done.
    virtual std::vector<record> next(std::size_t limit) = 0;
};

/// Stored data that cannot be what we wrote (e.g. a record body that does not parse): a fault
/// of that one row, not of the database. The write or read that met it fails as internal (500),
/// logged with the message, which names the row; nothing else fails with it.
class data_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A failure of the database itself (I/O error, database locked past the timeout, lost
/// connection): handlers answer 503 and log it.
class store_error : public std::runtime_error {
  public:
    /// `storage`: the database's storage refused to take the data (its disk is full, a file-size
    /// limit, a read-only file system, an I/O error); `other`: anything else.
    enum class cause : std::uint8_t { other, storage };

    explicit store_error(const std::string& what, cause why = cause::other)
        : std::runtime_error(what), why_(why) {}
    cause why() const { return why_; }

  private:
    cause why_;
};

/// The answer (unavailable) to each write of a group commit that failed with `e`: its message
/// says that nothing of the write was saved, and when the storage refused it, that it is the
/// disk (full or unwritable) and that a retry later will do.
core::error commit_failed(const store_error& e);

/// The storage of posfeed: RmSystems, credentials, records and the event log (SPEC 8).
/// Implemented by SQLite (embedded) and PostgreSQL (several nodes sharing one database); the
/// store conformance suite (tests/store/store_conformance_test.cpp) checks every promise below
/// against each.
///
/// What callers may rely on:
/// - **Reads** are thread-safe and blocking (they may wait on the disk or the network): call
///   them from a blocking pool, never from an I/O thread. A read sees only committed data, and
///   each read method sees one consistent point. They throw store_error when the database
///   fails and data_error when a stored row is damaged.
/// - **Writes** are submitted, never awaited on the caller's thread: submit() returns at once.
///   A write's records and events commit together or not at all, and `done` is called exactly
///   once, after the write is durable (it survives a crash of the process or the machine) or
///   has failed; a write that fails leaves no trace, and no other write fails with it unless
///   the database itself fails (store_error: then every write it took down answers
///   unavailable).
/// - **RVEs**: within one RmSystem every committed write that changed something has a unique
///   RVE, strictly increasing in commit order, whichever node or thread submitted it: a reader
///   that has seen RVE X never later finds a committed event of that RmSystem at or below X
///   that it did not see. A write that changes nothing uses no RVE.
/// - **The commit listener** sees every committed group of an RmSystem this process follows
///   (follow()) exactly once, in RVE order, and only after it is durable; whichever node
///   committed it. It may see groups of RmSystems nobody follows (SQLite shows it every one). It
///   may run on any thread of the store, never concurrently with itself for one RmSystem, and must
///   not block. Whether a write's `done` runs before or after the listener sees its group is not
///   promised.
/// - **Callbacks** (`done`, the listener) run on a thread of the store, never on the caller's
///   stack inside submit() (except the unavailable answer after close()); they must hand work
///   on (post it) rather than block.
class store {
  public:
    virtual ~store() = default;

    /// Creates an RmSystem; conflict if it exists, invalid_argument for a malformed id.
    virtual core::status create_rmsystem(const std::string& id) = 0;
    virtual bool rmsystem_exists(const std::string& id) = 0;

    virtual core::status add_api_key(const api_key_row& key) = 0;
    virtual std::optional<api_key_row> find_api_key(std::string_view id) = 0;
    /// Marks a key revoked; not_found if there is none.
    virtual core::status revoke_api_key(std::string_view id) = 0;

    /// Creates a user; conflict when the name exists in any RmSystem.
    virtual core::status add_user(const user_row& user) = 0;
    virtual std::optional<user_row> find_user(std::string_view name) = 0;

    virtual core::status add_session(const session_row& session) = 0;
    /// By the hash of the session id or of the UrlToken.
    virtual std::optional<session_row> find_session(std::string_view key) = 0;
    virtual std::optional<session_row> find_session_by_token(std::string_view token_hash) = 0;
    /// Records activity (for idle expiry).
    virtual void touch_session(std::string_view key, std::int64_t now_ms) = 0;
    /// Ends a session; false when it was already ended or unknown.
    virtual bool end_session(std::string_view key) = 0;

    /// Credential ids (API key ids and session keys) revoked or ended at or after `since_ms`,
    /// so that a server can close the streams they opened, whichever process or node revoked
    /// them. Times are the database's clock (revoked_ms, ended_ms are set by it), so a window
    /// starts from the `now_ms` of the previous answer, never from a node's own clock.
    virtual revocations revoked_since(std::int64_t since_ms) = 0;

    /// The login throttle's state for `user` (every node sees the same).
    virtual login_failures get_login_failures(std::string_view user) = 0;
    /// Counts a failed login of `user` (at the database's clock).
    virtual void record_login_failure(std::string_view user) = 0;
    /// Forgets the failures of `user` (a successful login).
    virtual void clear_login_failures(std::string_view user) = 0;

    /// Publishes this node's streams that want barcodes, per session key (`local`), under
    /// `node` (a random id per process), and returns the same counts summed over every other
    /// node that published within the last 10 s: a scan's Owner counts the subscribers of its
    /// session on every node (SPEC 4). A store with one process per database returns none.
    virtual std::unordered_map<std::string, int>
    exchange_presence(const std::string& node,
                      const std::unordered_map<std::string, int>& local) = 0;

    /// Declares that this process has subscribers of `rmsystem`. When `ready` is called with
    /// success (at once on the caller's thread, or later on a store thread), the commit
    /// listener sees every group of `rmsystem` committed after that point, whichever node
    /// committed it; a reader that starts after `ready` so misses nothing between its read and
    /// the listener. Each successful follow is matched by one unfollow; following is counted
    /// per RmSystem. `ready` with an error (unavailable: the database cannot be read) means the
    /// follow did not happen. Non-blocking.
    virtual void follow(const std::string& rmsystem, std::function<void(core::status)> ready) = 0;
    virtual void unfollow(const std::string& rmsystem) = 0;

    /// The store's own counts for /metrics. Non-blocking (may be called on an I/O thread).
    virtual store_stats stats() = 0;

    /// The first live record of `kind` with lookup key `lookup` (e.g. a product by barcode).
    virtual std::optional<record> find_record(const std::string& rmsystem, core::record_kind kind,
                                              std::string_view lookup) = 0;

    virtual std::optional<record> get_record(const std::string& rmsystem, core::record_kind kind,
                                             std::string_view id) = 0;

    /// One page of records, ordered by (rve, id).
    virtual std::vector<record> list_records(const record_query& q) = 0;

    /// Opens a consistent read of the records of `kinds` changed after `since` (0: all),
    /// restricted to `location` when not empty (records without a location are not filtered).
    /// Tombstones are included only when `since` is not zero (a catch-up must report deletes,
    /// a snapshot shows what exists).
    virtual std::unique_ptr<record_cursor> open_records(const std::string& rmsystem,
                                                        std::vector<core::record_kind> kinds,
                                                        core::rve since, std::string location) = 0;

    /// Deletes events with an RVE before `cutoff` in every RmSystem and moves each RmSystem's
    /// history horizon (`event_page::history_from`) up to the newest RVE deleted, atomically
    /// for each RmSystem: a reader sees either the events or the horizon above them, never a
    /// gap below the horizon. Returns the number of events deleted. Also forgets login
    /// failures older than 15 minutes. Blocking; safe to call while writes go on (and from
    /// several nodes at once: one of them prunes, the others return 0).
    virtual std::size_t prune_events(core::rve cutoff) = 0;

    /// Events after `q.after`, complete groups only, with the RmSystem's newest RVE and
    /// history horizon, all read at one consistent point.
    virtual event_page read_events(const event_query& q) = 0;

    /// Newest committed RVE of an RmSystem (zero when it has none).
    virtual core::rve newest_rve(const std::string& rmsystem) = 0;

    /// Queues a write for `rmsystem` and returns at once (never blocks on I/O). `fn` runs later
    /// on a store thread inside the write's transaction; `done` is called exactly once, after
    /// the transaction is durable or has failed (after close(): at once, unavailable).
    /// `guard` is checked in the same transaction, before `fn` runs.
    virtual void submit(std::string rmsystem, write_fn fn, std::function<void(write_result)> done,
                        write_guard guard) = 0;
    /// A write with nothing to re-check.
    void submit(std::string rmsystem, write_fn fn, std::function<void(write_result)> done) {
        submit(std::move(rmsystem), std::move(fn), std::move(done), write_guard{});
    }

    /// Sets the function that receives every committed group (see the class comment). Call
    /// before the first write.
    virtual void set_commit_listener(std::function<void(group_ptr)> listener) = 0;

    /// Whether the database answers a trivial query.
    virtual bool healthy() = 0;

    /// Writes a consistent copy of the whole database to `file` while the store serves and
    /// writes (SPEC 8): the copy is of one point in time, and appears at `file` only once it
    /// is complete and on disk. Blocking. unavailable (with what to use instead) when the
    /// implementation cannot (PostgreSQL: the server's own tools).
    virtual core::status backup(const std::string& file) = 0;

    /// Finishes the writes already submitted (each gets its `done`), then refuses new ones:
    /// further submits answer unavailable. Idempotent; blocking.
    virtual void close() = 0;
};

/// Options for opening a store (open_store).
struct store_options {
    core::clock_fn now = core::system_now_ms; ///< the RVE clock's source (tests inject one)
    std::size_t max_batch = 512; ///< at most this many writes share one commit (group commit)
};

/// Runs `fn` as a write and waits for its result; for the command line and tests, never on
/// an I/O thread.
write_result write_and_wait(store& s, std::string rmsystem, write_fn fn);

/// Whether `id` is a valid RmSystem id (SPEC 2: 1 to 64 of [0-9A-Za-z_]).
bool valid_rmsystem_id(std::string_view id);

} // namespace posfeed::store
