// nginx in front (issue 14): deploy/nginx.conf, rendered with loopback ports and temporary paths
// (only its `# render:` lines change; lib/nginx.mjs), run by Debian's nginx with TLS and HTTP/2
// in front of one node, then of three nodes on one PostgreSQL. Read with the real curl: events
// arrive unbuffered (each within a second of its write's response, SPEC 3 "live events as they
// commit"), Last-Event-ID resumes through the proxy, many streams share one HTTP/2 connection
// (past the six connections per origin of HTTP/1.1), /metrics and the status page stay private.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { request, sleep } from './lib/api.mjs';
import { startCluster, startPostgres } from './lib/cluster.mjs';
import { curl, curlArgs, curlStream, DEPLOY_CONF, h2Request, spawnCurl, startNginx, uniqueAgent } from './lib/nginx.mjs';
import { startServer } from './lib/server.mjs';
import { SseParser } from './lib/sse.mjs';

// Enough streams per credential for the many-streams test (the default is 8).
const CONFIG = '[limits]\nstreams_per_credential = 64\n';
// SPEC 3: live events as they commit. Measured from the moment the write's response was read,
// so the time the write took is not counted; buffering at the proxy shows as seconds, or as
// delivery only at the next keepalive (15 s) or close.
const WITHIN_MS = 1000;
const KEEPALIVE_MS_DEFAULT = 15000; // src/core/config.hpp feed.keepalive_ms
const PARALLEL_STREAMS = 12; // more than a browser's six HTTP/1.1 connections per origin

let written = 0;

/** Creates a product through the proxy (HTTP/2); resolves with the response (`rve`, `at`, `pid`). */
async function createProduct(proxy, key) {
  written += 1;
  const res = await h2Request(proxy, {
    method: 'POST',
    path: '/openapi/Products',
    key,
    body: { Description: `through nginx ${written}`, Price: 1.25, Colour: 'Blue' },
  });
  assert.equal(res.status, 201, `POST /openapi/Products through nginx: ${res.text}`);
  assert.match(res.rve ?? '', /^\d{8}\.\d{9}$/, res.text);
  return { ...res, pid: res.json.data.Pid };
}

/** The products events among `events`, as {id, pid} (one product per write here). */
function products(events) {
  return events.filter((e) => e.event === 'products').map((e) => ({ id: e.id, pid: JSON.parse(e.data).Products[0].Pid }));
}

/**
 * Writes `count` products `gapMs` apart while `stream` is live and checks that each arrives on
 * it within WITHIN_MS of its write's response. Returns the writes and the delays.
 */
async function writeAndTime(t, proxy, key, stream, { count = 5, gapMs = 200 } = {}) {
  const writes = [];
  const delays = [];
  for (let i = 0; i < count; i += 1) {
    const w = await createProduct(proxy, key);
    writes.push(w);
    await stream.waitFor((s) => s.events.some((e) => e.id === w.rve), { timeoutMs: 20000, what: `the event of write ${w.rve}` });
    const e = stream.events.find((x) => x.id === w.rve);
    delays.push(Math.max(0, Math.round(e.at - w.at)));
    await sleep(gapMs);
  }
  t.diagnostic(`event arrival after the write's response (ms): ${delays.join(', ')}`);
  delays.forEach((d, i) => {
    assert.ok(
      d <= WITHIN_MS,
      `the event of write ${writes[i].rve} arrived ${d} ms after the write's response ` +
        `(at most ${WITHIN_MS} ms): is nginx buffering the stream?`,
    );
  });
  return { writes, delays };
}

