// Every error answered before a stream starts, and by the JSON API: status, the JSON shape
// {"error":{"code","message"}}, the code, and the words the message must contain (SPEC 3, 5, 7).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { request, sleep, write } from './lib/api.mjs';
import { assertError } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

const VALID_TYPES = [
  'products',
  'customers',
  'levels',
  'sales',
  'debug',
  'sale',
  'usermessage',
  'userprompt',
  'barcode',
];


describe('errors', () => {
  let srv;
  const succeeded = []; // RVEs of the writes that succeeded: the log must hold these only

  /** GET on the event source (or `method`, `path`), with the main key unless `key` is given. */
  function es(query, { key = srv.key, headers = {}, path = '/eventsource', method = 'GET' } = {}) {
    const hs = { ...headers };
    if (key !== null) {
      hs['X-Api-Key'] = key;
    }
    return request(srv, { method, path: query === undefined ? path : `${path}?${query}`, headers: hs });
  }

  /** An API call with the main key unless `key` is given (null: none). */
  function call(method, path, body, { key = srv.key, headers = {} } = {}) {
    const hs = { ...headers };
    if (key !== null) {
      hs['X-Api-Key'] = key;
    }
    return request(srv, { method, path: `/openapi/${path}`, headers: hs, body });
  }

  /** Opens a stream that must succeed, waits for ready, closes it. */
  async function expectStream(options) {
    const s = openStream(srv, options);
    try {
      await s.response;
      assert.equal(s.status, 200, `expected a stream: ${s.status} ${s.raw}`);
      await s.ready();
    } finally {
      s.close();
    }
  }

  before(async () => {
    srv = await startServer({ config: '[limits]\nstreams_per_credential = 1\nbody_bytes = 1000\n' });
    const p = await write(srv, 'POST', 'Products', { Description: 'existing', Price: 1 });
    succeeded.push(p.rve);
  });

  after(async () => {
    await srv?.cleanup();
  });

  describe('event source 400', () => {
    test('want missing', async () => {
      assertError(await es(undefined), 400, 'invalid_argument', ["'want'", ...VALID_TYPES]);
      assertError(await es('format=json'), 400, 'invalid_argument', ["'want'", ...VALID_TYPES]);
    });

    test('unknown type names it and lists the valid ones', async () => {
      const msg = assertError(await es('want=products,stock'), 400, 'invalid_argument', ["'stock'", ...VALID_TYPES]);
      assert.ok(!msg.includes("'products'"), `only the unknown name is named: ${msg}`);
      // Types are case-sensitive.
      assertError(await es('want=Products'), 400, 'invalid_argument', ["'Products'"]);
    });

    test('empty item in want', async () => {
      assertError(await es('want=products,,levels'), 400, 'invalid_argument', ['empty']);
      assertError(await es('want=products,'), 400, 'invalid_argument', ['empty']);
      assertError(await es('want='), 400, 'invalid_argument', ['empty']);
    });

    test('format=yaml', async () => {
      assertError(await es('want=products&format=yaml'), 400, 'invalid_argument', ["'yaml'", 'json', 'xml']);
    });

    test('malformed rve=', async () => {
      assertError(await es('want=products&rve=yesterday'), 400, 'invalid_argument', ['rve', "'yesterday'"]);
      assertError(await es('want=products&rve=20211301.000000000'), 400, 'invalid_argument', ['rve', '20211301']);
      assertError(await es('want=products&rve=20210727.251105994'), 400, 'invalid_argument', ['rve']);
      assertError(await es('want=products&rve=-1'), 400, 'invalid_argument', ['rve']);
    });

    test('malformed Last-Event-ID, even beside a valid rve=', async () => {
      const headers = { 'Last-Event-ID': 'abc' };
      assertError(await es('want=products', { headers }), 400, 'invalid_argument', ['Last-Event-ID', "'abc'"]);
      assertError(await es('want=products&rve=0', { headers }), 400, 'invalid_argument', ['Last-Event-ID', "'abc'"]);
    });

    test('location=abc', async () => {
      assertError(await es('want=levels&location=abc'), 400, 'invalid_argument', ["'abc'", 'location']);
    });
  });

  describe('event source 401', () => {
    test('no key', async () => {
      const res = await es('want=products', { key: null });
      assertError(res, 401, 'unauthenticated', ['X-Api-Key']);
      assert.ok(res.headers['www-authenticate'], 'a 401 names its scheme in WWW-Authenticate');
    });

    test('bad key', async () => {
      assertError(await es('want=products', { key: 'not-a-key' }), 401, 'unauthenticated', ['X-Api-Key']);
      // Well-formed, unknown id.
      const unknown = `pfk_${'0'.repeat(16)}_${'a'.repeat(64)}`;
      assertError(await es('want=products', { key: unknown }), 401, 'unauthenticated', ['X-Api-Key']);
      // Known id, wrong secret.
      const wrongSecret = `${srv.key.slice(0, 21)}${'b'.repeat(64)}`;
      assertError(await es('want=products', { key: wrongSecret }), 401, 'unauthenticated', ['X-Api-Key']);
    });

    test('revoked key: its writes are refused at once, new streams once the server noticed (about a second)', async () => {
      const key = await srv.createKey({ scopes: 'products,write' });
      // Used once: the server now knows the key (decision 40: it does not read it again).
      await expectStream({ query: 'want=products', key });
      const before = await call('POST', 'Products', { Description: 'before' }, { key });
      assert.equal(before.status, 201);
      succeeded.push(/"RVE":(\d{8}\.\d{9})/.exec(before.text)[1]);
      await srv.revokeKey(key);
      // The write re-checks the key in its own transaction.
      assertError(await call('POST', 'Products', { Description: 'after' }, { key }), 401, 'unauthenticated', [
        'revoked',
      ]);
      // A stream opened before the server's once-a-second revocation check is closed by it;
      // after it, the key is refused.
      let status;
      for (let i = 0; i < 100 && status !== 401; i += 1) {
        const s = openStream(srv, { query: 'want=products', key });
        await s.response;
        status = s.status;
        s.close();
        await sleep(50);
      }
      assertError(await es('want=products', { key }), 401, 'unauthenticated', ['revoked']);
    });
  });

  describe('event source 403', () => {
    let key2;
    before(async () => {
      await srv.createRmSystem('2');
      key2 = await srv.createKey({ rmsystem: '2', scopes: '*' });
    });

    test('URL suffix of another RmSystem', async () => {
      assertError(await es('want=products', { path: '/eventsource_2' }), 403, 'permission_denied', ["'2'"]);
      assertError(await es('want=products', { path: '/eventsource_1', key: key2 }), 403, 'permission_denied', ["'1'"]);
      await expectStream({ path: '/eventsource_2', query: 'want=products', key: key2 });
      // Ids with underscores (SPEC 2: e.g. 1_2_3_4) work as suffixes.
      await srv.createRmSystem('1_2_3_4');
      const key1234 = await srv.createKey({ rmsystem: '1_2_3_4', scopes: 'products' });
      await expectStream({ path: '/eventsource_1_2_3_4', query: 'want=products', key: key1234 });
      assertError(await es('want=products', { path: '/eventsource_1_2_3', key: key1234 }), 403, 'permission_denied', [
        "'1_2_3'",
      ]);
      assertError(await es('want=products', { path: '/eventsource_1_2_3_4' }), 403, 'permission_denied', ["'1_2_3_4'"]);
    });

    test('want a type outside the key scopes', async () => {
      const key = await srv.createKey({ scopes: 'products' });
      const msg = assertError(await es('want=products,levels', { key }), 403, 'permission_denied', ["'levels'"]);
      assert.ok(!msg.includes("'products'"), `only the denied type is named: ${msg}`);
      assertError(await es('want=levels', { key }), 403, 'permission_denied', ["'levels'"]);
      await expectStream({ query: 'want=products', key });
    });
  });

  test('404 unknown path', async () => {
    for (const path of ['/nope', '/eventsources', '/eventsource_', '/openapi/Nope']) {
      assertError(await es('want=products', { path }), 404, 'not_found', [path]);
    }
  });

  test('405 POST to the event source', async () => {
    assertError(await es('want=products', { method: 'POST' }), 405, 'method_not_allowed', ['POST', 'GET']);
  });

  test(
    '405 responses carry an Allow header (RFC 9110 15.5.6)',
    async () => {
      const res = await es('want=products', { method: 'POST' });
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, 'GET');
      const api = await call('PUT', 'Products', { Description: 'x' });
      assert.equal(api.status, 405);
      assert.match(api.headers.allow ?? '', /POST/);
    },
  );

  test('429 with Retry-After past streams_per_credential', async () => {
    const key = await srv.createKey({ scopes: 'products' });
    const first = openStream(srv, { query: 'want=products', key });
    try {
      await first.ready();
      const res = await es('want=products', { key });
      assertError(res, 429, 'resource_exhausted', ['streams_per_credential']);
      assert.match(res.headers['retry-after'] ?? '', /^[1-9]\d*$/, 'Retry-After in seconds');
      // Another credential is not affected.
      const other = await srv.createKey({ scopes: 'products' });
      await expectStream({ query: 'want=products', key: other });
    } finally {
      first.close();
    }
    // Closing the stream frees the slot (the server learns of the close asynchronously).
    let status;
    for (let i = 0; i < 40 && status !== 200; i += 1) {
      const s = openStream(srv, { query: 'want=products', key });
      await s.response;
      status = s.status;
      if (status === 200) {
        await s.ready();
      }
      s.close();
      if (status !== 200) {
        await sleep(50);
      }
    }
    assert.equal(status, 200, 'the slot is free again after the stream closed');
  });

  describe('API', () => {
    test('400 invalid JSON', async () => {
      assertError(await call('POST', 'Products', '{"Description":'), 400, 'invalid_argument', ['JSON']);
      assertError(await call('POST', 'Products', '[1,2]'), 400, 'invalid_argument', ['object']);
    });

    test('400 unknown field names it', async () => {
      assertError(await call('POST', 'Products', { Description: 'x', Size: 3 }), 400, 'invalid_argument', ["'Size'"]);
      assertError(await call('POST', 'Customers', { Name: 'x', Age: 3 }), 400, 'invalid_argument', ["'Age'"]);
    });

    test('400 wrong type names the field', async () => {
      assertError(await call('POST', 'Products', { Price: 'cheap' }), 400, 'invalid_argument', ["'Price'"]);
      assertError(await call('POST', 'Customers', { Name: 42 }), 400, 'invalid_argument', ["'Name'"]);
      assertError(
        await call('POST', 'StockAdjustments', { Pid: 'one', Location: 1, Delta: 1 }),
        400,
        'invalid_argument',
        ["'Pid'"],
      );
    });

    test('400 Delta and Set both (or neither)', async () => {
      assertError(
        await call('POST', 'StockAdjustments', { Pid: 1, Location: 1, Delta: 1, Set: 5 }),
        400,
        'invalid_argument',
        ['Delta', 'Set'],
      );
      assertError(await call('POST', 'StockAdjustments', { Pid: 1, Location: 1 }), 400, 'invalid_argument', [
        'Delta',
        'Set',
      ]);
    });

    test('400 unknown Pid in a stock adjustment', async () => {
      assertError(
        await call('POST', 'StockAdjustments', { Pid: 999999, Location: 1, Delta: 1 }),
        400,
        'invalid_argument',
        ['Pid', '999999'],
      );
    });

    test('404 PATCH of an unknown product', async () => {
      assertError(await call('PATCH', 'Products/987654', { Price: 2 }), 404, 'not_found', ['987654']);
    });

    test('403 write without the write scope', async () => {
      const key = await srv.createKey({ scopes: 'products,levels' });
      assertError(await call('POST', 'Products', { Description: 'x' }, { key }), 403, 'permission_denied', ["'write'"]);
    });

    test('401 without key', async () => {
      const res = await call('POST', 'Products', { Description: 'x' }, { key: null });
      assertError(res, 401, 'unauthenticated', ['X-Api-Key']);
      assert.ok(res.headers['www-authenticate']);
    });

    test('405 wrong method', async () => {
      assertError(await call('PUT', 'Products', { Description: 'x' }), 405, 'method_not_allowed', ['PUT', 'POST']);
      assertError(await call('POST', 'Products/1', { Price: 2 }), 405, 'method_not_allowed', ['POST', 'PATCH']);
    });

    test('413 body over limits.body_bytes', async () => {
      const res = await call('POST', 'Products', { Description: 'x'.repeat(2000) });
      assertError(res, 413, 'payload_too_large', ['body_bytes']);
      // Just under the limit is fine.
      const ok = await call('POST', 'Products', { Description: 'y'.repeat(900) });
      assert.equal(ok.status, 201, ok.text);
      succeeded.push(/"RVE":(\d{8}\.\d{9})/.exec(ok.text)[1]);
    });
  });

  test('431 headers over the limit', async () => {
    const big = { 'X-Padding': 'p'.repeat(20000) };
    assertError(await es('want=products', { headers: big }), 431, 'header_too_large', ['header_bytes']);
    assertError(await call('POST', 'Products', { Description: 'x' }, { headers: big }), 431, 'header_too_large', [
      'header_bytes',
    ]);
  });

  test('keys never appear in the server log', async () => {
    const secrets = [srv.key, srv.key.slice(21)];
    for (const line of srv.logs.split('\n')) {
      for (const secret of secrets) {
        assert.ok(!line.includes(secret), `the log shows a key: ${line}`);
      }
    }
    assert.match(srv.logs, /eventsource/, 'requests are logged');
  });

  test('failed requests committed nothing', async () => {
    const s = openStream(srv, { query: 'want=products,customers,levels&rve=0' });
    try {
      await s.ready();
      assert.deepEqual(
        s.events.filter((e) => e.event !== 'ready').map((e) => e.id),
        succeeded,
      );
    } finally {
      s.close();
    }
  });
});
