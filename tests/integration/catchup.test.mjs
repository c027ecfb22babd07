// Resume points outside the kept history (SPEC 3, 8): a cursor older than the history gets
// `reset` history_expired, then the latest state of every record changed since it (tombstones
// included) and the sales since it, then ready and live; a cursor after the newest RVE gets
// `reset` cursor_ahead and a snapshot.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, parseKeepingRve, write } from './lib/api.mjs';
import { applyEvents, dataOf, listAll, liveState, recordsOf, stateOfList, until } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

const BATCH = 2; // catch-up packets of 2 records: several packets per type

/** Opens a stream, waits for ready; returns {stream, events (before ready), ready (parsed)}. */
async function upToReady(srv, options) {
  const s = openStream(srv, options);
  const ready = await s.ready();
  return { stream: s, events: s.events.slice(0, s.events.indexOf(ready)), ready: parseKeepingRve(ready.data).Ready[0] };
}

describe('catch-up and reset', () => {
  let srv;
  let cursor; // an RVE whose history gets pruned
  const w = {}; // writes, by name

  before(async () => {
    srv = await startServer({
      config: `[history]\nkeep_ms = 1500\nprune_interval_ms = 200\n[feed]\nreplay_batch = ${BATCH}\n`,
    });
    // Before the cursor: a product, its stock, a customer and a sale that stay unchanged.
    w.d = await write(srv, 'POST', 'Products', { Description: 'D', Price: 1 });
    w.k0 = await write(srv, 'POST', 'Customers', { Name: 'K0' });
    w.ld = await write(srv, 'POST', 'StockAdjustments', { Pid: w.d.json.data.Pid, Location: 1, Set: 10 });
    w.s0 = await write(srv, 'POST', 'Sales', { Location: 1, Lines: [{ Pid: w.d.json.data.Pid, Qty: 1 }] });
    cursor = w.s0.rve;
    // After it: a product created and edited twice, one created and deleted, one created; a
    // customer created and edited; levels; one sale.
    w.a = await write(srv, 'POST', 'Products', { Description: 'A', Price: 2 });
    const a = w.a.json.data.Pid;
    w.a1 = await write(srv, 'PATCH', `Products/${a}`, { Price: 2.5 });
    w.a2 = await write(srv, 'PATCH', `Products/${a}`, { Colour: 'Green' });
    w.b = await write(srv, 'POST', 'Products', { Description: 'B', Price: 3 });
    w.bDel = await write(srv, 'DELETE', `Products/${w.b.json.data.Pid}`);
    w.c = await write(srv, 'POST', 'Products', { Description: 'C', Price: 4 });
    w.k = await write(srv, 'POST', 'Customers', { Name: 'K' });
    w.k1 = await write(srv, 'PATCH', `Customers/${w.k.json.data.Cid}`, { Email: 'k@example.com' });
    w.la = await write(srv, 'POST', 'StockAdjustments', { Pid: a, Location: 1, Set: 5 });
    w.lc = await write(srv, 'POST', 'StockAdjustments', { Pid: w.c.json.data.Pid, Location: 2, Set: 20 });
    w.s1 = await write(srv, 'POST', 'Sales', {
      Location: 2,
      Cid: w.k.json.data.Cid,
      Lines: [
        { Pid: a, Qty: 1 },
        { Pid: w.c.json.data.Pid, Qty: 2 },
      ],
    });
    // Wait until the history after the cursor has been pruned: a stream resuming from it is reset.
    await until(
      async () => {
        const r = await upToReady(srv, { query: `want=products&rve=${cursor}` });
        r.stream.close();
        return r.events.some((e) => e.event === 'reset');
      },
      'the history after the cursor to be pruned',
      { timeoutMs: 15000, everyMs: 200 },
    );
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('a cursor older than the history: reset history_expired, the latest state of each record changed since, sales since, ready, live', async () => {
    const { stream, events, ready } = await upToReady(srv, {
      query: 'want=products,customers,levels,sales',
      lastEventId: cursor,
    });
    try {
      const [reset, ...catchup] = events;
      assert.equal(reset.event, 'reset', `the stream starts with reset: ${stream.raw.slice(0, 500)}`);
      assert.equal(reset.data, `{"Reset":[{"Reason":"history_expired","From":${cursor}}]}`);
      assert.equal(reset.id, undefined, 'reset carries no id');
      assert.ok(catchup.length >= 4, `several catch-up packets: ${catchup.length}`);
      assert.ok(!catchup.some((e) => e.event === 'reset'));

      // One entry per record changed since the cursor, with its latest values. (That records at
      // the cursor itself are left out is checked by its own test below.)
      const records = catchup
        .flatMap((e) => recordsOf(e).records.map((r) => [e.event, r]))
        .filter(([, r]) => r.RVE !== cursor);
      for (const e of catchup) {
        assert.ok(recordsOf(e).records.length <= BATCH, `at most ${BATCH} records per packet`);
        for (const r of recordsOf(e).records) {
          assert.ok(r.RVE >= cursor, `nothing older than the cursor: ${e.data}`);
        }
      }
      const state = new Map([...applyEvents(new Map(), catchup)].filter(([, r]) => r.RVE !== cursor));
      assert.equal(records.length, state.size, `one entry per record: ${records.map(([t, r]) => `${t} ${JSON.stringify(r)}`).join('\n')}`);
      const a = w.a.json.data.Pid;
      const c = w.c.json.data.Pid;
      const pb = w.b.json.data.Pid;
      assert.deepEqual(
        [...state.keys()].sort(),
        [`P${a}`, `P${pb}`, `P${c}`, `C${w.k.json.data.Cid}`, `L${a}@1`, `L${a}@2`, `L${c}@2`, `S${w.s1.json.data.Sid}`].sort(),
        'the records changed since the cursor, and only those (not D, K0, D@1 or the sale before)',
      );
      assert.deepEqual(state.get(`P${a}`), dataOf(await api(srv, 'GET', `Products/${a}`)), 'A with both edits');
      assert.equal(state.get(`P${a}`).RVE, w.a2.rve);
      assert.deepEqual(state.get(`P${pb}`), dataOf(w.bDel), 'B as a tombstone');
      assert.equal(state.get(`P${pb}`).Deleted, 1);
      assert.deepEqual(state.get(`P${c}`), dataOf(w.c));
      assert.deepEqual(state.get(`C${w.k.json.data.Cid}`), dataOf(w.k1));
      assert.deepEqual(state.get(`S${w.s1.json.data.Sid}`), dataOf(w.s1));
      const levels = (await listAll(srv, 'StockLevels', { since: cursor })).records;
      assert.deepEqual(
        Object.fromEntries([...state].filter(([k]) => k.startsWith('L'))),
        stateOfList('Levels', levels),
      );
      // Framing: id only on the last catch-up packet, at the newest RVE; ready names it.
      catchup.forEach((e, i) => {
        assert.equal(e.id, i === catchup.length - 1 ? w.s1.rve : undefined, `id on the last catch-up packet only (${i})`);
      });
      assert.equal(ready.RVE, w.s1.rve);
      assert.deepEqual(ready.Want, ['products', 'customers', 'levels', 'sales']);

      // Live.
      const e = await write(srv, 'POST', 'Products', { Description: 'E after the catch-up' });
      await stream.waitFor((s) => s.lastEventId === e.rve, { what: `live event ${e.rve}` });
      const liveEvents = stream.events.slice(stream.events.indexOf(stream.named('ready')[0]) + 1);
      assert.deepEqual(
        liveEvents.map((x) => [x.event, x.id]),
        [['products', e.rve]],
      );
      assert.deepEqual(recordsOf(liveEvents[0]).records, [dataOf(e)]);
      w.e = e;
    } finally {
      stream.close();
    }
  });

  test('the catch-up sends only the wanted types (no sales unless wanted), from rve= as from Last-Event-ID', async () => {
    const { stream, events, ready } = await upToReady(srv, { query: `want=products&rve=${cursor}` });
    stream.close();
    assert.equal(events[0].data, `{"Reset":[{"Reason":"history_expired","From":${cursor}}]}`);
    const catchup = events.slice(1);
    assert.deepEqual([...new Set(catchup.map((e) => e.event))], ['products']);
    const state = applyEvents(new Map(), catchup);
    const a = w.a.json.data.Pid;
    const since = (await listAll(srv, 'Products', { since: cursor })).records;
    assert.deepEqual(Object.fromEntries(state), stateOfList('Products', since), 'as Products?since= lists them');
    assert.ok(state.has(`P${a}`) && state.has(`P${w.e.json.data.Pid}`));
    assert.equal(catchup.at(-1).id, w.e.rve);
    assert.equal(ready.RVE, w.e.rve);

    const sales = await upToReady(srv, { query: 'want=sales', lastEventId: cursor });
    sales.stream.close();
    assert.equal(sales.events[0].event, 'reset');
    assert.deepEqual(
      sales.events
        .slice(1)
        .flatMap((e) => recordsOf(e).records)
        .filter((r) => r.RVE !== cursor),
      [dataOf(w.s1)],
      'the sales since the cursor',
    );
    // The group of the sale is in the past: its id closes the catch-up at the newest RVE.
    assert.equal(sales.events.at(-1).id, w.e.rve);
  });

  test(
    'the catch-up leaves out the records at the cursor itself: the client has that group (the sale at the cursor is not sent twice)',
    async () => {
      const { stream, events } = await upToReady(srv, { query: 'want=products,customers,levels,sales', lastEventId: cursor });
      stream.close();
      assert.equal(events[0].event, 'reset');
      const atCursor = events.slice(1).flatMap((e) => recordsOf(e).records.filter((r) => r.RVE <= cursor));
      assert.deepEqual(atCursor, [], 'records changed at or before the cursor are not in the catch-up');
      // As the list API does it: since= is exclusive.
      assert.ok(!(await listAll(srv, 'Sales', { since: cursor })).records.some((r) => r.RVE === cursor));
    },
  );

  test('a cursor after the newest RVE: reset cursor_ahead, a snapshot of the current state, ready, live', async () => {
    const ahead = '20991231.235959999';
    const { stream, events, ready } = await upToReady(srv, { query: 'want=products,levels', lastEventId: ahead });
    try {
      assert.equal(events[0].event, 'reset');
      assert.equal(events[0].data, `{"Reset":[{"Reason":"cursor_ahead","From":${ahead}}]}`);
      assert.equal(events[0].id, undefined);
      const snapshot = events.slice(1);
      assert.ok(snapshot.length >= 2);
      const state = applyEvents(new Map(), snapshot);
      const products = (await listAll(srv, 'Products')).records;
      const levels = (await listAll(srv, 'StockLevels')).records;
      assert.ok(products.some((p) => p.Pid === w.d.json.data.Pid), 'records older than any cursor are in the snapshot');
      assert.deepEqual(liveState(state), { ...stateOfList('Products', products), ...stateOfList('Levels', levels) });
      assert.equal(state.size, products.length + levels.length, 'no tombstones in a snapshot');
      snapshot.forEach((e, i) => {
        assert.equal(e.id, i === snapshot.length - 1 ? w.e.rve : undefined);
      });
      assert.equal(ready.RVE, w.e.rve);
      // Live: both types.
      const p = await write(srv, 'POST', 'Products', { Description: 'after cursor_ahead' });
      const l = await write(srv, 'POST', 'StockAdjustments', { Pid: p.json.data.Pid, Location: 3, Delta: 4 });
      await stream.waitFor((s) => s.lastEventId === l.rve, { what: `live event ${l.rve}` });
      const liveEvents = stream.events.slice(stream.events.indexOf(stream.named('ready')[0]) + 1);
      assert.deepEqual(
        liveEvents.map((x) => [x.event, x.id]),
        [
          ['products', p.rve],
          ['levels', l.rve],
        ],
      );
    } finally {
      stream.close();
    }
  });
});
