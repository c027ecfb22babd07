// Resume points (SPEC 3): rve=, Last-Event-ID and which wins, exact replay, and the hand-over
// from replay to live while writes commit.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { parseKeepingRve, sleep } from './lib/api.mjs';
import { assertSameSequence, logEventsOf, rveType } from './lib/check.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';
import { seedFromEnv, Workload } from './lib/workload.mjs';

const ALL = ['products', 'customers', 'levels'];

/** Opens a stream, waits for ready, closes it; returns {events (log events before ready), ready}. */
async function replay(srv, options) {
  const s = openStream(srv, options);
  try {
    const ready = await s.ready();
    const before = s.events.slice(0, s.events.indexOf(ready));
    return { events: logEventsOf(before), ready: parseKeepingRve(ready.data).Ready[0], stream: s };
  } finally {
    s.close();
  }
}

describe('resume', () => {
  let srv;
  let work;
  const seed = seedFromEnv();

  before(async () => {
    srv = await startServer();
    work = new Workload(srv, { seed });
    // 10 rounds of: a product, its stock, a customer, a product edit (40 transactions).
    for (let i = 0; i < 10; i += 1) {
      const p = await work.createProduct();
      await work.adjustStock(p.json.data.Pid);
      await work.createCustomer();
      await work.patchProduct();
    }
    assert.equal(new Set(work.committed.map((c) => c.rve)).size, 40, 'every transaction has its own RVE');
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('rve=0 replays every wanted event in order, then ready names the last one sent', async () => {
    const all = await replay(srv, { query: `want=${ALL.join(',')}&rve=0` });
    assertSameSequence(all.events, rveType(work.expected(ALL)), `rve=0 (seed ${seed})`);
    assert.equal(all.ready.RVE, work.newest());
    assert.deepEqual(all.ready.Want, ALL);

    const levels = await replay(srv, { query: 'want=levels&rve=0' });
    const expected = work.expected(['levels']);
    assert.ok(expected.length > 0);
    assertSameSequence(levels.events, rveType(expected), 'rve=0, levels only');
    assert.equal(levels.ready.RVE, work.newest(), 'ready names the newest RVE read, wanted or not');
  });

  test('resuming from an id replays exactly the later events', async () => {
    const expected = work.expected(ALL);
    for (const k of [0, 1, 17, expected.length - 2, expected.length - 1]) {
      const from = expected[k].rve;
      const r = await replay(srv, { query: `want=${ALL.join(',')}`, lastEventId: from });
      assertSameSequence(r.events, rveType(expected.slice(k + 1)), `Last-Event-ID ${from} (index ${k})`);
      assert.equal(r.ready.RVE, work.newest());
      const q = await replay(srv, { query: `want=${ALL.join(',')}&rve=${from}` });
      assertSameSequence(q.events, rveType(expected.slice(k + 1)), `rve=${from} (index ${k})`);
    }
  });

  test('a resume point between wanted events replays the wanted ones after it', async () => {
    const customer = work.expected(['customers'])[3];
    const products = work.expected(['products']).filter((p) => p.rve > customer.rve);
    assert.ok(products.length > 0);
    const r = await replay(srv, { query: 'want=products', lastEventId: customer.rve });
    assertSameSequence(r.events, rveType(products), 'products after a customers RVE');
  });

  test('Last-Event-ID wins over rve=', async () => {
    const expected = work.expected(ALL);
    const later = await replay(srv, { query: `want=${ALL.join(',')}&rve=0`, lastEventId: expected[10].rve });
    assertSameSequence(later.events, rveType(expected.slice(11)), 'header later than rve=');
    const earlier = await replay(srv, {
      query: `want=${ALL.join(',')}&rve=${expected[30].rve}`,
      lastEventId: expected[2].rve,
    });
    assertSameSequence(earlier.events, rveType(expected.slice(3)), 'header earlier than rve=');
  });

  test('without a resume point nothing is replayed: ready names the newest, then live events', async () => {
    const s = openStream(srv, { query: 'want=products,levels' });
    try {
      const ready = await s.ready();
      assert.equal(s.events[0], ready, 'ready comes first');
      assert.equal(parseKeepingRve(ready.data).Ready[0].RVE, work.newest());
      assert.equal(ready.id, undefined, 'ready carries no id');
      const p = await work.createProduct();
      const l = await work.adjustStock(p.json.data.Pid, 1);
      await s.waitFor((x) => x.lastEventId === l.rve, { what: `live event ${l.rve}` });
      assertSameSequence(logEventsOf(s.events), rveType([work.committed.at(-2), work.committed.at(-1)]), 'live');
    } finally {
      s.close();
    }
  });

  test(
    'a resume point after the newest RVE answers reset cursor_ahead before ready',
    async () => {
      const s = openStream(srv, { query: 'want=products', lastEventId: '20991231.235959999' });
      try {
        const ready = await s.ready();
        const reset = s.events.find((e) => e.event === 'reset');
        assert.ok(
          reset && s.events.indexOf(reset) < s.events.indexOf(ready),
          `a reset event before ready; got:\n${s.raw}`,
        );
        assert.equal(parseKeepingRve(reset.data).Reset[0].Reason, 'cursor_ahead');
        assert.equal(reset.id, undefined);
        assert.ok(
          parseKeepingRve(ready.data).Ready[0].RVE <= work.newest(),
          'ready never names an RVE the log does not have',
        );
        // Above all, the subscriber is live: a change committed now reaches it.
        const p = await work.createProduct();
        await s.waitFor((x) => x.lastEventId === p.rve, { what: `live event ${p.rve}`, timeoutMs: 3000 });
      } finally {
        s.close();
      }
    },
  );

  test('hand-over: streams opened with rve=0 during continuous writes get every event exactly once', async () => {
    const stop = new AbortController();
    const writer = work.run({ concurrency: 4, signal: stop.signal });
    const wants = [ALL, ['products', 'levels'], ['levels'], ALL, ['customers']];
    const streams = [];
    try {
      for (const want of wants) {
        await sleep(150);
        // One of them resumes from an id seen a moment ago rather than from 0.
        const query =
          streams.length === 3 ? `want=${want.join(',')}&rve=${work.newest()}` : `want=${want.join(',')}&rve=0`;
        const fromRve = streams.length === 3 ? work.newest() : '0';
        streams.push({ want, fromRve, s: openStream(srv, { query }) });
      }
      await sleep(300);
    } finally {
      stop.abort();
      await writer;
    }
    try {
      const newest = work.newest();
      await sleep(200); // anything that would arrive late (a duplicate) has time to
      for (const { want, fromRve, s } of streams) {
        const expected = work.expected(want).filter((e) => e.rve > fromRve);
        assert.ok(expected.length > 20, `enough writes overlapped the stream (${expected.length})`);
        const last = expected.at(-1).rve;
        await s.waitFor((x) => x.lastEventId >= last, { what: `event ${last}`, timeoutMs: 20000 });
        assert.ok(s.named('ready').length === 1);
        assertSameSequence(logEventsOf(s.events), rveType(expected), `want=${want} from ${fromRve} (seed ${seed})`);
        assert.ok(parseKeepingRve(s.named('ready')[0].data).Ready[0].RVE <= newest);
      }
    } finally {
      for (const { s } of streams) {
        s.close();
      }
    }
  });
});
