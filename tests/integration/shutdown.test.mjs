// Graceful shutdown (SPEC 8): SIGTERM closes open streams with a proper end of response, exits 0
// within a few seconds, and no acknowledged write is lost.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { write } from './lib/api.mjs';
import { logEventsOf } from './lib/check.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';
import { seedFromEnv, Workload } from './lib/workload.mjs';

/** The log events a stream with rve=0 replays before ready, as {rve, type}. */
async function replayAll(srv, want) {
  const s = openStream(srv, { query: `want=${want}&rve=0` });
  try {
    const ready = await s.ready({ timeoutMs: 20000 });
    return logEventsOf(s.events.slice(0, s.events.indexOf(ready)));
  } finally {
    s.close();
  }
}

describe('shutdown', () => {
  const servers = [];
  const seed = seedFromEnv();

  after(async () => {
    await Promise.all(servers.map((s) => s.cleanup()));
  });

  test('SIGTERM ends open streams, exits 0 within 5 s, and an acknowledged write is there after restart', async () => {
    const srv = await startServer();
    servers.push(srv);
    const streams = [
      openStream(srv, { query: 'want=products' }),
      openStream(srv, { query: 'want=levels,customers&rve=0' }),
      openStream(srv, { path: '/eventsource_1', query: 'want=products,levels' }),
    ];
    await Promise.all(streams.map((s) => s.ready()));
    const product = await write(srv, 'POST', 'Products', { Description: 'written just before SIGTERM', Price: 9.99 });

    const started = Date.now();
    const code = await srv.stop('SIGTERM');
    const elapsed = Date.now() - started;
    assert.equal(code, 0, `exit code after SIGTERM:\n${srv.tail()}`);
    assert.ok(elapsed < 5000, `exited ${elapsed} ms after SIGTERM`);
    for (const s of streams) {
      const end = await s.ended;
      assert.equal(end.error, undefined, `${s.target} ended with an error: ${end.error?.message}`);
      assert.equal(end.complete, true, `${s.target}: the response was ended properly (last chunk), not cut`);
    }

    await srv.start();
    const events = await replayAll(srv, 'products');
    assert.deepEqual(events, [{ rve: product.rve, type: 'products' }]);
  });

  test('SIGTERM during continuous writes: every acknowledged write is kept', async () => {
    const srv = await startServer();
    servers.push(srv);
    const work = new Workload(srv, { seed });
    const failures = [];
    let stopped = false;
    const worker = async () => {
      while (!stopped) {
        try {
          await work.randomOp();
        } catch (e) {
          failures.push(e.message);
          return; // the server is going away: anything after this is not acknowledged
        }
      }
    };
    const writers = Array.from({ length: 6 }, worker);
    while (work.committed.length < 300) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const started = Date.now();
    const code = await srv.stop('SIGTERM');
    const elapsed = Date.now() - started;
    stopped = true;
    await Promise.all(writers);
    assert.equal(code, 0, `exit code after SIGTERM:\n${srv.tail()}`);
    assert.ok(elapsed < 5000, `exited ${elapsed} ms after SIGTERM`);
    assert.ok(failures.length > 0, 'writes were still running at SIGTERM');

    await srv.start();
    const logged = new Set((await replayAll(srv, 'products,customers,levels')).map((e) => `${e.rve} ${e.type}`));
    const lost = work.committed.filter((c) => !logged.has(`${c.rve} ${c.type}`));
    assert.deepEqual(lost, [], `acknowledged writes missing after restart (of ${work.committed.length}; seed ${seed})`);
  });

  test('SIGINT also exits 0', async () => {
    const srv = await startServer();
    servers.push(srv);
    const s = openStream(srv, { query: 'want=customers' });
    await s.ready();
    const started = Date.now();
    assert.equal(await srv.stop('SIGINT'), 0);
    assert.ok(Date.now() - started < 5000);
    assert.equal((await s.ended).complete, true);
  });
});
