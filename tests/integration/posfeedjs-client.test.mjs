// The JS client's connection logic (clients/js/posfeed.js PosFeed) against a scripted fetch:
// the request it makes, states, resuming with Last-Event-ID and dropping the replayed part of
// a group, fatal statuses, Retry-After and backoff, the idle timeout, persist, and the shared
// connection of several tabs (in-process locks and Node's BroadcastChannel). No server needed;
// tests/integration/posfeedjs.test.mjs runs the same client against the real server.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { PosFeed } from '../../clients/js/posfeed.js';
import { sleep } from './lib/api.mjs';
import { until } from './lib/records.mjs';
import { LocalLocks, mapStorage, record, scriptedFetch, stateIs } from './lib/posfeedjs.mjs';

const URL_ = 'http://127.0.0.1:1/eventsource';
const rve = (n) => `20240101.${String(n).padStart(9, '0')}`;

/** The text of one event: a packet of `type` with RVE n, with `id:` when `id` is true. */
function ev(type, n, id = false) {
  const key = type[0].toUpperCase() + type.slice(1);
  return `${id ? `id: ${rve(n)}\n` : ''}event: ${type}\ndata: {"${key}":[{"N":${n},"RVE":${rve(n)}}]}\n\n`;
}
const READY = (n) => `event: ready\ndata: {"Ready":[{"RVE":${rve(n)},"Want":["sales","levels"]}]}\n\n`;

function newFeed(fetch, options = {}) {
  return new PosFeed(URL_, { want: ['sales', 'levels'], fetch, backoff: { initialMs: 10, maxMs: 50 }, ...options });
}

