// snapshot=1 (SPEC 3): the current state in batched packets (each record with its own RVE), id
// only on the last packet (the snapshot RVE), then the changes after it, then ready; consistent
// while writes continue; location= restricts levels; a Last-Event-ID resumes instead.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { parseKeepingRve, RVE_TEXT, rvesIn } from './lib/api.mjs';
import { assertSameSequence, logEventsOf } from './lib/check.mjs';
import { applyEvents, listAll, liveState, MixedWriter, recordsOf, rveOfPacket, stateOfList } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';
import { seedFromEnv } from './lib/workload.mjs';

const BATCH = 50;

/** The current products and levels from the list API, keyed like the packets. */
async function apiState(srv, { location } = {}) {
  const products = (await listAll(srv, 'Products')).records;
  const levels = (await listAll(srv, 'StockLevels', location ? { location } : {})).records;
  return { ...stateOfList('Products', products), ...stateOfList('Levels', levels) };
}

/**
 * Splits a snapshot stream's events: the snapshot packets (up to and including the first event
 * with an id), the events after it and before ready, and ready.
 */
function splitSnapshot(events) {
  const last = events.findIndex((e) => e.id !== undefined);
  const ready = events.findIndex((e) => e.event === 'ready');
  assert.ok(last >= 0 && last < ready, 'the snapshot ends with an event carrying an id, before ready');
  return { snapshot: events.slice(0, last + 1), changes: events.slice(last + 1, ready), ready: events[ready] };
}

/** Every snapshot packet: known type, at most BATCH records, no id but on the last, RVEs <= its id. */
function checkSnapshotPackets(snapshot) {
  const at = snapshot.at(-1).id;
  assert.match(at, RVE_TEXT);
  snapshot.forEach((e, i) => {
    assert.ok(['products', 'levels'].includes(e.event), `a snapshot packet of a wanted type: ${e.event}`);
    assert.equal(e.id, i === snapshot.length - 1 ? at : undefined, `only the last snapshot packet has an id (packet ${i})`);
    const { records } = recordsOf(e);
    assert.ok(records.length <= BATCH, `at most replay_batch = ${BATCH} records in a packet: ${records.length}`);
    for (const r of records) {
      assert.match(r.RVE, RVE_TEXT, 'each record carries its own RVE');
      assert.ok(r.RVE <= at, `a snapshot record is not newer than the snapshot: ${r.RVE} > ${at}`);
      assert.notEqual(r.Deleted, 1, 'a snapshot shows what exists, no tombstones');
    }
  });
  return at;
}

