// A reconnect storm (SPEC 1 "never silently miss a change, even across the server's restarts",
// SPEC 3 resume rules, SPEC 8 SIGTERM): 2,000 subscribers are connected while writes run, the
// server is restarted under them, all reconnect with their Last-Event-IDs (backing off through
// the refused connections and 503s of the restart), and each ends with exactly the committed
// sequence of its wanted types: no duplicates, no gaps, in order.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, test } from 'node:test';

import { assertSameSequence } from './lib/check.mjs';
import { Follower, Interner } from './lib/follower.mjs';
import { until } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { logOf } from './lib/truth.mjs';
import { rng, seedFromEnv, Workload } from './lib/workload.mjs';

const SUBSCRIBERS = 2000;
const WANTS = [['products'], ['levels'], ['products', 'levels'], ['customers', 'levels', 'products']];
// Writes committed while all are connected before the restart, and again after it.
const WRITES_BEFORE = 100;
const WRITES_AFTER = 100;

// Room for every subscriber on one key per want (and for the old streams of a restart), and no
// write rate limit, which is not what this file tests.
const CONFIG = `[limits]
streams_per_credential = ${SUBSCRIBERS}
max_connections = ${SUBSCRIBERS * 2 + 100}
writes_per_second = 1000000
write_burst = 1000000
`;

// Generous: the server may run under AddressSanitizer on a machine shared with other work.
const WAIT = { timeoutMs: 240000, everyMs: 50 };

/**
 * The open-file limit this process and the server it starts get (Node raises its soft limit to
 * the hard one at start, and children inherit it).
 */
function fileLimit() {
  return Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
}

