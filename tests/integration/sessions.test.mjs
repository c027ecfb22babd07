// POS sessions (SPEC 5, 7): login, the session cookie, AboutMe, logout closing every stream the
// session opened, idle expiry, slowed-down login failures, UrlTokens refused by the API, and the
// credentials an event source accepts for session events.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, request, sleep, write } from './lib/api.mjs';
import {
  asSession,
  cookieHeader,
  COOKIE,
  createUser,
  login,
  loginRaw,
  readyStream,
  recordsNamed,
  sessionStream,
  waitRecords,
} from './lib/pos.mjs';
import { assertError, until } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

/** The attributes of a Set-Cookie value: {name, value, attrs: {lowercased name: value}}. */
function parseSetCookie(text) {
  const [pair, ...rest] = text.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attrs = {};
  for (const a of rest) {
    const i = a.indexOf('=');
    attrs[(i < 0 ? a : a.slice(0, i)).toLowerCase()] = i < 0 ? true : a.slice(i + 1);
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs };
}

/** GET on the event source that must be refused: resolves with the response (3 s at most). */
function refusedStream(srv, query, { headers = {}, path = '/eventsource' } = {}) {
  return request(srv, { path: `${path}?${new URLSearchParams(query)}`, headers, timeoutMs: 3000 });
}

/** Resolves with {complete, error} when the stream ends; rejects after `ms`. */
function endsWithin(stream, ms, what) {
  return Promise.race([
    stream.ended,
    sleep(ms).then(() => {
      throw new Error(`${what}: the stream is still open ${ms} ms later; received:\n${stream.raw.slice(-500)}`);
    }),
  ]);
}

