// Many subscribers that drop their connections at random points and resume with Last-Event-ID
// while a writer commits thousands of changes with several requests in flight: each must end
// with exactly the committed sequence of its wanted types (SPEC 1 "never silently miss a
// change", SPEC 3 resume rules).

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { rvesIn, sleep } from './lib/api.mjs';
import { assertSameSequence, rveType } from './lib/check.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';
import { rng, seedFromEnv, Workload } from './lib/workload.mjs';

const WRITES = 3000;
const WANTS = [
  ['products'],
  ['levels'],
  ['products', 'levels'],
  ['customers', 'products'],
  ['customers'],
  ['levels', 'customers', 'products'],
];

/**
 * A subscriber that behaves like a careful integrator: it keeps an event only once the `id:`
 * that closes its group has arrived, drops the connection at random points, and resumes with
 * Last-Event-ID = the last id seen. After `stop` is aborted it makes one last connection, reads
 * up to ready, and resolves with what it has.
 */
async function subscribe(srv, { key, want, random, stop, slow }) {
  const confirmed = []; // {rve, type}
  const problems = [];
  let lastId;
  let connections = 0;
  let refused = 0;
  while (true) {
    const final = stop.aborted;
    const s = openStream(srv, { key, query: `want=${want.join(',')}&rve=0`, lastEventId: lastId });
    try {
      await s.response;
    } catch (e) {
      problems.push(`connection failed: ${e.message}`);
      if (final || problems.length > 20) {
        break;
      }
      await sleep(20);
      continue;
    }
    if (s.status === 429) {
      refused += 1;
      s.close();
      if (refused > 100) {
        problems.push('refused with 429 more than 100 times');
        break;
      }
      await sleep(50);
      continue;
    }
    if (s.status !== 200) {
      await s.ended;
      problems.push(`status ${s.status}: ${s.raw}`);
      break;
    }
    connections += 1;
    let tentative = []; // events of a group whose id has not arrived yet
    let handled = 0;
    let ready = false;
    const handle = () => {
      for (; handled < s.events.length; handled += 1) {
        const e = s.events[handled];
        if (e.event === 'ready') {
          ready = true;
          if (tentative.length > 0) {
            problems.push(`ready inside a group: ${JSON.stringify(tentative)}`);
          }
          continue;
        }
        if (!want.includes(e.event)) {
          problems.push(`unwanted event ${e.event}`);
          continue;
        }
        const rves = [...new Set(rvesIn(e.data))];
        if (rves.length !== 1) {
          problems.push(`packet without exactly one RVE: ${e.data}`);
          continue;
        }
        tentative.push({ rve: rves[0], type: e.event });
        if (e.id !== undefined) {
          if (tentative.some((t) => t.rve !== e.id)) {
            problems.push(`id ${e.id} closes events of another group: ${JSON.stringify(tentative)}`);
          }
          confirmed.push(...tentative);
          tentative = [];
          lastId = e.id;
        }
      }
    };
    if (final) {
      try {
        await s.waitFor(() => (handle(), ready), { what: 'the final ready', timeoutMs: 30000 });
      } catch (e) {
        problems.push(e.message);
      }
      s.close();
      break;
    }
    const dropAfterEvents = slow ? random.int(200, 2000) : random.int(1, 400);
    // Short enough that every subscriber drops several times while the writes run (about a
    // second on a fast machine).
    const timer = setTimeout(() => s.close(), slow ? random.int(100, 500) : random.int(5, 400));
    if (slow) {
      // A slow consumer: stops reading for a while, so unsent bytes pile up on the server.
      setTimeout(
        () => {
          s.res?.pause();
          setTimeout(() => s.res?.resume(), random.int(50, 400));
        },
        random.int(0, 100),
      );
    }
    try {
      await s.waitFor(() => (handle(), handled >= dropAfterEvents), {
        what: `${dropAfterEvents} events`,
        timeoutMs: 60000,
      });
    } catch {
      // closed by the timer
    }
    clearTimeout(timer);
    s.close();
    handle();
    // What came after the last id is replayed on the next connection.
  }
  return { want, confirmed, problems, connections, refused };
}

/**
 * Runs the scenario on `srv`: subscribers for every WANTS entry, a writer of WRITES changes with
 * 8 requests in flight; asserts each subscriber's sequence.
 */
async function scenario(t, srv, { seed, slow = () => false, padding = 0 }) {
  const work = new Workload(srv, { seed, padding });
  const stop = new AbortController();
  const subscribers = [];
  for (const [i, want] of WANTS.entries()) {
    const key = await srv.createKey({ scopes: want.join(',') });
    subscribers.push(subscribe(srv, { key, want, random: rng(seed + i + 1), stop: stop.signal, slow: slow(i) }));
  }
  const started = Date.now();
  try {
    await work.run({ count: WRITES, concurrency: 8 });
  } finally {
    stop.abort();
  }
  const writeMs = Date.now() - started;
  const results = await Promise.all(subscribers);

  assert.equal(work.committed.length, WRITES);
  assert.equal(new Set(work.committed.map((c) => c.rve)).size, WRITES, 'every transaction has its own RVE');
  const summary = results.map(
    (r) => `${r.want}: ${r.confirmed.length} events, ${r.connections} connections, ${r.refused} refused`,
  );
  t.diagnostic(`seed ${seed}; writes took ${writeMs} ms; ${summary.join('; ')}`);
  for (const r of results) {
    assert.deepEqual(r.problems, [], `want=${r.want} (seed ${seed})`);
    const expected = work.expected(r.want);
    assert.ok(expected.length > 200, `want=${r.want}: ${expected.length} events`);
    assertSameSequence(r.confirmed, rveType(expected), `want=${r.want} (seed ${seed}; ${summary.join('; ')})`);
    assert.ok(
      r.connections >= 3,
      `want=${r.want} dropped and resumed several times while writes ran (${writeMs} ms): ${r.connections}`,
    );
  }
}

// The writer sends as fast as the server answers (3,000 writes in about a second): lift the
// per-credential write rate limit (1,000/s, burst 2,000), which is not what this file tests.
const UNLIMITED_WRITES = 'writes_per_second = 1000000\nwrite_burst = 1000000\n';

describe('concurrency', () => {
  const seed = seedFromEnv();
  const servers = [];

  after(async () => {
    await Promise.all(servers.map((s) => s.cleanup()));
  });

  test(`${WANTS.length} subscribers dropping and resuming at random during ${WRITES} concurrent writes get exactly the committed sequence`, async (t) => {
    const srv = await startServer({ config: `[limits]\n${UNLIMITED_WRITES}` });
    servers.push(srv);
    await scenario(t, srv, { seed });
    await srv.cleanup();
  });

  test('the same with a small per-subscriber queue and slow consumers: disconnected, they resume with nothing lost', async (t) => {
    const srv = await startServer({ config: `[limits]\nsubscriber_queue_bytes = 4096\n${UNLIMITED_WRITES}` });
    servers.push(srv);
    try {
      await scenario(t, srv, { seed: seed + 100, slow: (i) => i % 2 === 0, padding: 800 });
    } finally {
      const slowClosed = srv.logs.split('\n').filter((l) => l.includes('slow consumer')).length;
      t.diagnostic(`streams closed as slow consumers: ${slowClosed}`);
    }
    await srv.cleanup();
  });
});
