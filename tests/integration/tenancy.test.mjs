// Tenancy (SPEC 2, 3, 7): nothing ever crosses from one RmSystem to another. Two RmSystems on
// one server, each with a '*' key, write products, customers, stock levels, sales, scans and
// session messages carrying their own marker strings; RmSystem 2's key and a session of a user
// of RmSystem 2 must never reach RmSystem 1's records, by route, by stream (live, replay,
// snapshot, catch-up) or by barcode, and no answer, error messages included, ever carries
// RmSystem 1's markers. Ids (Pid, Cid, Sid) are counted per RmSystem.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { api, parseKeepingRve, request, rvesIn, sleep, write } from './lib/api.mjs';
import { asSession, createUser, login, recordsNamed, sessionStream, waitForId } from './lib/pos.mjs';
import { assertError, dataOf, keyOf, recordsOf, until } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

const STATE = 'products,customers,levels,sales';

/** Asserts that a text (a body, a stream) holds none of `markers`. */
function assertNoLeak(text, markers, what) {
  for (const m of markers) {
    assert.ok(!text.includes(m), `${what} leaks RmSystem 1's marker ${m}: ${text.slice(0, 600)}`);
  }
}

/** The non-control events of a stream. */
const logEvents = (s) => s.events.filter((e) => e.event !== 'ready' && e.event !== 'reset');

/** The record keys (P1, C1, L1@1, S1) of a stream's packets, sorted. */
const stateKeys = (s) =>
  logEvents(s)
    .flatMap((e) => {
      const { packetKey, records } = recordsOf(e);
      return records.map((r) => keyOf(packetKey, r));
    })
    .sort();

/** Waits for a stream's ready event; asserts it answered 200 first. */
async function ready(stream) {
  await stream.response;
  assert.equal(stream.status, 200, `${stream.target}: ${stream.status} ${stream.raw}`);
  await stream.ready();
  return stream;
}

/**
 * A varied workload with every kind of secret, in headers, cookies, bodies and URLs: a login of
 * RmSystem 2's user, wrong passwords, requests and streams with its session as cookie,
 * `session=` and token, back-office session routes spelt several ways, secrets put in URLs by
 * mistake, a key as a cookie, then a logout (which closes its streams). Returns the [what,
 * secret] pairs of every secret the run used (`known`: secrets made earlier).
 */
async function secretWorkload(srv, { key1, key2, rm1Session, rm2User, tag, known = [], keep = (s) => s }) {
  const made = [...known];
  const me = await login(srv, rm2User.name, rm2User.password, { Location: 1, Terminal: 'till 9' });
  made.push(me.session, me.token);
  const wrongPassword = `wrong-password-${tag}`;
  assert.equal((await api(srv, 'POST', 'login', { User: rm2User.name, Password: wrongPassword }, { key: null })).status, 401);
  assert.equal((await api(srv, 'POST', 'login', { User: `nobody${tag}`, Password: wrongPassword }, { key: null })).status, 401);
  for (const as of ['cookie', 'session', 'token']) {
    await asSession(srv, me, 'GET', 'ActiveSession/AboutMe', undefined, { as });
    await asSession(srv, me, 'GET', 'Products?limit=2', undefined, { as });
    await asSession(srv, me, 'POST', 'ActiveSession/Sale/Items', { Pid: 1, Qty: 1 }, { as });
  }
  const streamsOf = [
    sessionStream(srv, me, { as: 'token', query: { want: 'sale,usermessage' } }),
    sessionStream(srv, me, { as: 'session', query: { want: 'sale' } }),
    sessionStream(srv, me, { as: 'cookie', query: { want: 'usermessage' } }),
    sessionStream(srv, me, { as: 'token', path: '/eventsource_2', query: { want: 'products', rve: '0' } }),
    sessionStream(srv, me, { as: 'token', path: '/eventsource_1', query: { want: 'products' } }), // 403
    openStream(srv, { key: key2, query: { want: 'usermessage', session: me.session } }),
    openStream(srv, { key: key2, query: { want: 'products', session: rm1Session.session } }), // 400
    openStream(srv, { key: null, query: { want: 'products', token: `${me.token}x` } }), // 401
  ];
  for (const st of streamsOf) {
    keep(st);
    await st.response.catch(() => {});
    if (st.status === 200) {
      await st.ready();
    } else {
      await st.ended;
    }
  }
  const sid = me.session;
  for (const path of [
    `Sessions/${sid}/Messages`,
    `Sessions//${sid}/Messages`,
    `Sessions%2F${sid}/Messages`,
    `sessions/${sid}/Messages`,
    `SESSIONS/${sid}/Prompts`,
    `Sessions/${sid}/Prompts`,
    `Sessions/${encodeURIComponent(sid)}/Messages?x=1`,
  ]) {
    await api(srv, 'POST', path, { Text: 'back office says hi', Options: ['ok'] }, { key: key2 });
  }
  await api(srv, 'POST', `Sessions/${rm1Session.session}/Messages`, { Text: 'wrong tenant' }, { key: key2 });
  // Secrets put in the URL by mistake, and a key as a cookie.
  await request(srv, { path: `/openapi/Products?api_key=${key1}&key=${key2}&password=${rm2User.password}` });
  const mixed = keep(openStream(srv, { key: null, query: `want=products&token=${me.token}&session=${me.session}&key=${key1}` }));
  await ready(mixed);
  mixed.close();
  await request(srv, { path: `/openapi/ActiveSession/AboutMe?SESSION=${me.session}&Token=${me.token}` });
  await request(srv, { path: `/openapi/Products?%74oken=${me.token}&session=${me.session}&session=${encodeURIComponent(me.session)}` });
  await request(srv, { path: '/openapi/Products', headers: { 'X-Api-Key': `${key1}x` } });
  await request(srv, { path: '/openapi/Products', headers: { Cookie: `posfeed_session=${key1}` } });
  await asSession(srv, me, 'POST', 'logout', undefined, { as: 'session' });
  await sleep(200);

  const hexOf = (v) => v.replace(/^[a-z]+_/, '');
  return [
    ['key of RmSystem 1', key1],
    ['secret of the key of RmSystem 1', key1.slice(21)],
    ['key of RmSystem 2', key2],
    ['secret of the key of RmSystem 2', key2.slice(21)],
    ['password of RmSystem 1’s user', `rm1-password-${tag}`],
    ['password of RmSystem 2’s user', rm2User.password],
    ['a wrong password', wrongPassword],
    ['a session id', rm1Session.session],
    ['a UrlToken', rm1Session.token],
    ...made.map((v, i) => [`secret ${i}`, v]),
    ...[rm1Session.session, rm1Session.token, ...made].map((v) => ['the random part of a session or token', hexOf(v)]),
  ];
}

