// Writes of the PostgreSQL store: one writer thread per node, group commit, the RmSystem row
// lock that orders commits across nodes.

#include "store/postgres/pg_sql.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/run_write.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_set>

namespace posfeed::store::postgres {
namespace {

using record_key = std::tuple<std::string, core::record_kind, std::string>; // rm, kind, id
using counter_key = std::pair<std::string, std::string>;                    // rm, name

/// What a batch has changed so far, in memory until it is written at the end of the batch.
struct batch_state {
    std::map<std::string, core::rve> last_rve;    ///< of the locked RmSystems
    std::map<record_key, record> records;         ///< latest version per record
    std::map<counter_key, std::int64_t> counters; ///< current values (loaded on first use)
    std::map<counter_key, bool> counters_changed;
    struct event_row {
        std::string rmsystem;
        core::rve rve;
        int seq;
        event e;
    };
    std::vector<event_row> events;
    std::vector<std::string> announcements; ///< `<rm> <rve>` of each committed group
};

/// The write_txn of one write of a batch: reads go through the batch's and its own changes to
/// the database (under the RmSystem's row lock, so nothing else changes them meanwhile); its
/// own changes stay here until merge().
class pg_txn final : public write_txn {
  public:
    pg_txn(connection& c, batch_state& batch, const std::string& rmsystem,
           const core::rve_clock& clock)
        : c_(c), batch_(batch), rmsystem_(rmsystem), clock_(clock) {}

    const std::string& rmsystem() const override { return rmsystem_; }

    std::optional<record> get(core::record_kind kind, std::string_view id) override {
        const record_key key{rmsystem_, kind, std::string(id)};
        if (const auto it = own_.find(key); it != own_.end()) {
            return it->second;
        }
        if (const auto it = batch_.records.find(key); it != batch_.records.end()) {
            return it->second;
        }
        const auto r = c_.query("SELECT " + std::string(record_columns) +
                                    " FROM records WHERE rmsystem = $1 AND kind = $2 AND id = $3",
                                params{}.add(rmsystem_).add(core::to_string(kind)).add(id));
        if (r.empty()) {
            return std::nullopt;
        }
        return read_record(r, 0, kind);
    }

    std::optional<record> find(core::record_kind kind, std::string_view lookup) override {
        // The first live record by RVE among the stored ones not changed since and the changed
        // ones as they now stand (the changed ones are newer than every stored one).
        std::optional<record> best;
        const auto consider = [&best](const record& r) {
            if (!best || r.rve < best->rve) {
                best = r;
            }
        };
        const auto r = c_.query("SELECT " + std::string(record_columns) +
                                    " FROM records WHERE rmsystem = $1 AND kind = $2 AND lookup = "
                                    "$3 AND NOT deleted ORDER BY rve",
                                params{}.add(rmsystem_).add(core::to_string(kind)).add(lookup));
        for (int i = 0; i < r.rows() && !best; ++i) {
            const record stored = read_record(r, i, kind);
            const record_key key{rmsystem_, kind, stored.id};
            if (!own_.contains(key) && !batch_.records.contains(key)) {
                consider(stored);
            }
        }
        const auto changed = [&](const std::map<record_key, record>& m) {
            for (const auto& [key, rec] : m) {
                if (std::get<0>(key) == rmsystem_ && rec.kind == kind && rec.lookup == lookup &&
                    !rec.deleted) {
                    const record_key k{rmsystem_, kind, rec.id};
                    if (&m == &batch_.records && own_.contains(k)) {
                        continue; // this write changed it again
                    }
                    consider(rec);
                }
            }
        };
        changed(own_);
        changed(batch_.records);
        return best;
    }

    void put(record r) override {
        r.rve = rve();
        own_[record_key{rmsystem_, r.kind, r.id}] = std::move(r);
    }

    void emit(event e) override {
        rve();
        events_.push_back(std::move(e));
    }

    core::rve rve() override {
        if (rve_) {
            return *rve_;
        }
        const auto it = batch_.last_rve.find(rmsystem_);
        if (it == batch_.last_rve.end()) {
            throw unknown_rmsystem{};
        }
        rve_ = clock_.next(it->second);
        return *rve_;
    }

    std::int64_t next_id(std::string_view name) override {
        const counter_key key{rmsystem_, std::string(name)};
        auto it = own_counters_.find(key);
        if (it == own_counters_.end()) {
            auto stored = batch_.counters.find(key);
            if (stored == batch_.counters.end()) {
                const auto r =
                    c_.query("SELECT value FROM counters WHERE rmsystem = $1 AND name = $2",
                             params{}.add(rmsystem_).add(name));
                stored = batch_.counters.emplace(key, r.empty() ? 0 : r.int64(0, 0)).first;
            }
            it = own_counters_.emplace(key, stored->second).first;
        }
        return ++it->second;
    }