describe('snapshot', () => {
  let srv;
  const seed = seedFromEnv();
  let writer;

  before(async () => {
    // The mixed writer below writes as fast as the server answers: lift the per-credential
    // write rate limit (1,000/s by default), which is not what this file tests.
    srv = await startServer({
      config: `[feed]\nreplay_batch = ${BATCH}\n[limits]\nwrites_per_second = 1000000\nwrite_burst = 1000000\n`,
    });
    writer = new MixedWriter(srv, { seed });
    // A catalogue of a few hundred products and levels, some deleted, so a snapshot spans many
    // packets of both types.
    await writer.run({ count: 2000, concurrency: 8 });
    assert.ok(writer.counts.delete > 50 && writer.counts.create > 300, JSON.stringify(writer.counts));
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('an idle snapshot: packets of current state, id only on the last (the newest RVE), then ready', async () => {
    const s = openStream(srv, { query: 'want=products,levels&snapshot=1' });
    try {
      await s.ready();
      const { snapshot, changes, ready } = splitSnapshot(s.events);
      const at = checkSnapshotPackets(snapshot);
      assert.equal(at, writer.newest, 'an idle snapshot is at the newest RVE');
      assert.deepEqual(changes, [], 'nothing changed after it');
      assert.equal(parseKeepingRve(ready.data).Ready[0].RVE, writer.newest);
      assert.equal(ready.id, undefined);
      const expected = await apiState(srv);
      const n = Object.keys(expected).length;
      assert.ok(snapshot.length >= Math.ceil(n / BATCH), `${n} records in ${snapshot.length} packets`);
      assert.deepEqual(liveState(applyEvents(new Map(), snapshot)), expected, 'the snapshot is the current state');
      const count = snapshot.reduce((k, e) => k + recordsOf(e).records.length, 0);
      assert.equal(count, n, 'every record exactly once');
      // Types come one after the other, products first as wanted.
      const types = snapshot.map((e) => e.event);
      assert.deepEqual(types, [...types].sort((x, y) => (x === y ? 0 : x === 'products' ? -1 : 1)));
    } finally {
      s.close();
    }
  });

  test('location= restricts levels in a snapshot, not products', async () => {
    const s = openStream(srv, { query: 'want=products,levels&snapshot=1&location=2' });
    try {
      await s.ready();
      const { snapshot } = splitSnapshot(s.events);
      checkSnapshotPackets(snapshot);
      const levels = snapshot.filter((e) => e.event === 'levels').flatMap((e) => recordsOf(e).records);
      assert.ok(levels.length > 10);
      assert.deepEqual([...new Set(levels.map((r) => r.Location))], [2]);
      assert.deepEqual(liveState(applyEvents(new Map(), snapshot)), await apiState(srv, { location: 2 }));
    } finally {
      s.close();
    }
  });

  test('snapshot=1 with a Last-Event-ID resumes from it instead of snapshotting (a browser reconnects with the URL it first opened)', async () => {
    const from = writer.committed.map((c) => c.rve).sort().at(-40);
    const expected = writer.committedAfter(from);
    assert.equal(expected.length, 39);
    for (const query of ['want=products,levels&snapshot=1', 'want=products,levels&snapshot=1&rve=0']) {
      const s = openStream(srv, { query, lastEventId: from });
      try {
        const ready = await s.ready();
        const before = s.events.slice(0, s.events.indexOf(ready));
        assertSameSequence(logEventsOf(before), expected, `${query} with Last-Event-ID ${from}`);
      } finally {
        s.close();
      }
    }
  });

  test('a snapshot taken while writes continue, followed by the changes after it, equals the final state', async (t) => {
    const stop = new AbortController();
    const running = writer.run({ signal: stop.signal, concurrency: 4 });
    let s;
    try {
      await new Promise((r) => setTimeout(r, 150));
      s = openStream(srv, { query: 'want=products,levels&snapshot=1' });
      await s.ready({ timeoutMs: 20000 });
      await new Promise((r) => setTimeout(r, 400)); // live changes after ready too
    } finally {
      stop.abort();
      await running;
    }
    try {
      await s.waitFor((x) => x.lastEventId === writer.newest, { what: `the last write ${writer.newest}`, timeoutMs: 20000 });
      await new Promise((r) => setTimeout(r, 100)); // idle: anything extra would show now
      const { snapshot, changes } = splitSnapshot(s.events);
      const at = checkSnapshotPackets(snapshot);
      const afterReady = s.events.slice(s.events.indexOf(s.named('ready')[0]) + 1);
      const followed = logEventsOf([...changes, ...afterReady]);
      t.diagnostic(
        `seed ${seed}: ${snapshot.length} snapshot packets at ${at}, ${changes.length} replayed, ` +
          `${afterReady.length} live; writes ${JSON.stringify(writer.counts)}`,
      );
      assert.ok(snapshot.length > 10, `the snapshot spans many packets: ${snapshot.length}`);
      assert.ok(at < writer.newest, 'writes committed after the snapshot RVE');
      assert.ok(afterReady.length > 5, 'writes committed after ready');
      // After the snapshot: exactly the committed changes after its RVE, once each, in order.
      assertSameSequence(followed, writer.committedAfter(at), `changes after the snapshot (seed ${seed})`);
      // The snapshot is the state at its RVE: the same as folding the log up to it.
      const log = openStream(srv, { query: 'want=products,levels&rve=0' });
      try {
        const ready = await log.ready();
        const upTo = log.events.slice(0, log.events.indexOf(ready)).filter((e) => rveOfPacket(e) <= at);
        assert.deepEqual(
          liveState(applyEvents(new Map(), snapshot)),
          liveState(applyEvents(new Map(), upTo)),
          'the snapshot is the state at its RVE',
        );
      } finally {
        log.close();
      }
      // Snapshot, then the changes: the final state.
      const folded = liveState(applyEvents(new Map(), s.events));
      assert.deepEqual(folded, await apiState(srv), `snapshot + changes = the final state (seed ${seed})`);
      assert.ok(rvesIn(s.raw).every((r) => r <= writer.newest));
    } finally {
      s.close();
    }
  });
});
