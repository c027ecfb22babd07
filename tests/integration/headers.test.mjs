// The event stream on the wire, as curl sees it: response headers and exact SSE framing
// (SPEC 3 and 4).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { parseKeepingRve, RVE_TEXT, rvesIn, write } from './lib/api.mjs';
import { startServer } from './lib/server.mjs';

/** `curl -sN -i --max-time <s>` with the server's key; resolves with {code, head, body}. */
function curl(srv, target, { seconds = 1, key = srv.key, headers = [] } = {}) {
  return new Promise((resolve, reject) => {
    const args = ['-sN', '-i', '--max-time', String(seconds), '-H', `X-Api-Key: ${key}`];
    for (const h of headers) {
      args.push('-H', h);
    }
    args.push(`${srv.url}${target}`);
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const cut = out.indexOf('\r\n\r\n');
      if (cut < 0) {
        reject(new Error(`curl ${target} (exit ${code}) got no complete response head:\n${out}`));
        return;
      }
      resolve({ code, head: out.slice(0, cut), body: out.slice(cut + 4) });
    });
  });
}

/** The header lines of a response head: [name (lowercase), value] pairs, and its status line. */
function headerLines(head) {
  const [status, ...lines] = head.split('\r\n');
  return {
    status,
    fields: lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  };
}

/** The blocks of an event-stream body (text between blank lines); the body must end with one. */
function blocks(body) {
  assert.ok(
    body.endsWith('\n\n'),
    `the stream must end with a complete event (blank line); got:\n${JSON.stringify(body.slice(-200))}`,
  );
  assert.ok(!body.includes('\r'), 'the stream uses \\n line ends only');
  return body.slice(0, -2).split('\n\n');
}

/** Parses a log event block `id: I` / `event: T` / `data: D` (SPEC 3); fails on any other shape. */
function logEvent(block) {
  const m = /^id: (\S+)\nevent: ([a-z]+)\ndata: ([^\n]*)$/.exec(block);
  assert.ok(m, `a log event is 'id:' / 'event:' / 'data:' (one line); got:\n${block}`);
  assert.match(m[1], RVE_TEXT);
  return { event: m[2], data: m[3], id: m[1] };
}

function unescapeXml(text) {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e) => {
    const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e];
    if (named) {
      return named;
    }
    return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}

/** Checks `<Outer><Inner>…</Inner></Outer>` and returns a getter of its elements' unescaped text. */
function xmlRecord(data, outer, inner) {
  const m = new RegExp(`^<${outer}><${inner}>(.*)</${inner}></${outer}>$`).exec(data);
  assert.ok(m, `a ${outer} packet in XML on one line: ${data}`);
  return (name) => {
    const e = new RegExp(`<${name}>([^<]*)</${name}>`).exec(m[1]);
    assert.ok(e, `<${name}> in ${data}`);
    return unescapeXml(e[1]);
  };
}

const KEEPALIVE = ': keepalive';
const TRICKY = 'A <b>"quoted"</b> & \'apostrophe\'\nsecond line\ttab';