describe('PosFeed over fetch (scripted)', () => {
  test('request, states and delivered events', async () => {
    const f = scriptedFetch();
    const feed = newFeed(f.fetch, {
      headers: { 'X-Api-Key': 'pfk_x' },
      query: { format: 'json', location: 2, token: undefined },
    });
    const r = record(feed);
    const sales = [];
    const off = feed.on('sales', (e) => sales.push(e));
    assert.equal(feed.state, 'closed', 'closed until started');
    feed.start();
    try {
      const call = await f.next();
      assert.equal(call.url, 'http://127.0.0.1:1/eventsource?want=sales,levels&format=json&location=2');
      assert.equal(call.headers.Accept, 'text/event-stream');
      assert.equal(call.headers['X-Api-Key'], 'pfk_x');
      assert.equal(call.headers['Last-Event-ID'], undefined, 'no resume point yet');
      assert.equal(call.init.credentials, 'same-origin');
      const s = call.stream();
      s.send(`retry: 3000\n\n: keepalive\n\n${READY(1)}`);
      await stateIs(feed, 'live');
      s.send(ev('sales', 2) + ev('levels', 2, true));
      await until(() => r.events.length === 3, 'three events');
      assert.deepEqual(
        r.states.map((x) => x.state),
        ['connecting', 'open', 'live'],
      );
      const [ready, sale, level] = r.events;
      assert.equal(ready.type, 'ready');
      assert.equal(ready.id, '');
      assert.deepEqual(ready.packet, { Ready: [{ RVE: rve(1), Want: ['sales', 'levels'] }] });
      assert.deepEqual(
        { type: sale.type, id: sale.id, rve: sale.rve, lastEventId: sale.lastEventId },
        { type: 'sales', id: '', rve: rve(2), lastEventId: '' },
      );
      assert.deepEqual(sale.packet, { Sales: [{ N: 2, RVE: rve(2) }] });
      assert.deepEqual(
        { id: level.id, rve: level.rve, lastEventId: level.lastEventId },
        { id: rve(2), rve: rve(2), lastEventId: rve(2) },
      );
      assert.equal(feed.lastEventId, rve(2));
      assert.deepEqual(sales, [sale], 'a type listener gets its type only');
      off();
      s.send(ev('sales', 3) + ev('levels', 3, true));
      await until(() => r.events.length === 5, 'five events');
      assert.equal(sales.length, 1, 'an unsubscribed listener gets nothing more');
    } finally {
      feed.close();
    }
    assert.equal(feed.state, 'closed');
    assert.equal(f.calls[0].aborted(), true, 'close() aborts the request');
  });

  test('a stream cut inside a group resumes with Last-Event-ID and drops the replayed part', async () => {
    const f = scriptedFetch();
    const feed = newFeed(f.fetch);
    const r = record(feed);
    feed.start();
    try {
      const s1 = (await f.next()).stream();
      s1.send(`retry: 20\n\n${READY(0)}${ev('sales', 1)}${ev('levels', 1, true)}${ev('sales', 2)}`);
      await until(() => r.events.length === 4, 'four events');
      s1.error(); // the connection breaks before the group's levels
      const second = await f.next();
      assert.equal(second.headers['Last-Event-ID'], rve(1), 'resumes after the last complete group');
      const err = r.errors[0];
      assert.equal(err.fatal, false);
      assert.equal(err.code, 'network_error');
      assert.ok(err.retryInMs >= 0 && err.retryInMs < 20, `full jitter under the server's retry: ${err.retryInMs}`);
      assert.equal(feed.reconnects, 1);
      assert.ok(r.states.some((x) => x.state === 'reconnecting' && x.reconnects === 1));
      const s2 = second.stream();
      s2.send(`${ev('sales', 2)}${ev('levels', 2, true)}${READY(2)}${ev('sales', 3)}${ev('levels', 3, true)}`);
      await until(() => feed.lastEventId === rve(3), 'the last group');
      assert.deepEqual(
        r.events.map((e) => `${e.type} ${e.rve.slice(-1)}`),
        ['ready 0', 'sales 1', 'levels 1', 'sales 2', 'levels 2', 'ready 2', 'sales 3', 'levels 3'],
      );
      // A clean end of the stream reconnects as well.
      s2.end();
      const third = await f.next();
      assert.equal(third.headers['Last-Event-ID'], rve(3));
      assert.equal(r.errors.at(-1).code, 'stream_ended');
    } finally {
      feed.close();
    }
  });

  test('a live start cut before its first id resumes from the ready RVE, not live again', async () => {
    const f = scriptedFetch();
    const feed = newFeed(f.fetch);
    feed.start();
    try {
      const first = await f.next();
      assert.equal(first.headers['Last-Event-ID'], undefined, 'no resume point at first');
      const s1 = first.stream();
      s1.send(`retry: 20\n\n${READY(4)}`);
      await stateIs(feed, 'live');
      assert.equal(feed.lastEventId, rve(4));
      s1.error();
      const second = await f.next();
      assert.equal(second.headers['Last-Event-ID'], rve(4), 'what was committed meanwhile is replayed');
    } finally {
      feed.close();
    }
  });

  for (const status of [400, 401, 403, 404, 405]) {
    test(`${status} is fatal: the error carries the server's code and message, the feed closes, no retry`, async () => {
      const f = scriptedFetch();
      const feed = newFeed(f.fetch);
      const r = record(feed);
      feed.start();
      const call = await f.next();
      call.respond(status, { 'Content-Type': 'application/json' }, '{"error":{"code":"some_code","message":"what was wrong"}}');
      await stateIs(feed, 'closed');
      assert.deepEqual(r.errors, [{ status, code: 'some_code', message: 'what was wrong', fatal: true }]);
      await sleep(200);
      assert.equal(f.calls.length, 1, 'no second request');
      assert.equal(feed.reconnects, 0);
    });
  }

  test('503 and 429 retry after Retry-After seconds; without it, after the backoff', async () => {
    const f = scriptedFetch();
    const feed = newFeed(f.fetch);
    const r = record(feed);
    feed.start();
    try {
      (await f.next()).respond(503, { 'Retry-After': '1' }, '{"error":{"code":"unavailable","message":"full"}}');
      const second = await f.next();
      assert.deepEqual(r.errors[0], { status: 503, code: 'unavailable', message: 'full', fatal: false, retryInMs: 1000 });
      second.respond(429, { 'Retry-After': '1' }, '{"error":{"code":"resource_exhausted","message":"too many"}}');
      const third = await f.next();
      assert.equal(r.errors[1].retryInMs, 1000);
      assert.equal(r.errors[1].status, 429);
      third.respond(500, {}, 'oops');
      const fourth = await f.next();
      assert.equal(r.errors[2].status, 500);
      assert.equal(r.errors[2].message, 'HTTP 500: oops');
      assert.ok(r.errors[2].retryInMs >= 0 && r.errors[2].retryInMs <= 50, `backoff: ${r.errors[2].retryInMs}`);
      fourth.stream().send(READY(1));
      await stateIs(feed, 'live');
      assert.equal(feed.reconnects, 3);
    } finally {
      feed.close();
    }
  });

  test('a 200 that is not text/event-stream is fatal', async () => {
    const f = scriptedFetch();
    const feed = newFeed(f.fetch);
    const r = record(feed);
    feed.start();
    (await f.next()).respond(200, { 'Content-Type': 'text/html' }, '<html>');
    await stateIs(feed, 'closed');
    assert.equal(r.errors[0].code, 'not_event_stream');
    assert.equal(r.errors[0].fatal, true);
  });

  test('a network error and an idle stream reconnect', async () => {
    const f = scriptedFetch();
    const feed = newFeed(f.fetch, { idleTimeoutMs: 300 });
    const r = record(feed);
    feed.start();
    try {
      const first = await f.next();
      first.stream().send(READY(1)); // then nothing: no keepalive either
      const second = await f.next();
      assert.equal(first.aborted(), true, 'the idle request was aborted');
      assert.equal(r.errors[0].code, 'idle_timeout');
      second.stream().send(READY(1));
      await stateIs(feed, 'live');
    } finally {
      feed.close();
    }
  });

  test('persist keeps the resume point and the partial group in storage for the next feed', async () => {
    const storage = mapStorage();
    const f = scriptedFetch();
    const one = newFeed(f.fetch, { persist: 'till-1', storage });
    one.start();
    const s = (await f.next()).stream();
    s.send(`${READY(0)}${ev('sales', 1)}${ev('levels', 1, true)}${ev('sales', 2)}`);
    await until(() => one.lastEventId === rve(1), 'the first group');
    await sleep(50);
    one.close();
    assert.deepEqual(JSON.parse(storage.getItem('posfeed:till-1')), {
      lastId: rve(1),
      partial: { rve: rve(2), delivered: 1 },
    });

    const two = newFeed(f.fetch, { persist: 'till-1', storage });
    const r = record(two);
    two.start();
    try {
      const call = await f.next();
      assert.equal(call.headers['Last-Event-ID'], rve(1));
      call.stream().send(`${ev('sales', 2)}${ev('levels', 2, true)}${READY(2)}`);
      await stateIs(two, 'live');
      assert.deepEqual(
        r.events.map((e) => `${e.type} ${e.rve.slice(-1)}`),
        ['levels 2', 'ready 2'],
        'the sales event delivered before the page reload is not delivered again',
      );
    } finally {
      two.close();
    }
    // persist: true keys by the URL; an explicit lastEventId wins over storage.
    const three = newFeed(f.fetch, { persist: 'till-1', storage, lastEventId: rve(7) });
    three.start();
    try {
      assert.equal((await f.next()).headers['Last-Event-ID'], rve(7));
    } finally {
      three.close();
    }
  });

  test('shared without BroadcastChannel or locks is refused with a clear error', () => {
    assert.throws(() => new PosFeed(URL_, { want: 'sales', fetch: () => {}, shared: true, locks: null }), /shared needs/);
    assert.throws(() => new PosFeed('/eventsource', { want: 'sales', fetch: () => {} }), /not an absolute URL/);
    assert.throws(
      () => new PosFeed(URL_, { want: 'sales', mode: 'eventsource', EventSource: class {}, headers: { 'X-Api-Key': 'k' } }),
      /headers need mode 'fetch'/,
    );
  });
});