/** Asserts that requests were logged and that no line of `logs` shows any of `secrets`. */
function assertNoSecretLogged(logs, secrets) {
  assert.match(logs, /eventsource/, 'requests are logged');
  assert.match(logs, /Sessions/, 'back-office session routes are logged');
  const lines = logs.split('\n');
  for (const [what, secret] of secrets) {
    assert.ok(secret.length >= 16, `${what} is a real secret`);
    const line = lines.find((l) => l.includes(secret));
    assert.equal(line, undefined, `the log shows ${what}: ${line}`);
  }
}

/** The lines a server wrote to standard error (its log), without the harness's prefix. */
const stderrLines = (srv) =>
  srv.logs
    .split('\n')
    .filter((l) => /^\[run \d+ stderr\] /.test(l))
    .map((l) => l.replace(/^\[run \d+ stderr\] /, ''));


describe('tenancy: two RmSystems on one server', () => {
  let srv;
  let key1; // '*' on RmSystem 1 (srv.key)
  let key2; // '*' on RmSystem 2
  const tag = crypto.randomBytes(4).toString('hex');
  const M1 = `rm1secret${tag}`; // in every text RmSystem 1 writes
  const M2 = `rm2mark${tag}`;
  const BARCODE1 = '4006381333931'; // a valid EAN-13, on a product of RmSystem 1 only
  const ids = { 1: { pids: [], cids: [], sids: [] }, 2: { pids: [], cids: [], sids: [] } };
  const rm2Rves = new Set(); // every RVE RmSystem 2 committed (state-like types)
  const streams = [];
  let rm1Session; // a login of a user of RmSystem 1
  let rm2User; // {name, password} of a user of RmSystem 2
  const secrets = []; // session ids and tokens made along the way
  const markers1 = () => [M1, rm1Session?.session, rm1Session?.token].filter(Boolean);

  const keep = (s) => {
    streams.push(s);
    return s;
  };
  const as1 = (method, path, body) => api(srv, method, path, body, { key: key1 });
  const as2 = async (method, path, body, options = {}) => {
    const res = await api(srv, method, path, body, { key: key2, ...options });
    assertNoLeak(res.text, markers1(), `${method} ${path} (${res.status})`);
    return res;
  };
  const write2 = async (method, path, body) => {
    const res = await write(srv, method, path, body, { key: key2 });
    rm2Rves.add(res.rve);
    return res;
  };

  /** RmSystem 1 writes one of everything, all carrying M1; resolves with their RVEs. */
  async function rm1Burst(n) {
    const rves = [];
    const p = await write(srv, 'POST', 'Products', { Description: `${M1} burst ${n}`, Price: 2 }, { key: key1 });
    rves.push(p.rve);
    const pid = p.json.data.Pid;
    ids[1].pids.push(pid);
    rves.push((await write(srv, 'PATCH', `Products/${pid}`, { Description: `${M1} burst ${n} edited` }, { key: key1 })).rve);
    const c = await write(srv, 'POST', 'Customers', { Name: `${M1} burst ${n}` }, { key: key1 });
    ids[1].cids.push(c.json.data.Cid);
    rves.push(c.rve);
    rves.push((await write(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 1, Delta: 5, Reason: M1 }, { key: key1 })).rve);
    const sale = await write(srv, 'POST', 'Sales', { Location: 1, Lines: [{ Pid: pid, Qty: 1 }] }, { key: key1 });
    ids[1].sids.push(sale.json.data.Sid);
    rves.push(sale.rve);
    rves.push((await write(srv, 'POST', 'Barcodes', { RawScan: `${M1}-scan-${n}` }, { key: key1 })).rve);
    rves.push((await write(srv, 'POST', 'Barcodes', { RawScan: BARCODE1, Location: 1 }, { key: key1 })).rve);
    rves.push(
      (
        await write(srv, 'POST', `Sessions/${rm1Session.session}/Messages`, { Text: `${M1} message ${n}` }, { key: key1 })
      ).rve,
    );
    return rves;
  }

  before(async () => {
    // At debug every answered request is logged (below 400 they log at debug), so the secret
    // grep sees every request line.
    srv = await startServer({ config: 'log_level = "debug"\n' });
    key1 = srv.key;
    await srv.createRmSystem('2');
    key2 = await srv.createKey({ rmsystem: '2', scopes: '*' });
    await createUser(srv, { name: `rm1till${tag}`, password: `rm1-password-${tag}`, rmsystem: '1' });
    rm2User = { name: `rm2till${tag}`, password: `rm2-password-${tag}` };
    await createUser(srv, { ...rm2User, rmsystem: '2' });
    rm1Session = await login(srv, `rm1till${tag}`, `rm1-password-${tag}`);
    assert.equal(rm1Session.rmsystem, '1');

    // Interleaved creations: RmSystem 1 makes 4 products and 3 customers, RmSystem 2 makes 2
    // and 1, so that Pids 3, 4 and Cids 2, 3 exist in RmSystem 1 only.
    const product = async (rm, n, extra = {}) => {
      const body = { Description: `${rm === 1 ? M1 : M2} product ${n}`, Price: 10 + n, ...extra };
      const res = rm === 1 ? await write(srv, 'POST', 'Products', body, { key: key1 }) : await write2('POST', 'Products', body);
      ids[rm].pids.push(res.json.data.Pid);
    };
    const customer = async (rm, n) => {
      const body = { Name: `${rm === 1 ? M1 : M2} customer ${n}`, Email: `${rm === 1 ? M1 : M2}@example.com` };
      const res = rm === 1 ? await write(srv, 'POST', 'Customers', body, { key: key1 }) : await write2('POST', 'Customers', body);
      ids[rm].cids.push(res.json.data.Cid);
    };
    await product(1, 1);
    await product(2, 1);
    await customer(1, 1);
    await product(1, 2);
    await customer(2, 1);
    await product(2, 2);
    await customer(1, 2);
    await product(1, 3, { Barcode: BARCODE1 });
    await product(1, 4);
    await customer(1, 3);
    for (const [rm, reason] of [
      [1, M1],
      [2, M2],
    ]) {
      const w = rm === 1 ? (m, p, b) => write(srv, m, p, b, { key: key1 }) : write2;
      for (const pid of ids[rm].pids) {
        await w('POST', 'StockAdjustments', { Pid: pid, Location: 1, Set: 100, Reason: reason });
      }
    }
    // Sales: 2 in RmSystem 1, 1 in RmSystem 2 (Sid 2 exists in RmSystem 1 only).
    ids[1].sids.push((await write(srv, 'POST', 'Sales', { Location: 1, Cid: 3, Lines: [{ Pid: 4, Qty: 2 }] }, { key: key1 })).json.data.Sid);
    ids[2].sids.push((await write2('POST', 'Sales', { Location: 1, Cid: 1, Lines: [{ Pid: 2, Qty: 1 }] })).json.data.Sid);
    ids[1].sids.push((await write(srv, 'POST', 'Sales', { Location: 1, Lines: [{ Pid: 3, Qty: 1 }] }, { key: key1 })).json.data.Sid);
    // Session traffic in RmSystem 1.
    await write(srv, 'POST', `Sessions/${rm1Session.session}/Messages`, { Text: `${M1} hello`, Severity: 'info' }, { key: key1 });
    await write(srv, 'POST', `Sessions/${rm1Session.session}/Prompts`, { Text: `${M1} ok?`, Options: ['yes'] }, { key: key1 });
  });

  after(async () => {
    for (const s of streams) {
      s.close();
    }
    await srv?.cleanup();
  });

  test('Pid, Cid and Sid are counted per RmSystem: both start at 1 and never mix', () => {
    assert.deepEqual(ids[1].pids, [1, 2, 3, 4]);
    assert.deepEqual(ids[2].pids, [1, 2]);
    assert.deepEqual(ids[1].cids, [1, 2, 3]);
    assert.deepEqual(ids[2].cids, [1]);
    assert.deepEqual(ids[1].sids, [1, 2]);
    assert.deepEqual(ids[2].sids, [1]);
  });

  test('RmSystem 2 lists only its own records: Products, Customers, StockLevels, Sales, since=, a foreign page cursor', async () => {
    const expected = { Products: ['Pid', [1, 2]], Customers: ['Cid', [1]], Sales: ['Sid', [1]] };
    for (const [resource, [idName, wanted]] of Object.entries(expected)) {
      for (const query of ['', '?since=0', '?since=20000101.000000000&limit=1000']) {
        const res = await as2('GET', `${resource}${query}`);
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(
          dataOf(res).map((r) => r[idName]),
          wanted,
          `${resource}${query}: ${res.text.slice(0, 300)}`,
        );
      }
    }
    const products = dataOf(await as2('GET', 'Products'));
    assert.ok(products.every((p) => p.Description.startsWith(M2)), JSON.stringify(products));
    const levels = await as2('GET', 'StockLevels');
    assert.equal(levels.status, 200, levels.text);
    assert.deepEqual(dataOf(levels).map((l) => `${l.Pid}@${l.Location}`).sort(), ['1@1', '2@1']);
    for (const pid of [3, 4]) {
      const one = await as2('GET', `StockLevels?pid=${pid}`);
      assert.ok(one.status === 200 || one.status === 404, one.text);
      if (one.status === 200) {
        assert.deepEqual(dataOf(one), [], `no level of RmSystem 1's Pid ${pid}: ${one.text}`);
      }
    }
    // A page cursor from RmSystem 1's list pages RmSystem 2's records (or is refused), never RmSystem 1's.
    const page1 = await as1('GET', 'Products?limit=1');
    assert.equal(page1.status, 200, page1.text);
    assert.equal(typeof page1.json.next, 'string');
    const foreign = await as2('GET', `Products?limit=10&after=${encodeURIComponent(page1.json.next)}`);
    assert.ok(foreign.status === 200 || foreign.status === 400, foreign.text);
    if (foreign.status === 200) {
      assert.ok(dataOf(foreign).every((p) => p.Description.startsWith(M2)), foreign.text);
    }
  });

  test('GET by id of a record of RmSystem 1 only: 404; the same id in RmSystem 2 is its own record', async () => {
    for (const path of ['Products/3', 'Products/4', 'Customers/2', 'Customers/3', 'Sales/2']) {
      assertError(await as2('GET', path), 404, 'not_found');
    }
    const p1 = await as2('GET', 'Products/1');
    assert.equal(p1.status, 200, p1.text);
    assert.equal(p1.json.data.Description, `${M2} product 1`);
    const c1 = await as2('GET', 'Customers/1');
    assert.equal(c1.json.data.Name, `${M2} customer 1`);
    const s1 = await as2('GET', 'Sales/1');
    assert.deepEqual(s1.json.data.Lines.map((l) => l.Pid), [2], 'RmSystem 2’s own sale 1');
    const r1 = await as1('GET', 'Products/1');
    assert.equal(r1.json.data.Description, `${M1} product 1`, 'and RmSystem 1 still sees its own Pid 1');
  });

  test('writes aimed at RmSystem 1’s ids are refused (404 or 400) and change nothing there', async () => {
    const before1 = (await as1('GET', 'Products?limit=1000')).text;
    const beforeCustomers = (await as1('GET', 'Customers?limit=1000')).text;
    const beforeLevels = (await as1('GET', 'StockLevels?limit=1000')).text;
    assertError(await as2('PATCH', 'Products/3', { Price: 999, Description: 'hijacked' }), 404, 'not_found');
    assertError(await as2('DELETE', 'Products/4'), 404, 'not_found');
    assertError(await as2('PATCH', 'Customers/3', { Name: 'hijacked' }), 404, 'not_found');
    assertError(await as2('DELETE', 'Customers/2'), 404, 'not_found');
    for (const body of [
      { Pid: 3, Location: 1, Delta: -50 },
      { Pid: 4, Location: 1, Set: 0 },
    ]) {
      const res = await as2('POST', 'StockAdjustments', body);
      assert.ok(res.status === 400 || res.status === 404, `${JSON.stringify(body)}: ${res.status} ${res.text}`);
    }
    for (const body of [
      { Location: 1, Lines: [{ Pid: 4, Qty: 1 }] },
      { Location: 1, Cid: 3, Lines: [{ Pid: 1, Qty: 1 }] },
    ]) {
      const res = await as2('POST', 'Sales', body);
      assert.ok(res.status === 400 || res.status === 404, `${JSON.stringify(body)}: ${res.status} ${res.text}`);
    }
    // Back office of RmSystem 2 cannot reach a session of RmSystem 1.
    assertError(await as2('POST', `Sessions/${rm1Session.session}/Messages`, { Text: 'psst' }), 404, 'not_found');
    assertError(await as2('POST', `Sessions/${rm1Session.session}/Prompts`, { Text: 'psst?' }), 404, 'not_found');
    assertError(await as2('POST', 'Barcodes', { RawScan: '5012345678900', Session: rm1Session.session }), 404, 'not_found');
    assertError(await as2('GET', 'Prompts/1'), 404, 'not_found');

    assert.equal((await as1('GET', 'Products?limit=1000')).text, before1, 'RmSystem 1’s products are unchanged');
    assert.equal((await as1('GET', 'Customers?limit=1000')).text, beforeCustomers, 'and its customers');
    assert.equal((await as1('GET', 'StockLevels?limit=1000')).text, beforeLevels, 'and its stock levels');
    assert.deepEqual(dataOf(await as2('GET', 'Products')).map((p) => p.Pid), [1, 2], 'RmSystem 2 made nothing either');
  });

  test('/eventsource_1 with RmSystem 2’s key is 403; /eventsource_2 serves it', async () => {
    for (const query of [`want=${STATE}`, `want=${STATE}&rve=0`, `want=${STATE}&snapshot=1`]) {
      const s = openStream(srv, { path: '/eventsource_1', query, key: key2 });
      await s.ended;
      assert.equal(s.status, 403, s.raw);
      assert.equal(s.json.error.code, 'permission_denied');
      assertNoLeak(s.raw, markers1(), '/eventsource_1');
    }
    const own = keep(openStream(srv, { path: '/eventsource_2', query: 'want=products&rve=0', key: key2 }));
    await ready(own);
    assert.ok(own.named('products').length > 0);
    own.close();
  });

  test('replay with rve=0 sends exactly RmSystem 2’s events', async () => {
    const s = keep(openStream(srv, { query: `want=${STATE},barcode&rve=0`, key: key2 }));
    await ready(s);
    assertNoLeak(s.raw, markers1(), 'the replay');
    const got = new Set(logEvents(s).flatMap((e) => rvesIn(e.data)));
    assert.deepEqual([...got].sort(), [...rm2Rves].sort(), 'the RVEs of RmSystem 2’s writes, no more');
    for (const e of s.named('products')) {
      assert.ok(recordsOf(e).records.every((r) => r.Description.startsWith(M2)), e.data);
    }
    s.close();
  });

  test('snapshot=1 sends RmSystem 2’s current state only', async () => {
    const s = keep(openStream(srv, { query: `want=${STATE}&snapshot=1`, key: key2 }));
    await ready(s);
    assertNoLeak(s.raw, markers1(), 'the snapshot');
    assert.deepEqual(stateKeys(s), ['C1', 'L1@1', 'L2@1', 'P1', 'P2'], s.raw.slice(0, 1500));
    s.close();
  });

  test('an RVE of RmSystem 1 ahead of RmSystem 2’s newest is a cursor from the future for RmSystem 2', async () => {
    const barrier = (await write2('POST', 'Customers', { Name: `${M2} before the jump` })).rve;
    await sleep(5);
    const rves1 = await rm1Burst('ahead');
    const newest1 = rves1.sort().at(-1);
    assert.ok(newest1 > barrier);
    const s = keep(openStream(srv, { query: `want=${STATE}&rve=${newest1}`, key: key2 }));
    await ready(s);
    assertNoLeak(s.raw, markers1(), 'the stream');
    const reset = s.named('reset');
    assert.equal(reset.length, 1, `a reset: ${s.raw.slice(0, 500)}`);
    assert.equal(parseKeepingRve(reset[0].data).Reset[0].Reason, 'cursor_ahead', reset[0].data);
    s.close();
  });

  test('live: RmSystem 2’s stream gets nothing of RmSystem 1’s writes, scans or messages', async () => {
    const plain = keep(openStream(srv, { query: `want=${STATE},barcode`, key: key2 }));
    const suffixed = keep(openStream(srv, { path: '/eventsource_2', query: `want=${STATE},barcode&location=1`, key: key2 }));
    await ready(plain);
    await ready(suffixed);
    await rm1Burst('live');
    await sleep(100);
    // RmSystem 2 scans RmSystem 1's product barcode: no Pid of RmSystem 1 in its event.
    const scan = await write2('POST', 'Barcodes', { RawScan: BARCODE1, Location: 1 });
    const barrier = await write2('POST', 'Products', { Description: `${M2} live barrier`, Price: 1 });
    for (const s of [plain, suffixed]) {
      await waitForId(s, barrier.rve);
      assertNoLeak(s.raw, markers1(), 'the live stream');
      assert.deepEqual(
        logEvents(s).map((e) => `${e.event} ${rvesIn(e.data)[0]}`),
        [`barcode ${scan.rve}`, `products ${barrier.rve}`],
        'only RmSystem 2’s events',
      );
      const [rec] = recordsNamed(s, 'barcode');
      assert.equal(rec.RawScan, BARCODE1);
      assert.ok(!('Pid' in rec) || rec.Pid === null || rec.Pid === 0, `no Pid from RmSystem 1: ${JSON.stringify(rec)}`);
    }
  });

  test('a session of a user of RmSystem 2 never sees RmSystem 1’s data', async () => {
    const me = await login(srv, rm2User.name, rm2User.password);
    secrets.push(me.session, me.token);
    assert.equal(me.rmsystem, '2');
    const about = await asSession(srv, me, 'GET', 'ActiveSession/AboutMe');
    assert.equal(about.json.data.RmSystem, '2');
    const wants = `${STATE},barcode,sale,usermessage,userprompt`;

    // Routes, with the cookie and with session=.
    for (const as of ['cookie', 'session']) {
      const list = await asSession(srv, me, 'GET', 'Products?limit=1000', undefined, { as });
      assert.equal(list.status, 200, list.text);
      assertNoLeak(list.text, markers1(), 'a session’s product list');
      assert.ok(dataOf(list).every((p) => p.Description.startsWith(M2)), list.text);
      // The newest ids of RmSystem 1, beyond RmSystem 2's.
      const only1 = [`Products/${ids[1].pids.at(-1)}`, `Customers/${ids[1].cids.at(-1)}`, `Sales/${ids[1].sids.at(-1)}`];
      for (const path of [...only1, 'Prompts/1']) {
        const res = await asSession(srv, me, 'GET', path, undefined, { as });
        assertError(res, 404, 'not_found');
        assertNoLeak(res.text, markers1(), `GET ${path} as a session`);
      }
    }
    const pid1 = ids[1].pids.at(-1);
    assert.ok(pid1 > 3, 'a Pid of RmSystem 1 only');
    for (const body of [{ Pid: pid1, Qty: 1 }, { Barcode: BARCODE1, Qty: 1 }]) {
      const res = await asSession(srv, me, 'POST', 'ActiveSession/Sale/Items', body);
      assertNoLeak(res.text, markers1(), `adding ${JSON.stringify(body)}`);
      assert.ok(res.status === 200 || res.status === 400 || res.status === 404, res.text);
      if (res.status === 200) {
        assert.ok(!res.text.includes(`"Pid":${pid1}`), `RmSystem 1’s Pid ${pid1} is not sold: ${res.text}`);
        assert.ok(!res.text.includes('"Pid":3,'), `RmSystem 1’s barcode (Pid 3) is not sold: ${res.text}`);
      }
    }
    const active = await asSession(srv, me, 'GET', 'ActiveSession/Sale');
    assertNoLeak(active.text, markers1(), 'the active sale');

    // Streams: replay from 0, snapshot, /eventsource_1 refused, then live.
    const refused = sessionStream(srv, me, { path: '/eventsource_1', query: { want: STATE } });
    await refused.ended;
    assert.equal(refused.status, 403, refused.raw);
    assertNoLeak(refused.raw, markers1(), 'the refusal');
    const snap = keep(sessionStream(srv, me, { as: 'session', query: { want: STATE, snapshot: '1' } }));
    await ready(snap);
    assertNoLeak(snap.raw, markers1(), 'a session’s snapshot');
    const replay = keep(sessionStream(srv, me, { query: { want: wants, rve: '0' } }));
    const live = keep(sessionStream(srv, me, { as: 'cookie', query: { want: wants } }));
    await ready(replay);
    await ready(live);
    assertNoLeak(replay.raw, markers1(), 'a session’s replay');
    const replayed = new Set(logEvents(replay).flatMap((e) => rvesIn(e.data)));
    assert.deepEqual([...rm2Rves].filter((r) => !replayed.has(r)), [], 'the replay holds all of RmSystem 2’s events');
    assert.deepEqual(
      [...replayed].filter((r) => !rm2Rves.has(r)),
      logEvents(replay).filter((e) => ['sale', 'usermessage', 'userprompt'].includes(e.event)).flatMap((e) => rvesIn(e.data)),
      'every other replayed event is this session’s own',
    );

    await rm1Burst('session');
    await write(srv, 'POST', 'Barcodes', { RawScan: `${M1}-at-rm1-session`, Session: rm1Session.session }, { key: key1 });
    await sleep(100);
    const barrier = await write(srv, 'POST', `Sessions/${me.session}/Messages`, { Text: `${M2} barrier` }, { key: key2 });
    for (const s of [replay, live]) {
      await waitForId(s, barrier.rve);
      assertNoLeak(s.raw, markers1(), 'a session’s live stream');
    }
    const afterReady = (s) => s.events.slice(s.events.findIndex((e) => e.event === 'ready') + 1);
    assert.deepEqual(
      afterReady(live).map((e) => e.event),
      ['usermessage'],
      `only the barrier after ready: ${live.raw.slice(-800)}`,
    );
    assert.deepEqual(afterReady(replay).map((e) => e.event), ['usermessage']);
  });

  test('session= of a session of RmSystem 1 with RmSystem 2’s key is refused without a leak', async () => {
    const s = openStream(srv, { query: { want: 'usermessage', session: rm1Session.session }, key: key2 });
    await s.ended;
    assert.ok(s.status === 400 || s.status === 403 || s.status === 404, `${s.status} ${s.raw}`);
    assertNoLeak(s.raw, markers1(), 'the refusal');
  });

  test('no key, session id, UrlToken or password ever appears in the server log', async () => {
    const all = await secretWorkload(srv, { key1, key2, rm1Session, rm2User, tag, known: secrets, keep });
    assertNoSecretLogged(srv.logs, all);
  });
});

