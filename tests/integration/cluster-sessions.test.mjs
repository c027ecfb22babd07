// What is shared between several nodes on one PostgreSQL (docs/decisions.md, "Per-process
// state"): a logout or a revoked key on one node closes the streams on another; the login
// throttle counts failures made on every node; a scan's Owner counts the session's barcode
// subscribers on every node.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { sleep, write } from './lib/api.mjs';
import { startCluster, startPostgres } from './lib/cluster.mjs';
import { asSession, createUser, login, loginRaw, readyStream, recordsNamed, sessionStream } from './lib/pos.mjs';
import { assertError, until } from './lib/records.mjs';
import { admin, startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

function endsWithin(stream, ms, what) {
  return Promise.race([
    stream.ended,
    sleep(ms).then(() => {
      throw new Error(`${what}: the stream is still open ${ms} ms later; received:\n${stream.raw.slice(-500)}`);
    }),
  ]);
}

describe('state shared by several nodes', () => {
  let pg;
  let cluster;
  let a;
  let b;
  let c;
  const streams = [];
  const keep = (s) => {
    streams.push(s);
    return s;
  };

  before(async () => {
    pg = await startPostgres();
    cluster = await startCluster(pg, { nodes: 3, config: '[limits]\nstreams_per_credential = 2\n' });
    [a, b, c] = cluster.nodes;
    for (const name of ['walker', 'guess', 'scanner']) {
      await createUser(a, { name, password: 'right' });
    }
  });

  after(async () => {
    for (const s of streams) {
      s.close();
    }
    await cluster?.cleanup();
    await pg?.cleanup();
  });

  test('a logout on node a closes the session’s streams on nodes b and c', async () => {
    const me = await login(a, 'walker', 'right');
    const onB = keep(await readyStream(sessionStream(b, me, { query: { want: 'sale' } })));
    const onC = keep(await readyStream(sessionStream(c, me, { as: 'cookie', query: { want: 'sale' } })));
    const res = await asSession(a, me, 'POST', 'logout');
    assert.equal(res.status, 200, res.text);
    // Every node polls the revocations once a second (on the database's clock).
    await endsWithin(onB, 5000, 'the stream on node b');
    await endsWithin(onC, 5000, 'the stream on node c');
    assertError(await asSession(c, me, 'GET', 'ActiveSession/AboutMe'), 401, 'unauthenticated');
  });

  test('a key revoked through the admin command closes its streams on every node', async () => {
    const out = await admin(['apikey', 'create', '--db', pg.url, '--rmsystem', '1', '--scopes', 'products']);
    const key = out.trim().split('\n').at(-1).trim();
    const onA = keep(openStream(a, { key, query: 'want=products' }));
    const onB = keep(openStream(b, { key, query: 'want=products' }));
    await onA.ready();
    await onB.ready();
    await admin(['apikey', 'revoke', '--db', pg.url, key]);
    await endsWithin(onA, 5000, 'the stream on node a');
    await endsWithin(onB, 5000, 'the stream on node b');
  });

  test('failed logins are throttled over all nodes: a guesser gains nothing by changing node', async () => {
    // Each node logs the delay it applies ("login delayed N ms: M failures") before the
    // password check, whose failure it then logs: no timing needed.
    const delays = (node) => [...node.logs.matchAll(/login delayed (\d+) ms: (\d+) failures/g)].map((m) => Number(m[1]));
    const failed = (node) => node.logs.split('\n').filter((l) => /login failed for a user name/.test(l)).length;
    const fail = async (node) => {
      const before = failed(node);
      assertError(await loginRaw(node, { User: 'guess', Password: 'wrong' }), 401, 'unauthenticated');
      await until(() => failed(node) > before, 'the failure to be logged');
    };
    for (let i = 0; i < 6; i += 1) {
      await fail(cluster.nodes[i % 3]); // a, b, c, a, b, c
    }
    // After 3 free failures (whichever node saw them) the next wait 250, 500, 1,000 ms: the 6th
    // failure, on node c, is slowed by the failures made on a and b.
    assert.deepEqual([delays(a), delays(b), delays(c)], [[250], [500], [1000]]);
    await login(a, 'guess', 'right'); // a success on any node resets the count (after its wait)
    await until(() => delays(a).length === 2, 'the wait before the right password');
    await fail(c);
    assert.deepEqual(delays(c), [1000], 'after the success a failure is not delayed');
  });

  test('a scan’s Owner counts the session’s barcode subscribers on every node', async () => {
    const scanner = await login(a, 'scanner', 'right');
    const onA = keep(await readyStream(sessionStream(a, scanner, { query: { want: 'barcode' } })));
    const owners = async (subscribers) => {
      const res = await write(c, 'POST', 'Barcodes', { RawScan: '4006381333931', Session: scanner.session });
      const out = [];
      for (const s of subscribers) {
        await s.waitFor((x) => x.events.some((e) => e.id === res.rve), { what: `the scan at ${res.rve}` });
        out.push(recordsNamed(s, 'barcode').find((r) => r._id === res.rve || r.RVE === res.rve)?.Owner);
      }
      return out;
    };
    assert.deepEqual(await owners([onA]), [1], 'the only subscriber of the session');
    const onB = keep(await readyStream(sessionStream(b, scanner, { as: 'cookie', query: { want: 'barcode' } })));
    // Nodes tell each other their subscribers every second.
    let seen;
    await until(
      async () => {
        seen = await owners([onA, onB]);
        return seen[0] === 2 && seen[1] === 2;
      },
      'both subscribers, on two nodes, to see Owner 2',
      { timeoutMs: 10000, everyMs: 200 },
    );
    assert.deepEqual(seen, [2, 2]);
    onB.close();
    await until(
      async () => {
        seen = await owners([onA]);
        return seen[0] === 1;
      },
      'the subscriber on node a to be the only one again',
      { timeoutMs: 10000, everyMs: 200 },
    );
  });

  test('the per-credential stream limit is per node (decided in docs/decisions.md): a third stream on node a is refused, one on node b is not', async () => {
    const onA = [keep(openStream(a, { key: cluster.key, query: 'want=customers' })), keep(openStream(a, { key: cluster.key, query: 'want=customers' }))];
    for (const s of onA) {
      await s.ready();
    }
    const third = keep(openStream(a, { key: cluster.key, query: 'want=customers' }));
    await third.ended;
    assert.equal(third.status, 429, third.raw);
    const elsewhere = keep(openStream(b, { key: cluster.key, query: 'want=customers' }));
    await elsewhere.ready();
    assert.equal(elsewhere.status, 200);
  });

  test('a password in the database URL never appears in what posfeed prints', async () => {
    const secret = 'Pw-' + Math.random().toString(36).slice(2);
    const port = new URL(pg.url).port;
    // A server that is not there: the error names where it tried, not the password.
    const unreachable = `postgresql://postgres:${secret}@127.0.0.1:1/postgres`;
    await assert.rejects(admin(['rmsystem', 'create', 'x', '--db', unreachable]), (e) => {
      const printed = e.message.slice(e.message.indexOf('failed (')); // after our own command line
      assert.match(printed, /cannot connect to .*host=127\.0\.0\.1 port=1/);
      assert.ok(!printed.includes(secret), printed);
      return true;
    });
    // A node on the real server (trust authentication ignores the password) logs its start
    // and its requests; none of its lines carries the password.
    const node = await startServer({ db: `postgresql://postgres:${secret}@127.0.0.1:${port}/postgres`, key: cluster.key });
    try {
      await write(node, 'POST', 'Products', { Description: 'secretive', Price: 1 });
    } finally {
      await node.stop();
    }
    assert.ok(!node.logs.includes(secret), 'the node logged the password');
    await node.cleanup();
  });
});
