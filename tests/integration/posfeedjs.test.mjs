// The JS client (clients/js/posfeed.js) against the real server (SPEC 9): live events over
// fetch with X-Api-Key; a bad key is fatal; reconnection after a server restart, a 503 (server
// full) and a 429 (streams per credential) honouring Retry-After; a connection cut inside a
// transaction group; persist. Both modes: fetch (Node's fetch) and eventsource (the
// `eventsource` package). Every received sequence is compared with the log a fresh subscriber
// reads from rve=0: no gap, no duplicate.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { EventSource } from 'eventsource';

import { PosFeed } from '../../clients/js/posfeed.js';
import { api, sleep, write } from './lib/api.mjs';
import { assertSameSequence, rveType } from './lib/check.mjs';
import { createUser, login } from './lib/pos.mjs';
import { cuttingProxy, logFromStart, mapStorage, reaches, record, stateIs } from './lib/posfeedjs.mjs';
import { until } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';
import { seedFromEnv, Workload } from './lib/workload.mjs';

const BACKOFF = { initialMs: 100, maxMs: 1000 };
const RETRY_CONFIG = '[feed]\nretry_ms = 100\n'; // the server's retry: is the initial backoff

/** A feed on `baseUrl` in `mode`: fetch mode with an API key, eventsource mode with a UrlToken. */
function feedFor(baseUrl, mode, { key, token, want, ...options }) {
  const common = { want, backoff: BACKOFF, ...options };
  if (mode === 'fetch') {
    return new PosFeed(`${baseUrl}/eventsource`, { ...common, mode, headers: { 'X-Api-Key': key } });
  }
  return new PosFeed(`${baseUrl}/eventsource`, { ...common, mode, EventSource, query: { token, ...options.query } });
}

/** Keeps committing random changes until `signal` aborts, riding out a server restart. */
async function keepWriting(work, signal) {
  let failures = 0;
  while (!signal.aborted) {
    try {
      await work.randomOp();
    } catch {
      failures += 1; // the server is restarting: try again shortly
      await sleep(50);
    }
  }
  return failures;
}

/** Sales of 1 to 3 random products (each one group: sales + levels) until `signal` aborts. */
async function keepSelling(srv, pids, signal, random) {
  let n = 0;
  while (!signal.aborted) {
    const lines = Array.from({ length: random.int(1, 3) }, () => ({ Pid: random.pick(pids), Qty: random.int(1, 4) }));
    await write(srv, 'POST', 'Sales', { Location: random.int(1, 3), Lines: lines });
    n += 1;
    await sleep(5);
  }
  return n;
}