describe('PosFeed shared by several tabs (in-process locks, BroadcastChannel)', () => {
  test('one leader connects, followers receive; when it closes the next leads and nobody gets a duplicate', async () => {
    const f = scriptedFetch();
    const locks = new LocalLocks();
    const make = () => newFeed(f.fetch, { shared: true, locks });
    const [a, b, c] = [make(), make(), make()];
    const [ra, rb, rc] = [record(a), record(b), record(c)];
    try {
      a.start();
      const first = await f.next();
      b.start();
      c.start();
      const s1 = first.stream();
      s1.send(`${READY(0)}${ev('sales', 1)}${ev('levels', 1, true)}${ev('sales', 2)}`);
      await until(() => rb.events.length === 4 && rc.events.length === 4, 'the followers receive the leader’s events');
      assert.equal(f.calls.length, 1, 'one connection for three feeds');
      await until(() => b.state === 'live' && c.state === 'live', 'the followers report the leader’s state');
      assert.equal(rb.states.at(-1).leader, false);
      assert.equal(ra.states.at(-1).leader, true);
      assert.equal(b.lastEventId, rve(1));

      a.close(); // the leading tab goes away in the middle of group 2
      const second = await f.next();
      assert.equal(second.headers['Last-Event-ID'], rve(1), 'the next leader resumes from the last RVE it saw');
      const s2 = second.stream();
      s2.send(`${ev('sales', 2)}${ev('levels', 2, true)}${READY(2)}${ev('sales', 3)}${ev('levels', 3, true)}`);
      await until(() => b.lastEventId === rve(3) && c.lastEventId === rve(3), 'both reach group 3');
      await sleep(50);
      const seq = (r) => r.events.map((e) => `${e.type} ${e.rve.slice(-1)}`);
      const expected = ['ready 0', 'sales 1', 'levels 1', 'sales 2', 'levels 2', 'ready 2', 'sales 3', 'levels 3'];
      assert.deepEqual(seq(rb), expected);
      assert.deepEqual(seq(rc), expected);
      const leader = [b, c].find((x) => x.state === 'live' && f.calls.length === 2);
      assert.ok(leader);
      assert.equal(f.calls.length, 2);
    } finally {
      a.close();
      b.close();
      c.close();
    }
  });

  test('a fatal error of the leader closes the followers too', async () => {
    const f = scriptedFetch();
    const locks = new LocalLocks();
    const a = newFeed(f.fetch, { shared: true, locks });
    const b = newFeed(f.fetch, { shared: true, locks });
    const rb = record(b);
    try {
      a.start();
      b.start();
      (await f.next()).respond(401, {}, '{"error":{"code":"unauthenticated","message":"bad key"}}');
      await stateIs(b, 'closed');
      await stateIs(a, 'closed');
      assert.equal(rb.errors[0].status, 401);
      assert.equal(rb.errors[0].fatal, true);
      await sleep(100);
      // The follower may take the lead before the leader's message reaches it (they travel
      // apart); its own request is then abandoned as the error arrives.
      assert.ok(f.calls.length <= 2, `${f.calls.length} requests`);
      assert.ok(f.calls.slice(1).every((c) => c.aborted()), 'a request made in the meantime is aborted');
    } finally {
      a.close();
      b.close();
    }
  });
});