describe('one node behind nginx (TLS, HTTP/2)', () => {
  let srv;
  let proxy;

  before(async () => {
    srv = await startServer({ config: CONFIG });
    proxy = await startNginx({ upstreams: [`127.0.0.1:${srv.port}`] });
  });

  after(async () => {
    await proxy?.cleanup();
    await srv?.cleanup();
  });

  test('the shipped config is what runs: only its marked lines change, and the stream timeout is above feed.keepalive_ms', async () => {
    const shipped = (await fs.readFile(DEPLOY_CONF, 'utf8')).split('\n');
    const kept = shipped.filter((l) => !/# render: /.test(l));
    const rendered = proxy.site.split('\n');
    // Every unmarked line runs as shipped, in order.
    let at = 0;
    for (const line of kept) {
      at = rendered.indexOf(line, at);
      assert.ok(at >= 0, `the rendered config lost the shipped line: ${line}`);
      at += 1;
    }
    const stream = /location ~ \^\/eventsource[^{]*\{([^}]*)\}/.exec(proxy.site)?.[1];
    assert.ok(stream, 'deploy/nginx.conf has a location for /eventsource');
    const timeout = /proxy_read_timeout (\d+)s;/.exec(stream);
    assert.ok(timeout, 'the stream location sets proxy_read_timeout in seconds');
    assert.ok(
      Number(timeout[1]) * 1000 >= 2 * KEEPALIVE_MS_DEFAULT,
      `proxy_read_timeout ${timeout[1]}s is at least twice feed.keepalive_ms`,
    );
    for (const d of ['proxy_buffering off;', 'gzip off;']) {
      assert.ok(stream.includes(d), `the stream location has ${d}`);
    }
  });

  test('HTTP/2 over TLS; plain HTTP redirects to HTTPS; /metrics and /report/status are not served to the public', async () => {
    const get = async (url, extra = []) => {
      const format = '%{http_version} %{response_code} %{redirect_url}';
      const { stdout } = await curl([...curlArgs(proxy), ...extra, '-o', '/dev/null', '-w', format, url]);
      return stdout.trim();
    };
    assert.equal(await get(`${proxy.url}/healthz`), '2 200');
    const hsts = await curl([
      ...curlArgs(proxy), '-o', '/dev/null', '-w', '%header{strict-transport-security}', `${proxy.url}/openapi/Products`,
    ]);
    assert.match(hsts.stdout, /^max-age=\d+/, 'HTTPS answers carry Strict-Transport-Security, errors too');
    assert.match(
      await get(`${proxy.httpUrl}/eventsource?want=products`, ['--http1.1']),
      /^1\.1 301 https:\/\/127\.0\.0\.1\/eventsource\?want=products$/,
    );
    assert.match(await get(`${proxy.url}/metrics`), /^2 403/, 'nginx denies /metrics');
    assert.match(await get(`${proxy.url}/report/status`), /^2 403/, 'nginx denies the status page');
    assert.match(await get(`${proxy.url}/report/status/data`), /^2 403/, 'and everything under it');
    // The node itself still answers its monitoring (the deny is the proxy's).
    assert.equal((await request(srv, { path: '/metrics' })).status, 200);
  });

  test('events arrive unbuffered over HTTP/2: each within a second of its write', async (t) => {
    const s = curlStream(proxy, '/eventsource?want=products', { key: srv.key });
    try {
      // A proxy that buffers (or compresses) the stream holds back even the first bytes.
      await s.ready({ what: "the 'ready' event (nothing at all: is nginx buffering the stream?)" });
      assert.equal(s.httpVersion, '2', 'the stream is an HTTP/2 response');
      assert.equal(s.status, 200);
      assert.match(s.headers['content-type'], /^text\/event-stream/);
      // curl asked for gzip and the main config turns gzip on for event streams: the stream
      // location must keep it off.
      assert.equal(s.headers['content-encoding'], undefined, 'the stream is not compressed');
      await writeAndTime(t, proxy, srv.key, s);
    } finally {
      await s.close();
    }
  });

  test('Last-Event-ID resume through the proxy replays exactly the missed events, in order', async (t) => {
    const first = curlStream(proxy, '/eventsource?want=products', { key: srv.key });
    let lastId;
    try {
      await first.ready();
      for (let i = 0; i < 3; i += 1) {
        await createProduct(proxy, srv.key);
      }
      const seen = await first.waitFor((s) => products(s.events).length === 3, { what: 'three products events' });
      lastId = seen.parser.lastEventId;
    } finally {
      await first.close();
    }
    const missed = [];
    for (let i = 0; i < 4; i += 1) {
      missed.push(await createProduct(proxy, srv.key));
    }
    const resumed = curlStream(proxy, '/eventsource?want=products', { key: srv.key, lastEventId: lastId });
    try {
      const ready = await resumed.ready();
      const replayed = products(resumed.events.slice(0, resumed.events.indexOf(ready)));
      assert.deepEqual(replayed, missed.map((w) => ({ id: w.rve, pid: w.pid })), `resumed from ${lastId}`);
      // And live after the replay, unbuffered.
      await writeAndTime(t, proxy, srv.key, resumed, { count: 1 });
    } finally {
      await resumed.close();
    }
  });

  test(`${PARALLEL_STREAMS} streams share one HTTP/2 connection, and each receives every event`, async () => {
    const agent = uniqueAgent();
    const files = Array.from({ length: PARALLEL_STREAMS }, (_, i) => path.join(proxy.dir, `parallel-${i}.txt`));
    // --parallel waits to multiplex on the first connection (--parallel-immediate would open
    // one connection per stream instead).
    const args = [
      ...curlArgs(proxy), '-N', '--parallel', '--parallel-max', String(PARALLEL_STREAMS),
      '-A', agent, '-H', `X-Api-Key: ${srv.key}`,
    ];
    for (const f of files) {
      args.push(`${proxy.url}/eventsource?want=products`, '-o', f);
    }
    const streams = spawnCurl(args);
    const parsed = async () =>
      Promise.all(
        files.map(async (f) => {
          const p = new SseParser();
          p.feed(await fs.readFile(f, 'utf8').catch(() => ''));
          return p.events;
        }),
      );
    const until = async (predicate, what) => {
      const deadline = Date.now() + 15000;
      while (true) {
        const all = await parsed();
        if (all.every(predicate)) {
          return;
        }
        if (Date.now() > deadline) {
          const counts = all.map((e) => e.length).join(', ');
          throw new Error(`not every parallel stream had ${what}: ${counts} events; curl: ${streams.stderrText}`);
        }
        await sleep(50);
      }
    };
    try {
      await until((events) => events.some((e) => e.event === 'ready'), 'its ready event');
      const w = await createProduct(proxy, srv.key);
      await until((events) => events.some((e) => e.event === 'products' && e.id === w.rve), `the event ${w.rve}`);
    } finally {
      streams.kill('SIGTERM');
      await streams.done;
    }
    // nginx logs each stream when it ends: all of them on one connection, over HTTP/2.
    const mine = await proxy.waitForAccess((l) => l.agent === agent, PARALLEL_STREAMS);
    assert.equal(mine.length, PARALLEL_STREAMS);
    assert.deepEqual(new Set(mine.map((l) => l.protocol)), new Set(['HTTP/2.0']));
    assert.deepEqual(new Set(mine.map((l) => l.status)), new Set([200]));
    const connections = new Set(mine.map((l) => l.connection));
    assert.equal(connections.size, 1, `every stream on one connection:\n${mine.map((l) => l.line).join('\n')}`);
    assert.equal(new Set(mine.map((l) => l.requests)).size, PARALLEL_STREAMS, 'each stream its own request on it');
  });
});

describe('three nodes on PostgreSQL behind the same config', () => {
  let pg;
  let cluster;
  let proxy;
  const nodeOf = (upstream) => cluster.nodes.find((n) => upstream === `127.0.0.1:${n.port}`);

  before(async () => {
    pg = await startPostgres();
    cluster = await startCluster(pg, { nodes: 3, config: CONFIG });
    proxy = await startNginx({ upstreams: cluster.nodes.map((n) => `127.0.0.1:${n.port}`) });
  });

  after(async () => {
    await proxy?.cleanup();
    await cluster?.cleanup();
    await pg?.cleanup();
  });

  test('writes through the proxy, spread over the three nodes, reach a stream held through it, each within a second', async (t) => {
    const s = curlStream(proxy, '/eventsource?want=products', { key: cluster.key });
    let writes;
    try {
      await s.ready();
      assert.equal(s.httpVersion, '2');
      ({ writes } = await writeAndTime(t, proxy, cluster.key, s, { count: 6 }));
    } finally {
      await s.close();
    }
    const stream = await s.logged();
    const agents = new Set(writes.map((w) => w.agent));
    const posts = await proxy.waitForAccess((l) => agents.has(l.agent), writes.length);
    const streamNode = nodeOf(stream.upstream);
    assert.ok(streamNode, `the stream was served by a node: ${stream.line}`);
    const writeNodes = new Set(posts.map((l) => l.upstream));
    t.diagnostic(`stream on ${stream.upstream}; writes on ${[...writeNodes].join(', ')}`);
    assert.equal(writeNodes.size, 3, `round-robin spreads the writes over the three nodes:\n${posts.map((l) => l.line).join('\n')}`);
  });

  test('a stream whose node stops ends, and resumes through the proxy on another node with exactly the missed events', async () => {
    const opened = () => cluster.nodes.map((n) => (n.logs.match(/ stream opened/g) ?? []).length);
    const before = opened();
    const first = curlStream(proxy, '/eventsource?want=products', { key: cluster.key });
    let lastId;
    let gone;
    try {
      await first.ready();
      const w = await createProduct(proxy, cluster.key);
      await first.waitFor((s) => s.events.some((e) => e.id === w.rve), { what: `the event ${w.rve}` });
      lastId = first.parser.lastEventId;
      // The node holding the stream (the one that logged one more stream opened) stops: its
      // streams end, and nginx passes the end on (the client does not wait for a timeout).
      let after = opened();
      for (let waited = 0; waited < 5000 && after.every((c, i) => c === before[i]); waited += 50) {
        await sleep(50); // its log line may trail the stream's first bytes
        after = opened();
      }
      gone = cluster.nodes.find((n, i) => after[i] === before[i] + 1);
      assert.ok(gone, `one node opened the stream: ${before} -> ${after}`);
      assert.equal(await gone.stop(), 0);
      await first.waitFor((s) => s.done, { timeoutMs: 10000, what: 'the end of the stream after its node stopped' });
    } finally {
      await first.close();
    }
    const line = await first.logged();
    assert.equal(line.upstream, `127.0.0.1:${gone.port}`, line.line);
    // Writes meanwhile go to the other nodes (nginx skips the stopped one: connection refused).
    const missed = [];
    for (let i = 0; i < 4; i += 1) {
      missed.push(await createProduct(proxy, cluster.key));
    }
    const resumed = curlStream(proxy, '/eventsource?want=products', { key: cluster.key, lastEventId: lastId });
    try {
      const ready = await resumed.ready();
      const replayed = products(resumed.events.slice(0, resumed.events.indexOf(ready)));
      assert.deepEqual(replayed, missed.map((w) => ({ id: w.rve, pid: w.pid })), `resumed from ${lastId}`);
    } finally {
      await resumed.close();
    }
    const again = await resumed.logged();
    assert.notEqual(again.upstream, line.upstream, `the resume went to another node: ${again.line}`);
    assert.ok(nodeOf(again.upstream), again.line);
  });
});