describe('posfeed.js: live, fatal, restart, cut, persist', () => {
  let srv;
  let work;
  let token;
  const seed = seedFromEnv();
  const feeds = [];
  const keep = (f) => {
    feeds.push(f);
    return f;
  };

  before(async () => {
    srv = await startServer({ config: RETRY_CONFIG });
    work = new Workload(srv, { seed });
    for (let i = 0; i < 5; i += 1) {
      await work.createProduct();
    }
    await createUser(srv, { name: 'till', password: 'till-password-1' });
    token = (await login(srv, 'till', 'till-password-1')).token;
  });

  after(async () => {
    for (const f of feeds) {
      f.close();
    }
    await srv?.cleanup();
  });

  test('fetch mode with X-Api-Key receives live events with their ids, RVEs and packets', async () => {
    const feed = keep(feedFor(srv.url, 'fetch', { key: srv.key, want: ['products', 'levels'] }));
    const r = record(feed);
    feed.start();
    await stateIs(feed, 'live');
    assert.deepEqual(
      r.states.map((s) => s.state),
      ['connecting', 'open', 'live'],
    );
    const p = await work.createProduct();
    const pid = p.json.data.Pid;
    const l = await work.adjustStock(pid, 2);
    await reaches(feed, l.rve);
    assertSameSequence(r.log, rveType(work.committed.slice(-2)), 'live events');
    const product = r.events.find((e) => e.type === 'products');
    assert.equal(product.id, p.rve);
    assert.equal(product.rve, p.rve);
    assert.equal(product.lastEventId, p.rve);
    assert.equal(product.packet.Products[0].Pid, pid);
    assert.equal(product.packet.Products[0].RVE, p.rve, 'the RVE is kept exact, as a string');
    assert.equal(feed.lastEventId, l.rve);
    assert.deepEqual(r.errors, []);
    feed.close();
    assert.equal(feed.state, 'closed');
  });

  test('a bad API key is fatal: status 401 with the server’s code and message, state closed, no retry', async () => {
    let requests = 0;
    const counting = (url, init) => {
      requests += 1;
      return fetch(url, init);
    };
    const bad = `pfk_${'0'.repeat(16)}_${'0'.repeat(64)}`;
    const feed = keep(feedFor(srv.url, 'fetch', { key: bad, want: ['products'], fetch: counting }));
    const r = record(feed);
    feed.start();
    await stateIs(feed, 'closed');
    assert.equal(r.errors.length, 1, JSON.stringify(r.errors));
    const [err] = r.errors;
    assert.equal(err.status, 401);
    assert.equal(err.code, 'unauthenticated');
    assert.equal(err.fatal, true);
    assert.ok(err.message.length > 10 && !err.message.startsWith('HTTP'), `the server's message: ${err.message}`);
    await sleep(500);
    assert.equal(requests, 1, 'no second request');
    assert.equal(feed.reconnects, 0);
    assert.equal(feed.state, 'closed');
  });

  for (const mode of ['fetch', 'eventsource']) {
    test(`${mode} mode: a server restart while a writer commits; resumed with no gap and no duplicate`, async () => {
      const want = ['products', 'customers', 'levels'];
      const feed = keep(feedFor(srv.url, mode, { key: srv.key, token, want, lastEventId: '0' }));
      const r = record(feed);
      feed.start();
      await stateIs(feed, 'live');
      const stop = new AbortController();
      const writer = keepWriting(work, stop.signal);
      try {
        await sleep(300);
        await srv.restart();
        await until(() => feed.reconnects >= 1 && feed.state === 'live', 'the feed live again after the restart', {
          timeoutMs: 30000,
        });
        await sleep(300);
      } finally {
        stop.abort();
        await writer;
      }
      const expected = await logFromStart(srv, want);
      assert.ok(expected.length > 20, `enough events (${expected.length})`);
      await reaches(feed, expected.at(-1).rve);
      await sleep(100); // a duplicate would have time to arrive
      assertSameSequence(r.log, expected, `${mode} across a restart (seed ${seed})`);
      assert.ok(r.events.filter((e) => e.type === 'ready').length >= 2, 'a ready per connection');
      assert.ok(r.errors.every((e) => !e.fatal), JSON.stringify(r.errors));
      assert.ok(r.states.some((s) => s.state === 'reconnecting'));
      feed.close();
    });
  }

  for (const mode of ['fetch', 'eventsource']) {
    test(`${mode} mode: connections cut inside sales+levels groups; no gap and no duplicate`, async () => {
      const want = ['sales', 'levels'];
      const CUTS = 6;
      // Each of the first CUTS connections is cut right after its second `sales` event: the
      // first may be the replayed start of the group cut before, the second starts a new group
      // whose `levels` (with the id) never arrives on that connection.
      const proxy = await cuttingProxy(srv.port, (index, text) => {
        if (index >= CUTS) {
          return -1;
        }
        let at = -1;
        for (let k = 0; k < 2; k += 1) {
          at = text.indexOf('event: sales\n', at + 1);
          if (at < 0) {
            return -1;
          }
        }
        const end = text.indexOf('\n\n', at);
        return end < 0 ? -1 : end + 2;
      });
      const feed = keep(feedFor(proxy.url, mode, { key: srv.key, token, want, lastEventId: '0' }));
      const r = record(feed);
      const stop = new AbortController();
      const random = (await import('./lib/workload.mjs')).rng(seed);
      const selling = keepSelling(srv, work.pids, stop.signal, random);
      try {
        feed.start();
        await until(() => proxy.cuts >= CUTS && feed.state === 'live', `${CUTS} cuts and live again`, {
          timeoutMs: 60000,
        });
        await sleep(200);
      } finally {
        stop.abort();
        await selling;
      }
      try {
        const expected = await logFromStart(srv, want);
        await reaches(feed, expected.at(-1).rve);
        await sleep(100);
        assertSameSequence(r.log, expected, `${mode} with ${CUTS} cuts inside groups (seed ${seed})`);
        assert.ok(feed.reconnects >= CUTS, `reconnected after every cut (${feed.reconnects})`);
        // The cuts really were inside groups: a sales event without its id was delivered, then
        // the same group's levels with the id arrived on the next connection.
        const split = r.timeline.filter((e, i) => {
          if (e.type !== 'sales') {
            return false;
          }
          const rest = r.timeline.slice(i + 1);
          const end = rest.findIndex((x) => x.type === 'levels' && x.rve === e.rve);
          return end > 0 && rest.slice(0, end).some((x) => x.state === 'reconnecting');
        });
        assert.ok(split.length >= CUTS, `groups delivered across two connections: ${split.length}`);
      } finally {
        feed.close();
        await proxy.close();
      }
    });
  }

  test('persist: a second feed resumes from the first one’s last RVE, also inside a group', async () => {
    const want = ['sales', 'levels'];
    const storage = mapStorage();
    const start = work.newest();
    const stop = new AbortController();
    const random = (await import('./lib/workload.mjs')).rng(seed + 1);
    const selling = keepSelling(srv, work.pids, stop.signal, random);
    let first;
    let second;
    try {
      first = keep(feedFor(srv.url, 'fetch', { key: srv.key, want, persist: 'till-7', storage, lastEventId: start }));
      const r1 = record(first);
      // Close the first feed right after a sales event: the group's levels is not delivered.
      let sales = 0;
      first.on('sales', () => {
        sales += 1;
        if (sales === 10) {
          first.close();
        }
      });
      first.start();
      await until(() => first.state === 'closed', 'the first feed closed after 10 sales', { timeoutMs: 30000 });
      const saved = JSON.parse(storage.getItem('posfeed:till-7'));
      assert.equal(saved.lastId, first.lastEventId);
      assert.equal(saved.partial?.delivered, 1, `a partial group is kept: ${JSON.stringify(saved)}`);
      assert.equal(r1.log.at(-1).type, 'sales');

      await sleep(200); // more sales meanwhile
      second = keep(feedFor(srv.url, 'fetch', { key: srv.key, want, persist: 'till-7', storage }));
      const r2 = record(second);
      second.start();
      await stateIs(second, 'live');
      await sleep(200);
      stop.abort();
      await selling;
      const expected = (await logFromStart(srv, want)).filter((e) => e.rve > start);
      await reaches(second, expected.at(-1).rve);
      await sleep(100);
      assertSameSequence([...r1.log, ...r2.log], expected, `two feeds sharing storage (seed ${seed})`);
      assert.equal(r2.log[0].rve, saved.partial.rve, 'the second feed starts with the rest of the cut group');
    } finally {
      stop.abort();
      await selling;
      first?.close();
      second?.close();
    }
  });
});

