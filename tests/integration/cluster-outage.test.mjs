// Several nodes when PostgreSQL goes away (issue: "The database goes away"): /healthz fails,
// writes answer 503 with a clear message within seconds, open streams stay open and catch up
// when it is back, writes succeed again without restarting a node; and PostgreSQL restarted in
// the middle of a run of writes and resuming subscribers loses nothing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, request, sleep, write } from './lib/api.mjs';
import { assertSameSequence, logEventsOf } from './lib/check.mjs';
import { startCluster, startPostgres } from './lib/cluster.mjs';
import { assertError, until } from './lib/records.mjs';
import { openStream } from './lib/sse.mjs';
import { subscribe } from './lib/subscriber.mjs';
import { logOf } from './lib/truth.mjs';
import { rng, seedFromEnv, Workload } from './lib/workload.mjs';

const CONFIG = '[limits]\nwrites_per_second = 1000000\nwrite_burst = 1000000\n';

describe('PostgreSQL goes away', () => {
  const seed = seedFromEnv();
  let pg;
  let cluster;

  before(async () => {
    pg = await startPostgres();
    cluster = await startCluster(pg, { nodes: 2, config: CONFIG });
  });

  after(async () => {
    if (process.env.POSFEED_TEST_LOGS) {
      for (const n of cluster?.nodes ?? []) {
        console.log(n.tail(60));
      }
    }
    await cluster?.cleanup();
    await pg?.cleanup();
  });

  test('while it is down: /healthz fails, writes answer 503 at once, open streams stay open and catch up after; writes work again', async (t) => {
    const [a, b] = cluster.nodes;
    const before = await write(a, 'POST', 'Products', { Description: 'before', Price: 1 });
    const s = openStream(a, { key: cluster.key, query: `want=products&rve=${before.rve}` });
    await s.ready({ timeoutMs: 20000 });
    t.after(() => pg.start().catch(() => {})); // the next test needs it, whatever happens here
    assert.equal((await request(a, { path: '/healthz' })).status, 200);

    await pg.stop();
    await until(async () => (await request(a, { path: '/healthz' })).status === 503, '/healthz failing');
    // Writes are refused with a clear message, not left hanging (the request's own timeout
    // would fail this test long before its deadline).
    const refused = await api(b, 'POST', 'Products', { Description: 'during', Price: 2 }, { key: cluster.key });
    assertError(refused, 503, 'unavailable', ['database']);
    assert.ok(refused.headers['retry-after'], 'a 503 says when to retry');
    await sleep(1500); // several safety polls and reconnect attempts while it is down
    assert.equal(s.done, false, 'the open stream stays open while the database is down');

    await pg.start();
    // Writes succeed again on both nodes without restarting them (the first may still find
    // the old connections broken, so retry briefly).
    let after;
    await until(async () => {
      after = await api(b, 'POST', 'Products', { Description: 'after', Price: 3 }, { key: cluster.key });
      return after.status === 201;
    }, 'a write to succeed again');
    await until(async () => (await request(a, { path: '/healthz' })).status === 200, '/healthz on node a');
    // The stream on node a, open throughout, receives the write made through node b.
    await s.waitFor((x) => x.events.some((e) => e.id === after.rve), { what: `the write at ${after.rve}`, timeoutMs: 20000 });
    const got = logEventsOf(s.events.filter((e) => e.event === 'products'));
    assert.deepEqual(
      got.map((e) => e.rve),
      [after.rve],
      'exactly the write committed after the outage (the refused one was never committed)',
    );
    s.close();
  });

  test('PostgreSQL restarted in the middle of writes and resuming subscribers: each ends with exactly the committed sequence', async (t) => {
    const nodes = cluster.nodes;
    const from = (await logOf(nodes[0], { key: cluster.key, want: ['products', 'levels', 'customers'] })).at(-1)?.rve ?? '0';
    const work = new Workload(nodes[0], { seed, servers: nodes, retry: true });
    const stop = new AbortController();
    const wants = [['products'], ['levels', 'customers', 'products'], ['customers']];
    const subscribers = wants.map((want, i) =>
      subscribe(nodes[i % 2], { key: cluster.key, want, random: rng(seed + i), stop: stop.signal, nodes: [nodes[i % 2], nodes[(i + 1) % 2]], from }),
    );
    try {
      await Promise.all([
        work.run({ count: 1200, concurrency: 8 }),
        (async () => {
          while (work.committed.length < 400) {
            await sleep(10);
          }
          await pg.restart();
        })(),
      ]);
    } finally {
      stop.abort();
    }
    const results = await Promise.all(subscribers);
    t.diagnostic(`seed ${seed}; ${work.retried} writes retried; ${results.map((r) => `${r.want}: ${r.confirmed.length} events, ${r.connections} connections`).join('; ')}`);
    assert.ok(work.retried > 0, 'some writes met the restart and were retried');
    for (const r of results) {
      assert.deepEqual(r.problems, [], `want=${r.want}`);
      const log = (await logOf(nodes[0], { key: cluster.key, want: r.want })).filter((e) => e.rve > from);
      const logged = new Set(log.map((c) => `${c.rve} ${c.type}`));
      assert.ok(work.expected(r.want).every((c) => logged.has(`${c.rve} ${c.type}`)), `want=${r.want}: every acknowledged write is in the log`);
      assertSameSequence(r.confirmed, log, `want=${r.want} (seed ${seed})`);
    }
    const m = (await request(nodes[0], { path: '/metrics' })).text;
    assert.match(m, /posfeed_store_listen_reconnects_total [1-9]/, 'the LISTEN connection was made again');
  });
});