describe('storm', () => {
  const seed = seedFromEnv();
  const servers = [];
  const followers = [];

  after(async () => {
    for (const f of followers) {
      f.stop();
    }
    await Promise.all(servers.map((s) => s.cleanup()));
  });

  const name =
    `${SUBSCRIBERS} subscribers, the server restarted under writes: all resume with Last-Event-ID and ` +
    'each ends with exactly the committed sequence';
  test(name, { timeout: 600000 }, async (t) => {
    const files = fileLimit();
    assert.ok(
      files >= SUBSCRIBERS + 500,
      `this test needs ${SUBSCRIBERS + 500} open files per process (one socket per subscriber, on both ` +
        `sides); the limit is ${files}: raise the hard limit (ulimit -Hn)`,
    );
    const srv = await startServer({ config: CONFIG });
    servers.push(srv);
    const keys = [];
    for (const want of WANTS) {
      keys.push(await srv.createKey({ scopes: want.join(',') }));
    }
    const names = new Interner();
    for (let i = 0; i < SUBSCRIBERS; i += 1) {
      const w = i % WANTS.length;
      const f = new Follower(srv, { key: keys[w], want: WANTS[w], names, random: rng(seed + i + 1) });
      followers.push(f.start());
    }
    // Waits end early when a subscriber has met something it should not have.
    const unlessProblems = (p) => () => {
      const troubled = followers.findIndex((f) => f.problems.length > 0);
      assert.equal(troubled, -1, `subscriber ${troubled}: ${followers[troubled]?.problems.join('\n')}`);
      return p();
    };
    // Milliseconds each phase took, for the diagnostic.
    const phases = [];
    let mark = Date.now();
    const phase = (what) => {
      const now = Date.now();
      phases.push(`${what} ${now - mark} ms`);
      mark = now;
    };
    await until(unlessProblems(() => followers.every((f) => f.live)), `all ${SUBSCRIBERS} subscribers live`, WAIT);
    phase(`${SUBSCRIBERS} live`);

    // Writes run from here to the end, retried while the server restarts (so some may commit
    // twice or unacknowledged: the log is the truth, and every acknowledged write is in it).
    const work = new Workload(srv, { seed, retry: true });
    const stopWrites = new AbortController();
    const writes = work.run({ concurrency: 2, pauseMs: 10, signal: stopWrites.signal });
    let writeError;
    writes.catch((e) => {
      writeError = e;
    });
    // A condition that also ends the wait when the writer failed.
    const unlessWritesFailed = (p) =>
      unlessProblems(() => {
        if (writeError) {
          throw writeError;
        }
        return p();
      });
    try {
      await until(
        unlessWritesFailed(
          () => work.committed.length >= WRITES_BEFORE && followers.every((f) => f.lastId !== undefined),
        ),
        `${WRITES_BEFORE} writes and an event with an id at every subscriber`,
        WAIT,
      );
      await until(
        unlessWritesFailed(() => followers.every((f) => f.live)),
        'every subscriber connected before the restart',
        WAIT,
      );
      phase(`${work.committed.length} writes`);
      const before = followers.map((f) => f.connections);
      assert.equal(await srv.restart(), 0, `exit code of the SIGTERM of the restart:\n${srv.tail()}`);
      phase('restart');
      const atRestart = work.committed.length;
      await until(
        unlessWritesFailed(() => followers.every((f, i) => f.live && f.connections > before[i])),
        'every subscriber reconnected after the restart',
        WAIT,
      );
      phase('all reconnected');
      await until(
        unlessWritesFailed(() => work.committed.length >= atRestart + WRITES_AFTER),
        `${WRITES_AFTER} writes after the restart`,
        WAIT,
      );
      stopWrites.abort();
      await writes;
      phase(`${work.committed.length - atRestart} more writes`);

      const truths = [];
      for (const want of WANTS) {
        truths.push(await logOf(srv, { want }));
      }
      const acked = new Set(work.committed.map((c) => `${c.rve} ${c.type}`));
      // The last want holds every type the workload writes.
      const logged = new Set(truths.at(-1).map((e) => `${e.rve} ${e.type}`));
      assert.deepEqual(
        [...acked].filter((c) => !logged.has(c)),
        [],
        'every acknowledged write is in the log after the restart',
      );
      const lastOf = followers.map((f, i) => truths[i % WANTS.length].at(-1).rve);
      await until(
        unlessProblems(() => followers.every((f, i) => f.lastId === lastOf[i])),
        'every subscriber at the newest event of its wants',
        WAIT,
      );
      phase('caught up');
      for (const f of followers) {
        f.stop();
      }

      const refused = followers.reduce((n, f) => n + f.refused, 0);
      const failed = followers.reduce((n, f) => n + f.failed, 0);
      t.diagnostic(
        `seed ${seed}; ${phases.join(', ')}; ${refused} answers 503/429, ${failed} failed connections; ` +
          `${work.committed.length} writes acknowledged ` +
          `(${work.retried} retried); log lengths ${truths.map((l) => l.length).join(', ')}`,
      );

      assert.ok(
        truths.every((l) => l.length > WRITES_BEFORE / 4),
        `every want has a long sequence: ${truths.map((l) => l.length)}`,
      );
      const expected = truths.map((l) => names.encode(l));
      followers.forEach((f, i) => {
        const label = `subscriber ${i} want=${f.want} (seed ${seed})`;
        assert.deepEqual(f.problems, [], label);
        assert.ok(f.connections >= 2, `${label}: reconnected (${f.connections} connections)`);
        assert.deepEqual(
          f.resumedWith.slice(1).filter((id) => id === undefined),
          [],
          `${label}: every reconnection sent Last-Event-ID`,
        );
        const want = expected[i % WANTS.length];
        if (f.confirmed.length !== want.length || f.confirmed.some((n, j) => n !== want[j])) {
          assertSameSequence(names.decode(f.confirmed), truths[i % WANTS.length], label);
        }
      });
    } finally {
      stopWrites.abort();
      for (const f of followers) {
        f.stop();
      }
    }
    assert.equal(await srv.stop(), 0, `exit code of the final SIGTERM:\n${srv.tail()}`);
  });
});