describe('posfeed.js: 503 when the server is full', () => {
  let srv;
  const held = [];

  before(async () => {
    srv = await startServer({ config: `${RETRY_CONFIG}[limits]\nmax_connections = 2\nheader_timeout_ms = 60000\n` });
  });

  after(async () => {
    for (const s of held) {
      s.destroy();
    }
    await srv?.cleanup();
  });

  test('fetch mode retries after Retry-After while the server is full, then connects', async () => {
    // Two keep-alive connections, each with one request answered, so that the server has
    // surely counted them before the feed connects.
    for (let i = 0; i < 2; i += 1) {
      const s = net.connect({ host: '127.0.0.1', port: srv.port });
      s.on('error', () => {});
      held.push(s);
      let got = '';
      await new Promise((resolve) => {
        s.on('data', (d) => {
          got += d.toString('latin1');
          if (/^HTTP\/1\.1 200 /.test(got) && got.endsWith('}')) {
            resolve();
          }
        });
        s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      });
    }
    const feed = feedFor(srv.url, 'fetch', { key: srv.key, want: ['products'] });
    const r = record(feed);
    try {
      feed.start();
      await until(() => r.errors.length >= 1, 'a first error', { timeoutMs: 20000 }).catch((e) => {
        throw new Error(`${e.message}; states ${JSON.stringify(r.states)}\n${srv.tail()}`);
      });
      const [err] = r.errors;
      assert.equal(err.status, 503, JSON.stringify(err));
      assert.equal(err.code, 'unavailable');
      assert.match(err.message, /max_connections/);
      assert.equal(err.fatal, false);
      assert.equal(err.retryInMs, 5000, 'the wait is the Retry-After of the answer');
      for (const s of held) {
        s.destroy();
      }
      await stateIs(feed, 'live', { timeoutMs: 30000 });
      assert.ok(feed.reconnects >= 1);
      assert.ok(r.errors.every((e) => e.status === 503 && e.retryInMs === 5000), JSON.stringify(r.errors));
      const w = await write(srv, 'POST', 'Products', { Description: 'after the 503', Price: 1 });
      await reaches(feed, w.rve);
    } finally {
      feed.close();
    }
  });
});