describe('POS sessions', () => {
  let srv;
  let pid; // a product terminals can sell
  const streams = [];

  /** Keeps a stream to close at the end. */
  const keep = (s) => {
    streams.push(s);
    return s;
  };

  before(async () => {
    srv = await startServer();
    await createUser(srv, { name: 'alice', password: 'alice-secret' });
    await createUser(srv, { name: 'bob', password: 'bob-secret' });
    await createUser(srv, { name: 'slowpoke', password: 'right-one' });
    await srv.createRmSystem('2');
    await createUser(srv, { name: 'carol', password: 'carol-secret', rmsystem: '2' });
    pid = (await write(srv, 'POST', 'Products', { Description: 'tea', Price: 3 })).json.data.Pid;
  });

  after(async () => {
    for (const s of streams) {
      s.close();
    }
    await srv?.cleanup();
  });

  test('login answers Session, UrlToken and RmSystem and sets the session cookie: HttpOnly, SameSite=Lax, Path=/', async () => {
    const res = await loginRaw(srv, { User: 'alice', Password: 'alice-secret', Location: 2, Terminal: 'till 4' });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers['content-type'], /^application\/json\b/);
    assert.match(res.headers['cache-control'] ?? '', /no-store/, 'a response holding a session is never cached');
    assert.deepEqual(Object.keys(res.json), ['data']);
    const data = res.json.data;
    assert.deepEqual(Object.keys(data).sort(), ['RmSystem', 'Session', 'UrlToken']);
    assert.equal(data.RmSystem, '1');
    assert.ok(typeof data.Session === 'string' && data.Session.length >= 32, `a long random session id: ${res.text}`);
    assert.ok(typeof data.UrlToken === 'string' && data.UrlToken.length >= 32, `a long random token: ${res.text}`);
    assert.notEqual(data.UrlToken, data.Session, 'the token is not the session id');

    const setCookies = [res.headers['set-cookie'] ?? []].flat();
    assert.equal(setCookies.length, 1, `one Set-Cookie: ${setCookies}`);
    const c = parseSetCookie(setCookies[0]);
    assert.equal(c.name, COOKIE);
    assert.equal(c.value, data.Session, 'the cookie holds the session id');
    assert.equal(c.attrs.httponly, true, `HttpOnly: ${setCookies[0]}`);
    assert.equal(String(c.attrs.samesite).toLowerCase(), 'lax', `SameSite=Lax: ${setCookies[0]}`);
    assert.equal(c.attrs.path, '/', `Path=/: ${setCookies[0]}`);

    const again = await login(srv, 'alice', 'alice-secret');
    assert.notEqual(again.session, data.Session, 'every login makes a new session');
    assert.notEqual(again.token, data.UrlToken, 'with its own token');
  });

  test('login validates its body: 400 without Password, with a non-string User, a bad Location or no JSON', async () => {
    assertError(await loginRaw(srv, { User: 'alice' }), 400, 'invalid_argument', ['Password']);
    assertError(await loginRaw(srv, { User: 7, Password: 'x' }), 400, 'invalid_argument', ['User']);
    assertError(
      await loginRaw(srv, { User: 'alice', Password: 'alice-secret', Location: 0 }),
      400,
      'invalid_argument',
      ['Location'],
    );
    assertError(await loginRaw(srv, 'User=alice&Password=alice-secret'), 400, 'invalid_argument');
  });

  test('a wrong password and an unknown user both get 401 with the same message, and no cookie', async () => {
    const wrong = await loginRaw(srv, { User: 'bob', Password: 'not-bobs' });
    const unknown = await loginRaw(srv, { User: 'nobody-at-all', Password: 'bob-secret' });
    const m1 = assertError(wrong, 401, 'unauthenticated');
    const m2 = assertError(unknown, 401, 'unauthenticated');
    assert.equal(m1, m2, 'the message does not tell whether the user exists');
    assert.equal(wrong.text, unknown.text, 'the bodies are identical');
    assert.equal(wrong.headers['set-cookie'], undefined);
    assert.equal(unknown.headers['set-cookie'], undefined);
    // The right password still works afterwards.
    await login(srv, 'bob', 'bob-secret');
  });

  test('repeated failures for one user name are slowed down; other names are not; a success resets the count', async () => {
    // The server logs each delay it applies ("login delayed N ms"), before the password check
    // whose failure it then logs ("login failed"): counting both lines tells which attempt was
    // delayed, without timing anything.
    const count = (re) => srv.logs.split('\n').filter((l) => re.test(l)).length;
    const delays = () => [...srv.logs.matchAll(/login delayed (\d+) ms: (\d+) failures/g)].map((m) => [Number(m[1]), Number(m[2])]);
    const failed = () => count(/login failed for a user name/);
    const fail = async (user) => {
      const before = failed();
      assertError(await loginRaw(srv, { User: user, Password: 'wrong' }), 401, 'unauthenticated');
      await until(() => failed() > before, 'the failure to be logged');
    };
    const d0 = delays().length;
    for (let i = 0; i < 5; i += 1) {
      await fail('slowpoke');
    }
    // 3 free failures (sessions.login_free_failures), then 250 ms, then 500 ms.
    assert.deepEqual(delays().slice(d0), [
      [250, 3],
      [500, 4],
    ]);
    // Another user name is not slowed by slowpoke's failures.
    await fail('bob');
    assert.equal(delays().length, d0 + 2, "bob's first failure is not delayed");
    // The right password is still accepted (after the wait), and resets the count.
    await login(srv, 'slowpoke', 'right-one');
    await until(() => delays().length === d0 + 3, 'the wait before the right password');
    assert.deepEqual(delays().at(-1), [1000, 5]);
    await fail('slowpoke');
    assert.equal(delays().length, d0 + 3, 'after a success, a failure is not delayed');
    assert.doesNotMatch(srv.logs, /slowpoke/, 'user names are not logged');
  });

  test('AboutMe answers UrlToken, RmSystem, User and Session from the cookie and from session=', async () => {
    const me = await login(srv, 'alice', 'alice-secret');
    const expected = { UrlToken: me.token, RmSystem: '1', User: 'alice', Session: me.session };
    for (const as of ['cookie', 'session']) {
      const res = await asSession(srv, me, 'GET', 'ActiveSession/AboutMe', undefined, { as });
      assert.equal(res.status, 200, `${as}: ${res.text}`);
      assert.deepEqual(Object.keys(res.json), ['data']);
      assert.deepEqual(Object.keys(res.json.data).sort(), ['RmSystem', 'Session', 'UrlToken', 'User']);
      assert.deepEqual(res.json.data, expected, as);
    }
    // Another session's AboutMe describes that session.
    const bob = await login(srv, 'bob', 'bob-secret');
    const res = await asSession(srv, bob, 'GET', 'ActiveSession/AboutMe');
    assert.deepEqual(res.json.data, { UrlToken: bob.token, RmSystem: '1', User: 'bob', Session: bob.session });

    assertError(await api(srv, 'GET', 'ActiveSession/AboutMe', undefined, { key: null }), 401, 'unauthenticated');
    assertError(await api(srv, 'GET', 'ActiveSession/AboutMe'), 403, 'permission_denied', ['session']);
    assertError(
      await api(srv, 'GET', 'ActiveSession/AboutMe', undefined, { key: null, headers: cookieHeader('pfs_made_up') }),
      401,
      'unauthenticated',
    );
  });

  test('a UrlToken is refused (403) by every /openapi route, reads and writes, and changes nothing', async () => {
    const me = await login(srv, 'alice', 'alice-secret');
    const s = me.session;
    const calls = [
      // reads
      ['GET', 'Products'],
      ['GET', `Products/${pid}`],
      ['GET', 'Customers'],
      ['GET', 'Customers/1'],
      ['GET', 'StockLevels'],
      ['GET', 'Sales'],
      ['GET', 'Sales/1'],
      ['GET', 'ActiveSession/Sale'],
      ['GET', 'ActiveSession/AboutMe'],
      ['GET', 'Prompts/1'],
      // writes, every family
      ['POST', 'Products', { Description: 'by token', Price: 1 }],
      ['PATCH', `Products/${pid}`, { Price: 99 }],
      ['DELETE', `Products/${pid}`],
      ['POST', 'Customers', { Name: 'by token' }],
      ['PATCH', 'Customers/1', { Name: 'x' }],
      ['DELETE', 'Customers/1'],
      ['POST', 'StockAdjustments', { Pid: pid, Location: 1, Delta: 5 }],
      ['POST', 'Sales', { Location: 1, Lines: [{ Pid: pid, Qty: 1 }] }],
      ['POST', 'ActiveSession/Sale/Items', { Pid: pid, Qty: 1 }],
      ['DELETE', 'ActiveSession/Sale/Items/1'],
      ['POST', 'ActiveSession/Sale/Payments', { Amount: 3, Method: 'cash' }],
      ['POST', 'ActiveSession/Sale/Complete'],
      ['POST', 'ActiveSession/Sale/Void'],
      ['POST', 'ActiveSession/Prompts/1', { Answer: 'yes' }],
      ['POST', `Sessions/${s}/Messages`, { Text: 'hi', Severity: 'info' }],
      ['POST', `Sessions/${s}/Prompts`, { Text: 'ok?', Options: ['yes'] }],
      ['POST', 'Barcodes', { RawScan: '4006381333931' }],
      ['POST', 'logout'],
    ];
    const newestBefore = (await api(srv, 'GET', 'Products')).text;
    for (const [method, path, body] of calls) {
      const res = await asSession(srv, me, method, path, body, { as: 'token' });
      assertError(res, 403, 'permission_denied');
      assert.equal(res.headers['set-cookie'], undefined, `${method} ${path}`);
    }
    // Nothing was written, and the session lives on (the token's logout was refused).
    assert.equal((await api(srv, 'GET', 'Products')).text, newestBefore, 'the products are unchanged');
    assert.deepEqual((await api(srv, 'GET', 'Customers')).json.data, []);
    assert.deepEqual((await api(srv, 'GET', 'Sales')).json.data, []);
    assert.equal((await asSession(srv, me, 'GET', 'ActiveSession/Sale')).status, 404, 'no sale was started');
    assert.equal((await asSession(srv, me, 'GET', 'ActiveSession/AboutMe')).status, 200, 'the session is alive');
    // The same token is good for the event source.
    const es = keep(sessionStream(srv, me));
    await es.ready();
    assert.equal(es.status, 200);
    es.close();
  });

  test('the token=, session= and cookie credentials each open the session stream, want defaulting to sale', async () => {
    const me = await login(srv, 'alice', 'alice-secret');
    const ss = [];
    for (const as of ['token', 'session', 'cookie']) {
      const s = keep(sessionStream(srv, me, { as }));
      const ready = await s.ready();
      assert.equal(s.status, 200, as);
      assert.deepEqual(JSON.parse(ready.data.replace(/"RVE":[0-9.]+/, '"RVE":0')).Ready[0].Want, ['sale'], as);
      ss.push(s);
    }
    const res = await asSession(srv, me, 'POST', 'ActiveSession/Sale/Items', { Pid: pid, Qty: 2 });
    assert.equal(res.status, 200, res.text);
    for (const s of ss) {
      const [sale] = await waitRecords(s, 'sale', 1);
      assert.equal(sale.State, 'open');
      assert.equal(sale.Total, 6);
      assert.equal(sale._id, res.rve, 'the sale event has the RVE of the write');
    }
    for (const s of ss) {
      s.close();
    }
    // The credential's RmSystem is checked against the path.
    assertError(await refusedStream(srv, { token: me.token }, { path: '/eventsource_2' }), 403, 'permission_denied');
    const ok = keep(sessionStream(srv, me, { path: '/eventsource_1' }));
    await ok.ready();
    ok.close();
    // A made-up token or session id is not a credential.
    assertError(await refusedStream(srv, { token: 'pft_made_up' }), 401, 'unauthenticated');
    assertError(await refusedStream(srv, { session: 'pfs_made_up' }), 401, 'unauthenticated');
    assertError(await refusedStream(srv, {}, { headers: cookieHeader('pfs_made_up') }), 401, 'unauthenticated');
  });

  test('session event types with an API key and no session= are 400 saying a session is needed', async () => {
    for (const want of ['sale', 'usermessage', 'userprompt', 'products,sale']) {
      const res = await refusedStream(srv, { want }, { headers: { 'X-Api-Key': srv.key } });
      assertError(res, 400, 'invalid_argument', ['session']);
    }
    // Without want and without session=, want is required.
    assertError(await refusedStream(srv, {}, { headers: { 'X-Api-Key': srv.key } }), 400, 'invalid_argument', ['want']);
  });

  test('an API key with session= follows that session: its sale and messages, nobody else’s', async () => {
    const a = await login(srv, 'alice', 'alice-secret');
    const b = await login(srv, 'bob', 'bob-secret');
    const follow = keep(openStream(srv, { query: { session: a.session } }));
    const ready = await follow.ready();
    assert.match(ready.data, /"Want":\["sale"\]/, 'want defaults to sale with session=');
    const both = keep(openStream(srv, { query: { session: a.session, want: 'sale,usermessage' } }));
    await both.ready();

    const bSale = await asSession(srv, b, 'POST', 'ActiveSession/Sale/Items', { Pid: pid, Qty: 5 });
    assert.equal(bSale.status, 200, bSale.text);
    await write(srv, 'POST', `Sessions/${b.session}/Messages`, { Text: 'for bob', Severity: 'info' });
    const aSale = await asSession(srv, a, 'POST', 'ActiveSession/Sale/Items', { Pid: pid, Qty: 1 });
    assert.equal(aSale.status, 200, aSale.text);
    const msg = await write(srv, 'POST', `Sessions/${a.session}/Messages`, { Text: 'for alice', Severity: 'warning' });

    const [sale] = await waitRecords(follow, 'sale', 1);
    assert.equal(sale.Sid, aSale.json.data.Sid);
    assert.equal(sale.Total, 3);
    await waitRecords(both, 'usermessage', 1);
    await sleep(200);
    assert.deepEqual(
      recordsNamed(follow, 'sale').map((r) => r.Sid),
      [aSale.json.data.Sid],
      'only alice’s sale, not bob’s',
    );
    assert.deepEqual(recordsNamed(follow, 'usermessage'), [], 'want=sale only');
    assert.deepEqual(
      recordsNamed(both, 'usermessage').map((r) => [r.Text, r.Severity, r._id]),
      [['for alice', 'warning', msg.rve]],
    );

    // session= must name a live session of the key's RmSystem.
    const carol = await login(srv, 'carol', 'carol-secret');
    assert.equal(carol.rmsystem, '2');
    for (const session of ['pfs_made_up', carol.session]) {
      const res = await refusedStream(srv, { session, want: 'sale' }, { headers: { 'X-Api-Key': srv.key } });
      assertError(res, 400, 'invalid_argument', ['session']);
    }
  });

  test('logout ends the session and closes every stream it opened (token, session=, cookie); other sessions go on', async () => {
    const me = await login(srv, 'alice', 'alice-secret');
    const other = await login(srv, 'bob', 'bob-secret');
    const mine = [];
    for (const as of ['token', 'session', 'cookie']) {
      mine.push({ as, s: keep(await readyStream(sessionStream(srv, me, { as, query: { want: 'sale,barcode' } }))) });
    }
    const theirs = keep(await readyStream(sessionStream(srv, other)));

    const res = await asSession(srv, me, 'POST', 'logout');
    assert.equal(res.status, 200, res.text);
    const cleared = parseSetCookie([res.headers['set-cookie'] ?? []].flat()[0] ?? '');
    assert.equal(cleared.name, COOKIE, 'logout clears the cookie');
    assert.equal(cleared.value, '');
    assert.equal(cleared.attrs['max-age'], '0');

    for (const { as, s } of mine) {
      await endsWithin(s, 5000, `the stream opened with ${as}`);
    }
    await sleep(300);
    assert.equal(theirs.done, false, 'another session’s stream stays open');
    const sale = await asSession(srv, other, 'POST', 'ActiveSession/Sale/Items', { Pid: pid, Qty: 1 });
    assert.equal(sale.status, 200);
    await waitRecords(theirs, 'sale', 1);

    // The session, its cookie and its token are dead.
    for (const as of ['cookie', 'session']) {
      assertError(await asSession(srv, me, 'GET', 'ActiveSession/AboutMe', undefined, { as }), 401, 'unauthenticated');
      assertError(
        await asSession(srv, me, 'POST', 'ActiveSession/Sale/Items', { Pid: pid, Qty: 1 }, { as }),
        401,
        'unauthenticated',
      );
    }
    assertError(await refusedStream(srv, { token: me.token }), 401, 'unauthenticated');
    assertError(await refusedStream(srv, { session: me.session }), 401, 'unauthenticated');
    assertError(await refusedStream(srv, {}, { headers: cookieHeader(me.session) }), 401, 'unauthenticated');
    assertError(await asSession(srv, me, 'POST', 'logout'), 401, 'unauthenticated');
    // Back office can no longer reach it.
    assertError(await api(srv, 'POST', `Sessions/${me.session}/Messages`, { Text: 'anyone?' }), 404, 'not_found');
  });

  test('logout with session= closes a stream opened with the cookie', async () => {
    const me = await login(srv, 'bob', 'bob-secret');
    const s = keep(await readyStream(sessionStream(srv, me, { as: 'cookie' })));
    const res = await asSession(srv, me, 'POST', 'logout', undefined, { as: 'session' });
    assert.equal(res.status, 200, res.text);
    await endsWithin(s, 5000, 'the cookie stream');
    assertError(await refusedStream(srv, { token: me.token }), 401, 'unauthenticated');
  });

  test('logout needs a session: no credential is 401, an API key 403', async () => {
    assertError(await api(srv, 'POST', 'logout', undefined, { key: null }), 401, 'unauthenticated');
    assertError(await api(srv, 'POST', 'logout'), 403, 'permission_denied', ['session']);
  });
});