describe('tenancy: the JSON log keeps credentials out too', () => {
  let srv;
  let key2;
  let rm1Session;
  let rm2User;
  const tag = crypto.randomBytes(4).toString('hex');
  const streams = [];
  const keep = (s) => {
    streams.push(s);
    return s;
  };

  before(async () => {
    // The harness takes no extra arguments: a shell appends `--log-format json`, which must win
    // over the file's `log_format = "text"` as every flag wins over the file.
    srv = await startServer({
      config: 'log_level = "debug"\nlog_format = "text"\n',
      launcher: ['/bin/sh', '-c', 'exec "$0" "$@" --log-format json'],
    });
    await srv.createRmSystem('2');
    key2 = await srv.createKey({ rmsystem: '2', scopes: '*' });
    await createUser(srv, { name: `rm1json${tag}`, password: `rm1-password-${tag}`, rmsystem: '1' });
    rm2User = { name: `rm2json${tag}`, password: `rm2-password-${tag}` };
    await createUser(srv, { ...rm2User, rmsystem: '2' });
    rm1Session = await login(srv, `rm1json${tag}`, `rm1-password-${tag}`);
  });

  after(async () => {
    for (const s of streams) {
      s.close();
    }
    await srv?.cleanup();
  });

  test('every line is one JSON object with time, level and message, and no secret appears', async () => {
    const all = await secretWorkload(srv, { key1: srv.key, key2, rm1Session, rm2User, tag, keep });
    // The logout's streams and the one the client closed log their close.
    const closedLines = () => stderrLines(srv).filter((l) => l.includes('stream closed'));
    await until(() => closedLines().length >= 4, 'the closed streams to log their close');

    const lines = stderrLines(srv);
    assert.ok(lines.length > 20, `a log of ${lines.length} lines`);
    const entries = lines.map((line) => {
      let e;
      assert.doesNotThrow(() => {
        e = JSON.parse(line);
      }, `not one JSON object: ${line}`);
      assert.equal(typeof e, 'object', line);
      assert.match(e.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, line);
      assert.ok(['trace', 'debug', 'info', 'warning', 'error', 'critical'].includes(e.level), line);
      assert.equal(typeof e.message, 'string', line);
      return e;
    });
    assertNoSecretLogged(srv.logs, all);

    // Requests below 400 log at debug, from 400 on at info, with their status and time.
    const requests = entries.filter((e) => typeof e.duration_ms === 'number' && e.stream_id === undefined);
    assert.ok(requests.some((e) => e.level === 'debug' && e.status === 200), 'a 200 at debug');
    assert.ok(requests.some((e) => e.level === 'info' && e.status === 401), 'a 401 at info');
    for (const e of requests) {
      assert.equal(e.level, e.status < 400 ? 'debug' : 'info', JSON.stringify(e));
      assert.match(e.target, /^\//, JSON.stringify(e));
      assert.ok(e.message.startsWith(`${e.method} ${e.target} ${e.status} `), JSON.stringify(e));
    }
    // One line per stream opened, one per stream closed, paired by stream_id.
    const opened = new Map(
      entries.filter((e) => e.message.endsWith(' 200 stream opened')).map((e) => [e.stream_id, e]),
    );
    assert.ok(opened.size >= 5, `${opened.size} streams opened`);
    for (const e of opened.values()) {
      assert.equal(e.status, 200);
      assert.equal(typeof e.stream_id, 'number');
      assert.match(e.rmsystem, /^[12]$/);
      assert.match(e.target, /^\/eventsource/);
    }
    const closed = entries.filter((e) => e.message.includes(' stream closed'));
    for (const e of closed) {
      assert.ok(opened.has(e.stream_id), `the closed stream ${e.stream_id} opened: ${JSON.stringify(e)}`);
      assert.ok(
        ['client_closed', 'slow_consumer', 'write_timeout', 'revoked', 'shutdown', 'error'].includes(e.reason),
        JSON.stringify(e),
      );
      for (const n of ['duration_ms', 'events', 'bytes']) {
        assert.ok(Number.isInteger(e[n]) && e[n] >= 0, `${n}: ${JSON.stringify(e)}`);
      }
      assert.ok(e.bytes > 0, `every stream sent retry: and ready: ${JSON.stringify(e)}`);
    }
    const revoked = closed.filter((e) => e.reason === 'revoked');
    assert.ok(revoked.length >= 3, `the logout closed its streams: ${JSON.stringify(closed)}`);
    assert.ok(revoked.every((e) => e.message.endsWith('stream closed: the session logged out')));
    assert.ok(closed.some((e) => e.reason === 'client_closed'), 'the stream the client closed');
    // A refused stream names its error code.
    const refused = entries.filter((e) => e.method === 'GET' && /^\/eventsource/.test(e.target) && e.status >= 400);
    assert.ok(refused.some((e) => e.status === 403 && e.code === 'permission_denied'), JSON.stringify(refused));
  });
});

describe('tenancy: compacted catch-up after a short history', () => {
  let srv;
  let key2;
  const tag = crypto.randomBytes(4).toString('hex');
  const M1 = `rm1old${tag}`;
  const M2 = `rm2old${tag}`;

  before(async () => {
    srv = await startServer({ config: '[history]\nkeep_ms = 1500\nprune_interval_ms = 200\n' });
    await srv.createRmSystem('2');
    key2 = await srv.createKey({ rmsystem: '2', scopes: '*' });
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('a cursor older than the history gets RmSystem 2’s state since it, never RmSystem 1’s', async () => {
    const w1 = (path, body) => write(srv, 'POST', path, body);
    const w2 = (path, body) => write(srv, 'POST', path, body, { key: key2 });
    const first2 = await w2('Products', { Description: `${M2} first`, Price: 1 });
    const cursor = first2.rve;
    await w1('Products', { Description: `${M1} a`, Price: 1 });
    await w1('Products', { Description: `${M1} b`, Price: 1 });
    await w1('Customers', { Name: `${M1} c` });
    await w1('StockAdjustments', { Pid: 2, Location: 1, Set: 7, Reason: M1 });
    await w2('Products', { Description: `${M2} second`, Price: 2 });
    await w2('Customers', { Name: `${M2} c` });
    await w1('Sales', { Location: 1, Lines: [{ Pid: 2, Qty: 1 }] });
    await w2('Sales', { Location: 1, Lines: [{ Pid: 1, Qty: 1 }] });
    await w1('Products', { Description: `${M1} d`, Price: 1 });
    // Wait for the history to expire past the cursor (RmSystem 1 keeps writing meanwhile).
    let s;
    for (let i = 0; i < 40; i += 1) {
      await sleep(250);
      await w1('Customers', { Name: `${M1} meanwhile ${i}` });
      s = openStream(srv, { query: { want: STATE, rve: cursor }, key: key2 });
      await ready(s);
      if (s.named('reset').length > 0) {
        break;
      }
      s.close();
    }
    try {
      assert.equal(s.named('reset').length, 1, `the history expired: ${s.raw.slice(0, 500)}`);
      assert.equal(parseKeepingRve(s.named('reset')[0].data).Reset[0].Reason, 'history_expired');
      assertNoLeak(s.raw, [M1], 'the catch-up');
      // Changed after the cursor in RmSystem 2: product 2, customer 1, sale 1 and the levels it lowered.
      assert.deepEqual(stateKeys(s), ['C1', 'L1@1', 'P2', 'S1'], s.raw.slice(0, 1500));
    } finally {
      s.close();
    }
    // And from 0 (as old as it gets): all of RmSystem 2, nothing of RmSystem 1.
    const zero = openStream(srv, { query: { want: STATE, rve: '0' }, key: key2 });
    await ready(zero);
    zero.close();
    assertNoLeak(zero.raw, [M1], 'the catch-up from 0');
    assert.ok(zero.raw.includes(`${M2} first`) && zero.raw.includes(`${M2} second`), zero.raw.slice(0, 1000));
  });
});