describe('event stream headers and framing (curl)', { concurrency: true }, () => {
  let srv;
  let productA;
  let level;
  let productB;

  before(async () => {
    srv = await startServer({ config: '[feed]\nkeepalive_ms = 300\ndebug_interval_ms = 200\n' });
    productA = await write(srv, 'POST', 'Products', {
      Description: TRICKY,
      Price: 12.5,
      Colour: 'Red',
      Barcode: '5012345678900',
    });
    level = await write(srv, 'POST', 'StockAdjustments', { Pid: productA.json.data.Pid, Location: 2, Delta: 7 });
    productB = await write(srv, 'POST', 'Products', { Description: 'plain', Price: 3 });
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('a stream answers 200 with text/event-stream, no-cache and X-Accel-Buffering: no', async () => {
    const { head } = await curl(srv, '/eventsource?want=products', { seconds: 1 });
    const { status, fields } = headerLines(head);
    assert.equal(status, 'HTTP/1.1 200 OK');
    const values = (name) => fields.filter(([n]) => n === name).map(([, v]) => v);
    assert.deepEqual(values('content-type'), ['text/event-stream']);
    assert.deepEqual(values('cache-control'), ['no-cache']);
    assert.deepEqual(values('x-accel-buffering'), ['no']);
    assert.deepEqual(values('content-length'), [], 'a stream has no Content-Length');
  });

  test('an API answer on a kept-alive connection announces the idle timeout: Keep-Alive: timeout=10', async () => {
    const { head } = await curl(srv, '/openapi/Products?limit=1', { seconds: 5 });
    const { status, fields } = headerLines(head);
    assert.equal(status, 'HTTP/1.1 200 OK');
    const values = (name) => fields.filter(([n]) => n === name).map(([, v]) => v);
    // limits.header_timeout_ms (10,000 by default) in whole seconds: the next request must come
    // within it.
    assert.deepEqual(values('keep-alive'), ['timeout=10']);
    const closing = await curl(srv, '/openapi/Products?limit=1', { seconds: 5, headers: ['Connection: close'] });
    const closed = headerLines(closing.head).fields;
    assert.deepEqual(
      closed.filter(([n]) => n === 'keep-alive'),
      [],
      'no Keep-Alive on an answer that closes the connection',
    );
  });

  test('replayed events are framed id/event/data, then ready without id, then keepalives', async () => {
    const { body } = await curl(srv, '/eventsource?want=products,levels&rve=0', { seconds: 1 });
    const b = blocks(body);
    assert.equal(b[0], 'retry: 3000', 'the stream starts with retry: 3000');
    const events = b.slice(1, 4).map(logEvent);
    assert.deepEqual(
      events.map((e) => [e.event, e.id]),
      [
        ['products', productA.rve],
        ['levels', level.rve],
        ['products', productB.rve],
      ],
    );
    // The packet holds the record the API returned, with its RVE as a number literal.
    assert.deepEqual(parseKeepingRve(events[0].data), { Products: [parseKeepingRve(productA.text).data] });
    assert.deepEqual(parseKeepingRve(events[1].data), { Levels: [parseKeepingRve(level.text).data] });
    assert.deepEqual(parseKeepingRve(events[2].data), { Products: [parseKeepingRve(productB.text).data] });
    for (const e of events) {
      assert.deepEqual(rvesIn(e.data), [e.id], 'the RVE in the packet is the id, as a number literal with 9 decimals');
      assert.match(e.data, /"RVE":\d{8}\.\d{9}[,}]/);
    }
    assert.equal(b[4], `event: ready\ndata: {"Ready":[{"RVE":${productB.rve},"Want":["products","levels"]}]}`);
    assert.deepEqual(
      new Set(b.slice(5)),
      b.length > 5 ? new Set([KEEPALIVE]) : new Set(),
      'only keepalives after ready when idle',
    );
  });

  test('/eventsource_1 sends the same stream as /eventsource', async () => {
    const strip = (body) => blocks(body).filter((x) => x !== KEEPALIVE);
    const [plain, suffixed] = await Promise.all([
      curl(srv, '/eventsource?want=levels,products&rve=0', { seconds: 1 }),
      curl(srv, '/eventsource_1?want=levels,products&rve=0', { seconds: 1 }),
    ]);
    assert.equal(headerLines(suffixed.head).status, 'HTTP/1.1 200 OK');
    assert.deepEqual(strip(suffixed.body), strip(plain.body));
    assert.equal(strip(suffixed.body).length, 5, 'retry, three events, ready');
    assert.match(strip(suffixed.body)[4], /"Want":\["levels","products"\]/);
  });

  test('an idle stream sends ": keepalive" comments at the configured interval', async () => {
    const started = Date.now();
    const { body } = await curl(srv, '/eventsource?want=customers', { seconds: 1.5 });
    const elapsed = Date.now() - started;
    const b = blocks(body);
    assert.equal(b[0], 'retry: 3000');
    // No resume point: nothing replayed, ready names the newest RVE.
    assert.equal(b[1], `event: ready\ndata: {"Ready":[{"RVE":${productB.rve},"Want":["customers"]}]}`);
    const rest = b.slice(2);
    assert.ok(rest.length >= 2, `at keepalive_ms = 300, 1.5 s idle gives several keepalives; got ${rest.length}`);
    assert.ok(
      rest.length <= Math.ceil(elapsed / 300) + 1,
      `no more than one keepalive per 300 ms; got ${rest.length} in ${elapsed} ms`,
    );
    assert.deepEqual(new Set(rest), new Set([KEEPALIVE]));
    assert.ok(body.includes('\n\n: keepalive\n\n'));
  });

  test('want=debug sends debug packets shaped like real ones, with no id', async () => {
    const { body } = await curl(srv, '/eventsource?want=debug', { seconds: 1.5 });
    const b = blocks(body);
    assert.equal(b[0], 'retry: 3000');
    assert.equal(b[1], `event: ready\ndata: {"Ready":[{"RVE":${productB.rve},"Want":["debug"]}]}`);
    assert.ok(!/^id:/m.test(body), 'debug and ready events carry no id');
    const debug = b.slice(2).filter((x) => x !== KEEPALIVE);
    assert.ok(
      debug.length >= 4 && debug.length <= 10,
      `debug_interval_ms = 200 gives about 7 packets in 1.5 s; got ${debug.length}`,
    );
    const fields = {
      Products: ['Pid', 'Physkey', 'Description', 'Price', 'Colour', 'Barcode', 'Publish', 'Deleted', 'RVE'],
      Customers: ['Cid', 'Name', 'Email', 'Phone', 'Deleted', 'RVE'],
      Levels: ['Pid', 'Location', 'Qty', 'Reason', 'RVE'],
      Sales: ['Sid', 'Location', 'Completed', 'Total', 'Cid', 'Lines', 'RVE'],
    };
    for (const block of debug) {
      const m = /^event: debug\ndata: ([^\n]+)$/.exec(block);
      assert.ok(m, `a debug event is 'event: debug' / one 'data:' line; got:\n${block}`);
      const packet = parseKeepingRve(m[1]);
      const keys = Object.keys(packet);
      assert.equal(keys.length, 1, `one key per packet: ${m[1]}`);
      assert.ok(keys[0] in fields, `a debug packet is shaped like Products, Customers, Levels or Sales: ${m[1]}`);
      const records = packet[keys[0]];
      assert.ok(Array.isArray(records) && records.length >= 1);
      for (const r of records) {
        for (const f of fields[keys[0]]) {
          assert.ok(f in r, `${keys[0]} record lacks ${f}: ${m[1]}`);
        }
        assert.match(r.RVE, RVE_TEXT);
        if (keys[0] === 'Sales') {
          for (const line of r.Lines) {
            assert.deepEqual(Object.keys(line).sort(), ['Pid', 'Price', 'Qty']);
          }
        }
      }
    }
  });

  test('format=xml sends each packet as escaped XML on one data line', async () => {
    const { body } = await curl(srv, '/eventsource?want=products,levels&rve=0&format=xml', { seconds: 1 });
    const b = blocks(body);
    assert.equal(b[0], 'retry: 3000');
    const events = b.slice(1, 4).map(logEvent);
    assert.deepEqual(
      events.map((e) => [e.event, e.id]),
      [
        ['products', productA.rve],
        ['levels', level.rve],
        ['products', productB.rve],
      ],
    );
    const a = parseKeepingRve(productA.text).data;
    const product = xmlRecord(events[0].data, 'Products', 'Product');
    assert.equal(product('Pid'), String(a.Pid));
    assert.equal(product('Physkey'), a.Physkey);
    assert.equal(product('Description'), TRICKY, 'text is escaped and unescapes to the original');
    assert.equal(product('Price'), '12.5');
    assert.equal(product('Barcode'), '5012345678900');
    assert.equal(product('RVE'), productA.rve, 'the RVE keeps all 9 decimals');
    const stock = xmlRecord(events[1].data, 'Levels', 'Level');
    assert.deepEqual(['Pid', 'Location', 'Qty', 'Reason', 'RVE'].map(stock), [
      String(a.Pid),
      '2',
      '7',
      'adjustment',
      level.rve,
    ]);
    assert.match(b[4], /^event: ready\ndata: <[^\n]*>$/, 'ready is XML too, without id');
    assert.ok(b[4].includes(productB.rve));
  });
});

// The soak's "socket hang up" writes: Node's http.Agent reuses an idle keep-alive connection
// for as long as it has no timeout of its own, so a request could meet the server's close of
// that connection (limits.header_timeout_ms). With a timeout it takes the server's Keep-Alive
// hint, less a second, and drops the connection first (docs/operations.md).
describe("keep-alive: Node's agent honours the server's idle timeout", () => {
  let srv;
  before(async () => {
    srv = await startServer({ config: '[limits]\nheader_timeout_ms = 2000\n' });
  });
  after(async () => {
    await srv?.cleanup();
  });

  /** GET on `agent`; resolves with whether the request went on a reused connection. */
  const get = (agent) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: srv.port, path: '/openapi/Products?limit=1', headers: { 'X-Api-Key': srv.key }, agent },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve(req.reusedSocket) : reject(new Error(`status ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end();
    });

  test('an agent with a timeout reuses a connection idle 0.2 s and drops one idle 1.5 s, before the server closes it at 2 s', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1, timeout: 60000 });
    try {
      for (let round = 0; round < 3; round++) {
        await get(agent);
        await sleep(200);
        assert.equal(await get(agent), true, 'a connection idle 0.2 s is reused');
        // timeout=2 in the hint: the agent keeps an idle connection 1 s, the server 2 s.
        await sleep(1500);
        assert.equal(await get(agent), false, 'a connection idle 1.5 s is not reused');
      }
    } finally {
      agent.destroy();
    }
  });
});