describe('POS session expiry', () => {
  let srv;

  before(async () => {
    srv = await startServer({ config: '[sessions]\nidle_ms = 1500\n' });
    await createUser(srv, { name: 'dave', password: 'dave-secret' });
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('a session idle for longer than idle_ms has expired: cookie, session= and token get 401', async () => {
    const me = await login(srv, 'dave', 'dave-secret');
    assert.equal((await asSession(srv, me, 'GET', 'ActiveSession/AboutMe')).status, 200);
    await sleep(2200);
    for (const as of ['cookie', 'session']) {
      assertError(await asSession(srv, me, 'GET', 'ActiveSession/AboutMe', undefined, { as }), 401, 'unauthenticated', [
        'expired',
      ]);
    }
    assertError(await refusedStream(srv, { token: me.token }), 401, 'unauthenticated');
    assertError(await refusedStream(srv, { session: me.session }), 401, 'unauthenticated');
    // A new login works.
    const again = await login(srv, 'dave', 'dave-secret');
    assert.equal((await asSession(srv, again, 'GET', 'ActiveSession/AboutMe')).status, 200);
  });

  test('a session in use does not expire: requests every 400 ms keep it alive past idle_ms', async () => {
    const me = await login(srv, 'dave', 'dave-secret');
    const started = Date.now();
    while (Date.now() - started < 3200) {
      await sleep(400);
      const res = await asSession(srv, me, 'GET', 'ActiveSession/AboutMe');
      assert.equal(res.status, 200, `${Date.now() - started} ms after login, in use every 400 ms: ${res.text}`);
    }
  });
});
