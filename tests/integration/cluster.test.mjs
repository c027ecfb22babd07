// Several nodes on one PostgreSQL (SPEC 8): writers spread over three nodes while subscribers on
// each receive; subscribers that move to another node on every reconnect; a node SIGKILLed
// mid-stream, its subscribers resuming elsewhere with their Last-Event-ID. Writes to one
// RmSystem go through every node at once. Each subscriber must end with exactly the committed
// sequence, in strictly increasing RVE order, no gap, no duplicate.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { sleep } from './lib/api.mjs';
import { assertSameSequence, rveType } from './lib/check.mjs';
import { startCluster, startPostgres } from './lib/cluster.mjs';
import { subscribe } from './lib/subscriber.mjs';
import { logOf } from './lib/truth.mjs';
import { rng, seedFromEnv, Workload } from './lib/workload.mjs';

const WANTS = [['products'], ['levels'], ['products', 'levels'], ['customers', 'products'], ['customers'], ['levels', 'customers', 'products']];
const CONFIG = '[limits]\nwrites_per_second = 1000000\nwrite_burst = 1000000\n';

/** Asserts strictly increasing RVEs (no duplicate, no reordering). */
function assertIncreasing(list, label) {
  for (let i = 1; i < list.length; i += 1) {
    assert.ok(list[i - 1].rve <= list[i].rve, `${label}: ${list[i - 1].rve} then ${list[i].rve} at ${i}`);
  }
}

/**
 * Subscribers for every WANTS entry (the i-th on node i % 3, or moving), a workload of `writes`
 * spread over the nodes; `during(work)` runs while they go on. Returns the results.
 */
async function scenario(t, cluster, { seed, writes, move = false, retry = false, during, pin }) {
  const nodes = cluster.nodes;
  // The database is shared by the tests of this file: each starts after what the last left.
  const from = (await logOf(nodes[0], { key: cluster.key, want: ['products', 'levels', 'customers'] })).at(-1)?.rve ?? '0';
  const work = new Workload(nodes[0], { seed, servers: nodes, retry });
  const stop = new AbortController();
  const subscribers = WANTS.map((want, i) => {
    const order = pin ? pin(i) : [...nodes.slice(i % nodes.length), ...nodes.slice(0, i % nodes.length)];
    return subscribe(order[0], { key: cluster.key, want, random: rng(seed + i + 1), stop: stop.signal, nodes: order, move, from });
  });
  const started = Date.now();
  try {
    await Promise.all([work.run({ count: writes, concurrency: 8 }), during?.(work)]);
  } finally {
    stop.abort();
  }
  const results = await Promise.all(subscribers);
  const summary = results.map((r) => `${r.want}: ${r.confirmed.length} events, ${r.connections} connections on ${r.nodes} nodes`);
  t.diagnostic(`seed ${seed}; writes took ${Date.now() - started} ms (${work.retried} retried); ${summary.join('; ')}`);
  return { work, results, summary, from };
}

describe('several nodes on one PostgreSQL', () => {
  const seed = seedFromEnv();
  let pg;
  let cluster;

  before(async () => {
    pg = await startPostgres();
    cluster = await startCluster(pg, { nodes: 3, config: CONFIG });
  });

  after(async () => {
    await cluster?.cleanup();
    await pg?.cleanup();
  });

  test('writers through all three nodes, subscribers on each: every subscriber gets exactly the committed sequence', async (t) => {
    const { work, results, summary } = await scenario(t, cluster, { seed, writes: 1500 });
    assert.equal(new Set(work.committed.map((c) => c.rve)).size, 1500, 'every write has its own RVE, whichever node took it');
    for (const r of results) {
      assert.deepEqual(r.problems, [], `want=${r.want}`);
      assertIncreasing(r.confirmed, `want=${r.want}`);
      assertSameSequence(r.confirmed, rveType(work.expected(r.want)), `want=${r.want} (seed ${seed}; ${summary.join('; ')})`);
    }
  });

  test('subscribers that move to another node on every reconnect miss nothing and repeat nothing', async (t) => {
    const { work, results, summary } = await scenario(t, cluster, { seed: seed + 50, writes: 1500, move: true });
    for (const r of results) {
      assert.deepEqual(r.problems, [], `want=${r.want}`);
      assert.ok(r.nodes >= 2, `want=${r.want} used several nodes: ${r.nodes}`);
      assertSameSequence(r.confirmed, rveType(work.expected(r.want)), `want=${r.want} (seed ${seed + 50}; ${summary.join('; ')})`);
    }
  });

  test('a node SIGKILLed mid-stream: its subscribers resume on another node with their Last-Event-ID', async (t) => {
    const victim = cluster.nodes[2];
    // Every subscriber starts on the victim, then fails over to the others.
    const pin = () => [victim, cluster.nodes[0], cluster.nodes[1]];
    const { work, results, summary, from } = await scenario(t, cluster, {
      seed: seed + 100,
      writes: 1500,
      retry: true, // writes in flight to the victim are sent again elsewhere
      pin,
      during: async (w) => {
        while (w.committed.length < 500) {
          await sleep(10);
        }
        await victim.kill();
      },
    });
    for (const r of results) {
      assert.deepEqual(r.problems, [], `want=${r.want}`);
      assert.ok(r.nodes >= 2, `want=${r.want} moved off the killed node: ${r.nodes}`);
      // The log is the truth: a write cut by the kill may have committed unacknowledged.
      const log = (await logOf(cluster.nodes[0], { key: cluster.key, want: r.want })).filter((e) => e.rve > from);
      const acked = new Set(work.expected(r.want).map((c) => `${c.rve} ${c.type}`));
      const logged = new Set(log.map((c) => `${c.rve} ${c.type}`));
      assert.ok([...acked].every((k) => logged.has(k)), `want=${r.want}: every acknowledged write is in the log`);
      assertIncreasing(r.confirmed, `want=${r.want}`);
      assertSameSequence(r.confirmed, log, `want=${r.want} (seed ${seed + 100}; ${summary.join('; ')})`);
    }
    await victim.start(); // for the tests after this one
  });
});
