// Limits (SPEC 3, 6, 7): each configurable and answered with a clear error, none crashing
// anything: streams per credential (429, other credentials unaffected), connections in all (503
// with Retry-After), request line, header and body sizes (414, 431, 413), the header read
// timeout for slow clients, the per-credential write rate (429), revoked keys (their streams
// close, their requests get 401), the per-subscriber queue (a slow consumer is disconnected,
// counted in /metrics, and resumes with nothing lost) and the stream write timeout (a write that
// makes no progress closes the stream, likewise).

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { api, request, rvesIn, sleep, write } from './lib/api.mjs';
import { metric, metrics } from './lib/metrics.mjs';
import { assertError, RawSseReader, until } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

/** Waits for a stream's ready event; asserts it answered 200 first. */
async function ready(stream) {
  await stream.response;
  assert.equal(stream.status, 200, `${stream.target}: ${stream.status} ${stream.raw}`);
  await stream.ready();
  return stream;
}

/** Resolves once `stream` has ended; rejects after `ms`. */
function endsWithin(stream, ms, what) {
  let timer;
  return Promise.race([
    stream.ended.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: still open ${ms} ms later; received:\n${stream.raw.slice(-500)}`)),
        ms,
      );
    }),
  ]);
}

/**
 * A raw TCP connection: `sent(text)`, collects every byte received in `data`, records when it
 * closed (`closedAt`, `closed` promise).
 */
function rawConnection(srv) {
  const socket = net.connect({ host: '127.0.0.1', port: srv.port });
  const conn = { socket, data: '', closedAt: undefined };
  conn.connected = new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  conn.closed = new Promise((resolve) => {
    socket.on('close', () => {
      conn.closedAt = performance.now();
      resolve();
    });
  });
  socket.on('error', () => {});
  socket.setEncoding('latin1');
  socket.on('data', (d) => {
    conn.data += d;
  });
  /** Resolves once the bytes received so far satisfy `predicate`. */
  conn.receive = (predicate, what, timeoutMs = 5000) =>
    until(() => predicate(conn.data) || conn.closedAt !== undefined, what, { timeoutMs }).then(() => {
      assert.ok(predicate(conn.data), `${what}: the connection closed first; received ${JSON.stringify(conn.data)}`);
    });
  return conn;
}

/** Splits a raw HTTP/1.1 response: {status, headers (lowercased), body}. */
function parseResponse(raw) {
  const end = raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, `a complete response head: ${JSON.stringify(raw)}`);
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(end + 4) };
}

/** A complete keep-alive response (Content-Length framed) has arrived. */
function completeResponse(raw) {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) {
    return false;
  }
  const len = /\r\ncontent-length: *(\d+)/i.exec(raw.slice(0, end));
  return len !== null && raw.length >= end + 4 + Number(len[1]);
}

/** POST with a chunked body (no Content-Length), in pieces. */
function chunkedPost(srv, path, key, pieces) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: srv.port,
        method: 'POST',
        path,
        agent: false,
        headers: { 'X-Api-Key': key, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
        res.on('error', reject);
      },
    );
    req.on('error', (e) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    for (const p of pieces) {
      req.write(p);
    }
    req.end();
  });
}

describe('limits: sizes, streams per credential, write rate, revocation', () => {
  let srv;
  const streams = [];
  const keep = (s) => {
    streams.push(s);
    return s;
  };

  before(async () => {
    srv = await startServer({
      config:
        '[limits]\nstreams_per_credential = 1\nheader_bytes = 1024\nbody_bytes = 1000\n' +
        'writes_per_second = 5\nwrite_burst = 5\n',
    });
  });

  after(async () => {
    for (const s of streams) {
      s.close();
    }
    await srv?.cleanup();
  });

  test('a credential at its stream limit gets 429 with Retry-After; another credential is unaffected', async () => {
    const a = await srv.createKey({ scopes: 'products' });
    const b = await srv.createKey({ scopes: 'products' });
    const first = keep(await ready(openStream(srv, { query: 'want=products', key: a })));
    const refused = openStream(srv, { query: 'want=products', key: a });
    await refused.ended;
    assert.equal(refused.status, 429, refused.raw);
    assert.equal(refused.json.error.code, 'resource_exhausted');
    assert.match(refused.json.error.message, /streams_per_credential/);
    assert.match(refused.headers['retry-after'] ?? '', /^[1-9]\d*$/, 'Retry-After in seconds');
    // B opens its stream, and both streams receive the next change.
    const other = keep(await ready(openStream(srv, { query: 'want=products', key: b })));
    const w = await write(srv, 'POST', 'Products', { Description: 'for both', Price: 1 });
    for (const s of [first, other]) {
      await s.waitFor((x) => x.events.some((e) => e.id === w.rve), { what: `the product ${w.rve}` });
    }
    // B is at its own limit now, A still is: neither counts against the other.
    const bAgain = openStream(srv, { query: 'want=products', key: b });
    await bAgain.ended;
    assert.equal(bAgain.status, 429);
    // A client closing its stream frees its slot: the server notices the peer's close.
    first.close();
    other.close();
    await until(async () => metric(await metrics(srv), 'posfeed_streams') === 0, 'the closed streams to detach', {
      timeoutMs: 5000, // well under feed.keepalive_ms: the close is seen, not a failed keepalive
    });
    const aAgain = keep(await ready(openStream(srv, { query: 'want=products', key: a })));
    aAgain.close();
  });

  test('a body over limits.body_bytes is 413, with Content-Length or chunked; just under is fine', async () => {
    const key = await srv.createKey();
    const big = JSON.stringify({ Description: 'x'.repeat(1500), Price: 1 });
    assertError(
      await request(srv, { method: 'POST', path: '/openapi/Products', headers: { 'X-Api-Key': key }, body: big }),
      413,
      'payload_too_large',
      ['body_bytes'],
    );
    assertError(
      await chunkedPost(srv, '/openapi/Products', key, [big.slice(0, 700), big.slice(700)]),
      413,
      'payload_too_large',
      ['body_bytes'],
    );
    const ok = await request(srv, {
      method: 'POST',
      path: '/openapi/Products',
      headers: { 'X-Api-Key': key },
      body: { Description: 'y'.repeat(900), Price: 1 },
    });
    assert.equal(ok.status, 201, ok.text);
    const chunkedOk = await chunkedPost(srv, '/openapi/Products', key, ['{"Description":"in ', 'pieces","Price":1}']);
    assert.equal(chunkedOk.status, 201, chunkedOk.text);
  });

  test('a request line longer than limits.header_bytes is 414 uri_too_long', async () => {
    const pad = 'a'.repeat(1500);
    for (const path of [`/openapi/Products?pad=${pad}`, `/eventsource?want=products&pad=${pad}`]) {
      assertError(
        await request(srv, { path, headers: { 'X-Api-Key': srv.key } }),
        414,
        'uri_too_long',
        ['header_bytes'],
      );
    }
    // A long URL under the limit is fine.
    const fine = await request(srv, { path: `/openapi/Products?limit=5&pad=${'a'.repeat(600)}`, headers: { 'X-Api-Key': srv.key } });
    assert.notEqual(fine.status, 414, fine.text);
    assert.notEqual(fine.status, 431, fine.text);
  });

  test('headers over limits.header_bytes are 431 header_too_large, on the API and the event source', async () => {
    const big = { 'X-Api-Key': srv.key, 'X-Padding': 'p'.repeat(1500) };
    assertError(await request(srv, { path: '/openapi/Products', headers: big }), 431, 'header_too_large', ['header_bytes']);
    assertError(await request(srv, { path: '/eventsource?want=products', headers: big }), 431, 'header_too_large', [
      'header_bytes',
    ]);
    // Many small headers count together.
    const many = { 'X-Api-Key': srv.key };
    for (let i = 0; i < 40; i += 1) {
      many[`X-Extra-${i}`] = 'v'.repeat(20);
    }
    assertError(await request(srv, { path: '/openapi/Products', headers: many }), 431, 'header_too_large');
    const fine = await request(srv, { path: '/openapi/Products?limit=1', headers: { 'X-Api-Key': srv.key, 'X-Padding': 'p'.repeat(400) } });
    assert.equal(fine.status, 200, fine.text);
  });

  test('writes past writes_per_second/write_burst get 429 with Retry-After; another key writes on; after Retry-After the key writes again', async () => {
    const a = await srv.createKey();
    const b = await srv.createKey();
    const n = 20;
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        request(srv, {
          method: 'POST',
          path: '/openapi/Products',
          headers: { 'X-Api-Key': a },
          body: { Description: `burst ${i}`, Price: 1 },
          agent: srv.httpAgent(),
        }),
      ),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const ok = results.filter((r) => r.status === 201);
    const throttled = results.filter((r) => r.status === 429);
    assert.equal(ok.length + throttled.length, n, results.map((r) => `${r.status} ${r.text}`).join('\n'));
    assert.ok(ok.length >= 5, `the burst of 5 is allowed: ${ok.length} succeeded`);
    assert.ok(
      ok.length <= 5 + Math.ceil(elapsed * 5),
      `at most the burst plus 5/s: ${ok.length} succeeded in ${elapsed.toFixed(2)} s`,
    );
    assert.ok(throttled.length > 0, 'some writes were throttled');
    let retry = 0;
    for (const r of throttled) {
      assertError(r, 429, 'resource_exhausted', ['writes_per_second']);
      assert.match(r.headers['retry-after'] ?? '', /^[1-9]\d*$/, 'Retry-After in seconds');
      retry = Math.max(retry, Number(r.headers['retry-after']));
    }
    assert.ok(retry <= 2, `Retry-After is about the time to the next token: ${retry}`);
    // Refused writes committed nothing.
    const listed = await api(srv, 'GET', 'Products?limit=1000');
    const bursts = listed.json.data.filter((p) => p.Description.startsWith('burst '));
    assert.equal(bursts.length, ok.length, 'only the accepted writes exist');

    // B is not throttled by A.
    for (let i = 0; i < 3; i += 1) {
      const res = await api(srv, 'POST', 'Products', { Description: `other key ${i}`, Price: 1 }, { key: b });
      assert.equal(res.status, 201, res.text);
    }
    // Reads are not writes.
    assert.equal((await api(srv, 'GET', 'Products?limit=1', undefined, { key: a })).status, 200);

    await sleep(retry * 1000 + 50);
    const later = await api(srv, 'POST', 'Products', { Description: 'after Retry-After', Price: 1 }, { key: a });
    assert.equal(later.status, 201, later.text);
  });

  test('revoking a key closes its open stream within seconds and its requests get 401; other keys go on', async () => {
    const doomed = await srv.createKey();
    const other = await srv.createKey();
    const s = keep(await ready(openStream(srv, { query: 'want=products,levels', key: doomed })));
    const o = keep(await ready(openStream(srv, { query: 'want=products,levels', key: other })));
    assert.equal((await api(srv, 'GET', 'Products?limit=1', undefined, { key: doomed })).status, 200);
    const t0 = performance.now();
    await srv.revokeKey(doomed);
    await endsWithin(s, 5000, 'the revoked key’s stream');
    const took = performance.now() - t0;
    assert.equal(o.done, false, 'another key’s stream stays open');
    const w = await write(srv, 'POST', 'Products', { Description: 'after the revocation', Price: 1 }, { key: other });
    await o.waitFor((x) => x.events.some((e) => e.id === w.rve), { what: 'the write after the revocation' });
    assert.ok(!s.raw.includes('after the revocation'));

    const res = await api(srv, 'GET', 'Products?limit=1', undefined, { key: doomed });
    assertError(res, 401, 'unauthenticated', ['revoked']);
    assertError(await api(srv, 'POST', 'Products', { Description: 'x' }, { key: doomed }), 401, 'unauthenticated');
    const again = openStream(srv, { query: 'want=products', key: doomed });
    await again.ended;
    assert.equal(again.status, 401, again.raw);
    assert.equal(again.json.error.code, 'unauthenticated');
    assert.ok(took < 5000, `closed ${Math.round(took)} ms after the revocation`);
  });
});

describe('limits: max_connections', () => {
  let srv;
  const conns = [];

  before(async () => {
    srv = await startServer({ config: '[limits]\nmax_connections = 3\n' });
  });

  after(async () => {
    for (const c of conns) {
      c.socket.destroy();
    }
    await srv?.cleanup();
  });

  /** Opens a raw connection and makes one keep-alive request on it, leaving it idle and open. */
  async function idleConnection() {
    const c = rawConnection(srv);
    conns.push(c);
    await c.connected;
    c.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await c.receive(completeResponse, 'a keep-alive response');
    const res = parseResponse(c.data);
    assert.equal(res.status, 200, c.data);
    return c;
  }

  test('past max_connections a new connection gets 503 with Retry-After and the JSON error, then is closed; a freed slot serves again', async () => {
    const held = [await idleConnection(), await idleConnection(), await idleConnection()];
    const fourth = rawConnection(srv);
    conns.push(fourth);
    await fourth.connected;
    fourth.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await Promise.race([
      fourth.closed,
      sleep(5000).then(() => {
        throw new Error(`the 4th connection was not closed: ${JSON.stringify(fourth.data)}`);
      }),
    ]);
    const res = parseResponse(fourth.data);
    assert.equal(res.status, 503, fourth.data);
    assert.match(res.headers['retry-after'] ?? '', /^[1-9]\d*$/, 'Retry-After in seconds');
    assert.match(res.headers['content-type'] ?? '', /^application\/json\b/);
    const body = JSON.parse(res.body);
    assert.deepEqual(Object.keys(body), ['error']);
    assert.equal(body.error.code, 'unavailable');
    assert.match(body.error.message, /max_connections/);
    // The held connections still work.
    held[0].data = '';
    held[0].socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await held[0].receive(completeResponse, 'a second response on a held connection');
    assert.equal(parseResponse(held[0].data).status, 200);
    // Closing one frees its slot (the server learns of it asynchronously).
    held[2].socket.end();
    await held[2].closed;
    let status;
    await until(async () => {
      status = (await request(srv, { path: '/healthz' })).status;
      return status === 200;
    }, 'a free slot after a connection closed', { timeoutMs: 5000, everyMs: 50 });
    assert.equal(status, 200);
  });
});

describe('limits: out of file descriptors', () => {
  let srv;
  const conns = [];

  before(async () => {
    // A hard limit of 64 open files: the server uses about 20 of them itself.
    srv = await startServer({ launcher: ['prlimit', '--nofile=64:64', '--'] });
  });

  after(async () => {
    for (const c of conns) {
      c.socket.destroy();
    }
    await srv?.cleanup();
  });

  test('with no descriptor left the server pauses accepting (warning once a second, no spin) and serves again when some are freed', async () => {
    assert.match(srv.logs, /the open-file limit \(64\) is below limits\.max_connections/, 'warned at start');
    for (let i = 0; i < 70; i += 1) {
      const c = rawConnection(srv);
      conns.push(c);
    }
    await until(() => /accept failed: Too many open files; pausing accepts/.test(srv.logs), 'an accept failing for lack of descriptors');
    const waiting = request(srv, { path: '/healthz', timeoutMs: 20000 });
    await sleep(1500);
    for (const c of conns) {
      c.socket.destroy();
    }
    const res = await waiting;
    assert.equal(res.status, 200, 'the queued request is served once descriptors are free');
    const warnings = srv.logs.match(/accept failed/g).length;
    assert.ok(warnings <= 4, `at most one warning a second while out of descriptors, not a spin: ${warnings}`);
    assert.ok(srv.running);
  });
});

describe('limits: header read timeout', () => {
  let srv;

  before(async () => {
    srv = await startServer({ config: '[limits]\nheader_timeout_ms = 500\n' });
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('a client trickling its headers is disconnected after about header_timeout_ms, without a response', async () => {
    const c = rawConnection(srv);
    await c.connected;
    const t0 = performance.now();
    c.socket.write('GET /openapi/Products HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const timer = setInterval(() => {
      if (c.closedAt === undefined) {
        c.socket.write('a');
      }
    }, 100);
    try {
      await Promise.race([
        c.closed,
        sleep(3000).then(() => {
          throw new Error('the trickling client is still connected after 3 s');
        }),
      ]);
    } finally {
      clearInterval(timer);
      c.socket.destroy();
    }
    const took = c.closedAt - t0;
    assert.ok(took >= 300, `not before the timeout: ${Math.round(took)} ms`);
    assert.ok(took < 2500, `closed after about header_timeout_ms: ${Math.round(took)} ms`);
    assert.equal(c.data, '', 'no response to a request that never finished');
    // The server is fine.
    assert.equal((await request(srv, { path: '/healthz' })).status, 200);
  });

  test('an idle connection that never sends a request is closed after header_timeout_ms too', async () => {
    const c = rawConnection(srv);
    await c.connected;
    const t0 = performance.now();
    await Promise.race([
      c.closed,
      sleep(3000).then(() => {
        throw new Error('the idle client is still connected after 3 s');
      }),
    ]);
    c.socket.destroy();
    const took = c.closedAt - t0;
    assert.ok(took >= 300 && took < 2500, `closed after about header_timeout_ms: ${Math.round(took)} ms`);
    assert.equal(c.data, '');
  });
});

/**
 * Large events for stalling a stream: product descriptions are short, so a sale of `n` lines
 * (about 40 bytes a line) of a new product. Resolves to `sale(n)`, a Sales body.
 */
async function bulkSales(srv) {
  const pid = (await write(srv, 'POST', 'Products', { Description: 'sold in bulk', Price: 1 })).json.data.Pid;
  return (n) => ({ Location: 1, Lines: Array.from({ length: n }, () => ({ Pid: pid, Qty: 1.2345, Price: 1234.5678 })) });
}

/**
 * Writes sales of 1000 lines (pushing their RVEs to `written`) until the server has no stream
 * left, at most `max`; returns whether the streams were closed.
 */
async function writeUntilStreamsClosed(srv, sale, written, max) {
  for (let i = 0; i < max; i += 1) {
    written.push((await write(srv, 'POST', 'Sales', sale(1000))).rve);
    if (i % 5 === 4 && metric(await metrics(srv), 'posfeed_streams') === 0) {
      return true;
    }
  }
  return false;
}

describe('limits: slow consumer', () => {
  let srv;
  let slowBefore; // posfeed_slow_consumer_disconnects_total before the stall
  let slowAfter; // and after the stream was dropped

  before(async () => {
    srv = await startServer({ config: '[limits]\nsubscriber_queue_bytes = 4096\n' });
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('a stream that never reads is closed past subscriber_queue_bytes and resumes from its last id with nothing lost', async () => {
    const sale = await bulkSales(srv);
    const written = [];
    const first = await write(srv, 'POST', 'Sales', sale(1));
    written.push(first.rve);
    const reader = new RawSseReader(srv, '/eventsource?want=sales&rve=0');
    try {
      await reader.waitUntil((events) => events.some((e) => e.event === 'ready'), { what: 'ready' });
      assert.equal(reader.parser.lastEventId, first.rve);
      reader.socket.pause(); // never reads again until resumed below
      const m0 = await metrics(srv);
      slowBefore = metric(m0, 'posfeed_slow_consumer_disconnects_total');
      assert.equal(metric(m0, 'posfeed_streams'), 1);

      // Large writes until the server drops the stream (its socket buffers fill first).
      const closed = await writeUntilStreamsClosed(srv, sale, written, 400);
      assert.ok(closed, `the stalled stream was closed after ${written.length - 1} sales of 1000 lines`);
      // A few more writes after the cut.
      for (let i = 0; i < 3; i += 1) {
        written.push((await write(srv, 'POST', 'Sales', sale(2))).rve);
      }
      slowAfter = metric(await metrics(srv), 'posfeed_slow_consumer_disconnects_total');

      // Drain what the kernel had buffered, up to the cut.
      reader.socket.resume();
      await until(() => reader.ended, 'the end of the dropped stream', { timeoutMs: 10000 });
      const sales = reader.events.filter((e) => e.event === 'sales');
      const seen = sales.map((e) => rvesIn(e.data)[0]);
      assert.deepEqual(sales.map((e) => e.id), seen, 'every received sales event has its id');
      const lastId = seen.at(-1);
      assert.ok(lastId >= first.rve, `a last id: ${lastId}`);

      // Resuming from the last id gets everything after it, in order.
      const resumed = openStream(srv, { query: 'want=sales', lastEventId: lastId });
      try {
        await ready(resumed);
        const got = resumed.named('sales').map((e) => rvesIn(e.data)[0]);
        assert.deepEqual(got, written.filter((r) => r > lastId), 'the resumed stream sends every later write');
        assert.deepEqual([...seen, ...got], written, 'nothing lost, nothing twice');
      } finally {
        resumed.close();
      }
    } finally {
      reader.stop();
    }
  });

  test(
    'the slow-consumer disconnect is counted in posfeed_slow_consumer_disconnects_total and logged',
    () => {
      assert.ok(slowBefore !== undefined && slowAfter !== undefined, 'the slow-consumer scenario ran');
      assert.equal(slowAfter, slowBefore + 1, 'posfeed_slow_consumer_disconnects_total counts the disconnect');
      assert.match(srv.logs, /slow consumer/, 'the disconnect is logged as a slow consumer');
    },
  );
});

describe('limits: write timeout', () => {
  let srv;

  before(async () => {
    // The unsent-bytes limit is out of reach here, so only the write timeout can cut the stream.
    srv = await startServer({ config: '[limits]\nsubscriber_queue_bytes = 1073741824\nwrite_timeout_ms = 300\n' });
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('a stream whose write makes no progress for write_timeout_ms is closed, counted and logged, and resumes with nothing lost', async () => {
    const sale = await bulkSales(srv);
    const written = [(await write(srv, 'POST', 'Sales', sale(1))).rve];
    const reader = new RawSseReader(srv, '/eventsource?want=sales&rve=0');
    try {
      await reader.waitUntil((events) => events.some((e) => e.event === 'ready'), { what: 'ready' });
      reader.socket.pause(); // stops reading: the socket buffers fill, then a write stalls
      const before = metric(await metrics(srv), 'posfeed_slow_consumer_disconnects_total');

      const closed = await writeUntilStreamsClosed(srv, sale, written, 600);
      assert.ok(closed, `the stalled stream was closed after ${written.length - 1} sales of 1000 lines`);
      assert.equal(metric(await metrics(srv), 'posfeed_slow_consumer_disconnects_total'), before + 1);
      assert.match(srv.logs, /stream closed: a write made no progress for limits\.write_timeout_ms/);
      assert.doesNotMatch(srv.logs, /slow consumer passed/, 'not the unsent-bytes cut');

      reader.socket.resume();
      await until(() => reader.ended, 'the end of the cut stream', { timeoutMs: 10000 });
      // Complete events only: the cut may fall inside one.
      const seen = reader.events.filter((e) => e.event === 'sales' && e.id !== undefined).map((e) => e.id);
      const lastId = seen.at(-1);
      const resumed = openStream(srv, { query: 'want=sales', lastEventId: lastId });
      try {
        await ready(resumed);
        const got = resumed.named('sales').map((e) => rvesIn(e.data)[0]);
        assert.deepEqual(got, written.filter((r) => r > lastId), 'the resumed stream sends every later write');
      } finally {
        resumed.close();
      }
    } finally {
      reader.stop();
    }
  });
});
