// A real SSE client, the npm `eventsource` package, sending X-Api-Key through its fetch option:
// named events, lastEventId, and its own reconnection with Last-Event-ID across a server
// restart, with writes before and after it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { EventSource } from 'eventsource';

import { parseKeepingRve, rvesIn, sleep } from './lib/api.mjs';
import { assertSameSequence, rveType } from './lib/check.mjs';
import { startServer } from './lib/server.mjs';
import { seedFromEnv, Workload } from './lib/workload.mjs';

/** Resolves once `predicate()` holds, polling; rejects with `what` after `timeoutMs`. */
async function until(predicate, what, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(20);
  }
}

describe('npm eventsource client', () => {
  let srv;
  let es;
  const seed = seedFromEnv();

  before(async () => {
    srv = await startServer();
  });

  after(async () => {
    es?.close();
    await srv?.cleanup();
  });

  test('receives named events with lastEventId = RVE, and resumes by itself across a server restart', async () => {
    const work = new Workload(srv, { seed });
    await work.run({ count: 10, concurrency: 1 });

    const received = []; // {type, lastEventId, rve}
    const readies = [];
    const messages = [];
    const connects = []; // per fetch: the Last-Event-ID header sent and the last id received before
    let errors = 0;
    es = new EventSource(`${srv.url}/eventsource_1?want=products,levels&rve=0`, {
      fetch: (input, init) => {
        connects.push({ sent: init.headers['Last-Event-ID'], lastSeen: received.at(-1)?.lastEventId });
        return fetch(input, { ...init, headers: { ...init.headers, 'X-Api-Key': srv.key } });
      },
    });
    for (const type of ['products', 'levels']) {
      es.addEventListener(type, (e) => {
        received.push({ type: e.type, lastEventId: e.lastEventId, rve: rvesIn(e.data)[0], data: e.data });
      });
    }
    es.addEventListener('ready', (e) => readies.push({ data: e.data, lastEventId: e.lastEventId }));
    es.addEventListener('message', (e) => messages.push(e));
    es.addEventListener('error', () => {
      errors += 1;
    });

    // The replay, then ready.
    const before = work.expected(['products', 'levels']);
    await until(() => readies.length === 1, 'the first ready event');
    assertSameSequence(
      received.map((e) => ({ rve: e.lastEventId, type: e.type })),
      rveType(before),
      'replay before ready',
    );
    assert.equal(parseKeepingRve(readies[0].data).Ready[0].RVE, work.newest());

    // Writes while connected, then a restart right away (some may still be in flight to the
    // client), then writes while it is away.
    await work.run({ count: 30, concurrency: 2 });
    assert.equal(await srv.restart(), 0, 'a SIGTERM stop exits 0');
    await work.run({ count: 30, concurrency: 2 });

    const expected = work.expected(['products', 'levels']);
    const last = expected.at(-1).rve;
    await until(() => received.some((e) => e.lastEventId === last), `event ${last} after the restart`, 20000);
    await sleep(200);

    assertSameSequence(
      received.map((e) => ({ rve: e.lastEventId, type: e.type })),
      rveType(expected),
      `every committed products and levels event exactly once, in order (seed ${seed})`,
    );
    for (const e of received) {
      assert.equal(e.rve, e.lastEventId, `lastEventId is the RVE of the packet: ${e.data}`);
      assert.ok(e.data.startsWith(e.type === 'products' ? '{"Products":[' : '{"Levels":['), e.data);
    }
    assert.equal(messages.length, 0, 'every event is named');
    assert.ok(errors >= 1, 'the client saw the connection drop');
    assert.ok(connects.length >= 2, 'the client reconnected by itself');
    assert.ok(readies.length >= 2, 'a ready per connection');
    assert.equal(connects[0].sent, undefined, 'the first connection sends no Last-Event-ID');
    for (const c of connects.slice(1)) {
      assert.ok(c.lastSeen, 'events were seen before reconnecting');
      assert.equal(c.sent, c.lastSeen, 'a reconnection sends the last id seen as Last-Event-ID');
    }
    // This client sets a MessageEvent's lastEventId from the event's own id field only.
    assert.deepEqual(
      readies.map((r) => r.lastEventId),
      readies.map(() => ''),
      'ready events carry no id',
    );
    es.close();
  });
});