    /// Keeps this write's changes in the batch; returns its group (null if it logged nothing).
    group_ptr merge() {
        for (auto& [key, rec] : own_) {
            batch_.records[key] = std::move(rec);
        }
        for (const auto& [key, value] : own_counters_) {
            batch_.counters[key] = value;
            batch_.counters_changed[key] = true;
        }
        if (!rve_) {
            return nullptr;
        }
        batch_.last_rve[rmsystem_] = *rve_;
        if (events_.empty()) {
            return nullptr;
        }
        int seq = 0;
        for (const auto& e : events_) {
            batch_.events.push_back({rmsystem_, *rve_, seq++, e});
        }
        batch_.announcements.push_back(rmsystem_ + " " + std::to_string(rve_->ms));
        return std::make_shared<const event_group>(
            event_group{rmsystem_, *rve_, std::move(events_)});
    }

    std::optional<core::rve> allocated() const { return rve_; }

  private:
    connection& c_;
    batch_state& batch_;
    const std::string& rmsystem_;
    const core::rve_clock& clock_;
    std::map<record_key, record> own_;
    std::map<counter_key, std::int64_t> own_counters_;
    std::vector<event> events_;
    std::optional<core::rve> rve_;
};

/// The statements that write what `batch` changed, one per table.
std::vector<connection::statement> flush(const batch_state& batch) {
    std::vector<connection::statement> out;
    if (!batch.records.empty()) {
        std::vector<std::string_view> rm, kind, id, location, deleted, body, lookup;
        std::vector<std::int64_t> rve;
        for (const auto& [key, r] : batch.records) {
            rm.push_back(std::get<0>(key));
            kind.push_back(core::to_string(r.kind));
            id.push_back(r.id);
            location.push_back(r.location);
            rve.push_back(r.rve.ms);
            deleted.push_back(r.deleted ? "t" : "f");
            body.push_back(r.body);
            lookup.push_back(r.lookup);
        }
        out.push_back(
            {"INSERT INTO records (rmsystem, kind, id, location, rve, deleted, body, lookup) "
             "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
             "$5::bigint[], $6::boolean[], $7::text[], $8::text[]) ON CONFLICT (rmsystem, kind, "
             "id) DO UPDATE SET location = excluded.location, rve = excluded.rve, deleted = "
             "excluded.deleted, body = excluded.body, lookup = excluded.lookup",
             params{}
                 .add_array(rm)
                 .add_array(kind)
                 .add_array(id)
                 .add_array(location)
                 .add_array(rve)
                 .add_array(deleted)
                 .add_array(body)
                 .add_array(lookup)});
    }
    if (!batch.events.empty()) {
        std::vector<std::string_view> rm, type, location, session, body;
        std::vector<std::int64_t> rve, seq;
        for (const auto& e : batch.events) {
            rm.push_back(e.rmsystem);
            rve.push_back(e.rve.ms);
            seq.push_back(e.seq);
            type.push_back(core::to_string(e.e.type));
            location.push_back(e.e.location);
            session.push_back(e.e.session);
            body.push_back(e.e.body);
        }
        out.push_back(
            {"INSERT INTO events (rmsystem, rve, seq, type, location, session, body) SELECT * "
             "FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[], $5::text[], "
             "$6::text[], $7::text[])",
             params{}
                 .add_array(rm)
                 .add_array(rve)
                 .add_array(seq)
                 .add_array(type)
                 .add_array(location)
                 .add_array(session)
                 .add_array(body)});
    }
    if (!batch.counters_changed.empty()) {
        std::vector<std::string_view> rm, name;
        std::vector<std::int64_t> value;
        for (const auto& [key, _] : batch.counters_changed) {
            rm.push_back(key.first);
            name.push_back(key.second);
            value.push_back(batch.counters.at(key));
        }
        out.push_back(
            {"INSERT INTO counters (rmsystem, name, value) SELECT * FROM unnest($1::text[], "
             "$2::text[], $3::bigint[]) ON CONFLICT (rmsystem, name) DO UPDATE SET value = "
             "excluded.value",
             params{}.add_array(rm).add_array(name).add_array(value)});
    }
    std::vector<std::string_view> rm;
    std::vector<std::int64_t> last;
    for (const auto& [id, v] : batch.last_rve) {
        rm.push_back(id);
        last.push_back(v.ms);
    }
    if (!rm.empty()) {
        out.push_back(
            {"UPDATE rmsystems r SET last_rve = u.v FROM unnest($1::text[], $2::bigint[]) "
             "AS u(id, v) WHERE r.id = u.id AND r.last_rve <> u.v",
             params{}.add_array(rm).add_array(last)});
    }
    return out;
}

/// The NOTIFY of every committed group: `<rmsystem> <rve>` on channel `posfeed`.
std::vector<connection::statement> announce(const std::vector<std::string>& announcements) {
    if (announcements.empty()) {
        return {};
    }
    std::vector<std::string_view> payloads(announcements.begin(), announcements.end());
    return {{"SELECT pg_notify('posfeed', a) FROM unnest($1::text[]) AS a",
             params{}.add_array(payloads)}};
}

} // namespace

void pg_store::submit(std::string rmsystem, write_fn fn, std::function<void(write_result)> done,
                      write_guard guard) {
    {
        const std::lock_guard lock(queue_mu_);
        if (!closing_) {
            queue_.push_back(
                job{std::move(rmsystem), std::move(fn), std::move(done), std::move(guard)});
            queue_cv_.notify_one();
            return;
        }
    }
    write_result r;
    r.body = core::error{core::error_code::unavailable,
                         "the server is shutting down; retry on another node"};
    done(std::move(r));
}

void pg_store::writer_loop() {
    while (true) {
        std::vector<job> batch;
        {
            std::unique_lock lock(queue_mu_);
            queue_cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;
            }
            while (!queue_.empty() && batch.size() < options_.max_batch) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        run_batch(batch);
    }
}

void pg_store::run_batch(std::vector<job>& batch) {
    std::vector<write_result> results(batch.size());
    try {
        if (!writer_conn_ || !writer_conn_->ok()) {
            writer_conn_.reset();
            writer_conn_ = std::make_unique<connection>(conninfo_);
        }
        connection& c = *writer_conn_;
        batch_state state;
        std::vector<std::string_view> rms;
        for (const auto& j : batch) {
            rms.push_back(j.rmsystem);
        }
        std::sort(rms.begin(), rms.end());
        rms.erase(std::unique(rms.begin(), rms.end()), rms.end());
        // BEGIN and the row lock of each RmSystem in one round trip. The locks are taken in id
        // order (so two nodes never deadlock) and held to the commit: writes of one RmSystem
        // commit one after another on every node, each RVE above the last committed one.
        // The same round trip checks the API keys the writes act for (write_guard): a key
        // still unrevoked is share-locked to the commit, so a revocation waits for the writes
        // of this batch and is never overtaken by one.
        std::vector<std::string_view> keys;
        for (const auto& j : batch) {
            if (!j.guard.api_key.empty()) {
                keys.push_back(j.guard.api_key);
            }
        }
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        transaction txn(c, transaction::adopt_t{});
        std::vector<connection::statement> first{
            {"BEGIN", {}},
            {"SELECT id, last_rve FROM rmsystems WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE",
             params{}.add_array(rms)}};
        if (!keys.empty()) {
            first.push_back({"SELECT id FROM api_keys WHERE id = ANY($1::text[]) AND NOT revoked "
                             "ORDER BY id FOR SHARE",
                             params{}.add_array(keys)});
        }
        const auto begun = c.pipeline(first);
        const auto& locked = begun[1];
        for (int i = 0; i < locked.rows(); ++i) {
            state.last_rve[locked.text(i, 0)] = core::rve{locked.int64(i, 1)};
        }
        std::unordered_set<std::string> valid_keys;
        if (!keys.empty()) {
            for (int i = 0; i < begun[2].rows(); ++i) {
                valid_keys.insert(begun[2].text(i, 0));
            }
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (const auto& key = batch[i].guard.api_key;
                !key.empty() && !valid_keys.contains(key)) {
                results[i].body = key_revoked();
                continue;
            }
            pg_txn tx(c, state, batch[i].rmsystem, clock_);
            write_outcome out = run_write(batch[i].fn, tx);
            if (out.commit) {
                results[i].rve = tx.allocated();
                tx.merge();
            }
            results[i].body = std::move(out.body);
        }
        // The changes, the COMMIT and the announcements in one more round trip; with
        // posfeed_notify=in_transaction the NOTIFY goes before the COMMIT instead.
        auto changes = flush(state);
        auto notify = announce(state.announcements);
        if (notify_ == notify_placement::in_transaction) {
            changes.insert(changes.end(), notify.begin(), notify.end());
            notify.clear();
        }
        txn.commit_pipeline(std::move(changes), std::move(notify));
    } catch (const store_error& e) {
        spdlog::error("group commit of {} writes failed: {}", batch.size(), e.what());
        for (auto& r : results) {
            r = write_result{};
            r.body = commit_failed(e);
        }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i].done(std::move(results[i]));
    }
}

} // namespace posfeed::store::postgres