describe('posfeed.js: 429 past the streams of a credential', () => {
  let srv;
  let token;

  before(async () => {
    srv = await startServer({ config: `${RETRY_CONFIG}[limits]\nstreams_per_credential = 1\n` });
    await createUser(srv, { name: 'till', password: 'till-password-1' });
    token = (await login(srv, 'till', 'till-password-1')).token;
  });

  after(async () => {
    await srv?.cleanup();
  });

  for (const mode of ['fetch', 'eventsource']) {
    test(`${mode} mode retries after Retry-After while the credential is at its limit, then connects`, async () => {
      const blocker =
        mode === 'fetch'
          ? openStream(srv, { query: 'want=products' })
          : openStream(srv, { key: null, query: `want=products&token=${token}` });
      await blocker.ready();
      const feed = feedFor(srv.url, mode, { key: srv.key, token, want: ['products'] });
      const r = record(feed);
      try {
        feed.start();
        await until(() => r.errors.length >= 1, 'a first error', { timeoutMs: 20000 });
        const [err] = r.errors;
        assert.equal(err.status, 429, JSON.stringify(err));
        assert.equal(err.code, 'resource_exhausted');
        assert.match(err.message, /streams_per_credential/);
        assert.equal(err.fatal, false);
        assert.equal(err.retryInMs, 5000, 'the wait is the Retry-After of the answer');
        blocker.close();
        await stateIs(feed, 'live', { timeoutMs: 30000 });
        assert.ok(feed.reconnects >= 1);
        const w = await write(srv, 'POST', 'Products', { Description: `after the 429 (${mode})`, Price: 1 });
        await reaches(feed, w.rve);
      } finally {
        blocker.close();
        feed.close();
      }
      // The server has let go of the feed's stream before the next test opens its own.
      await until(async () => {
        const m = await api(srv, 'GET', '/metrics', undefined, { key: null });
        return /^posfeed_streams 0$/m.test(m.text);
      }, 'no stream left open');
    });
  }
});
