// CORS (SPEC 6): origins listed in cors_origins get Access-Control-Allow-Origin: <origin>,
// Access-Control-Allow-Credentials: true and Vary: Origin, on the API, on event streams and on
// errors; preflight for the API; never '*'; unlisted origins get no CORS headers; with no
// cors_origins configured there are none at all.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { request, write } from './lib/api.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

const LISTED = 'http://a.example';
const EVIL = 'http://evil.example';

/** The Access-Control-* headers of a response, by lowercased name. */
function corsHeaders(headers) {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.startsWith('access-control-')));
}

/** The comma-separated tokens of a header, lowercased. */
const tokens = (value) =>
  String(value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

/** Asserts the headers a listed origin gets. */
function assertAllowed(headers, what) {
  assert.equal(headers['access-control-allow-origin'], LISTED, `${what}: ${JSON.stringify(headers)}`);
  assert.equal(headers['access-control-allow-credentials'], 'true', `${what}: ${JSON.stringify(headers)}`);
  assert.ok(tokens(headers.vary).includes('origin'), `${what}: Vary: Origin: ${JSON.stringify(headers)}`);
  assert.ok(
    tokens(headers['access-control-expose-headers']).includes('retry-after'),
    `${what}: Retry-After exposed: ${JSON.stringify(headers)}`,
  );
}

/** Asserts that a response carries no Access-Control-Allow-* header (and never '*'). */
function assertNoAllow(headers, what) {
  const allow = Object.keys(corsHeaders(headers)).filter((k) => k.startsWith('access-control-allow-'));
  assert.deepEqual(allow, [], `${what}: ${JSON.stringify(headers)}`);
}

/** Opens a stream, resolves with its status and headers once it answered, and closes it. */
async function streamHeaders(srv, options) {
  const s = openStream(srv, options);
  try {
    await s.response;
    if (s.status === 200) {
      await s.ready();
    } else {
      await s.ended;
    }
    return { status: s.status, headers: s.headers, raw: s.raw };
  } finally {
    s.close();
  }
}

describe('CORS with cors_origins = ["http://a.example"]', () => {
  let srv;

  before(async () => {
    srv = await startServer({ config: `cors_origins = ["${LISTED}"]\n` });
    await write(srv, 'POST', 'Products', { Description: 'cors', Price: 1 });
  });

  after(async () => {
    await srv?.cleanup();
  });

  const get = (path, origin, { key = srv.key, method = 'GET', headers = {}, body } = {}) =>
    request(srv, {
      method,
      path,
      body,
      headers: { ...(origin ? { Origin: origin } : {}), ...(key ? { 'X-Api-Key': key } : {}), ...headers },
    });

  test('the listed origin gets Allow-Origin (its own, never *), Allow-Credentials and Vary: Origin on the API', async () => {
    for (const [method, path, body] of [
      ['GET', '/openapi/Products', undefined],
      ['GET', '/openapi/Products/1', undefined],
      ['POST', '/openapi/Customers', { Name: 'from a browser' }],
      ['PATCH', '/openapi/Products/1', { Price: 2 }],
      ['GET', '/healthz', undefined],
    ]) {
      const res = await get(path, LISTED, { method, body });
      assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
      assertAllowed(res.headers, `${method} ${path}`);
    }
  });

  test('the listed origin gets them on an event stream', async () => {
    const s = await streamHeaders(srv, { query: 'want=products&rve=0', headers: { Origin: LISTED } });
    assert.equal(s.status, 200, s.raw);
    assert.match(s.headers['content-type'], /^text\/event-stream/);
    assertAllowed(s.headers, 'the stream');
    const suffixed = await streamHeaders(srv, { path: '/eventsource_1', query: 'want=products', headers: { Origin: LISTED } });
    assertAllowed(suffixed.headers, '/eventsource_1');
  });

  test('the listed origin gets them on error responses, so a page can read the error', async () => {
    const cases = [
      ['API 401', await get('/openapi/Products', LISTED, { key: null })],
      ['API 404', await get('/openapi/Products/999999', LISTED)],
      ['API 400', await get('/openapi/Products', LISTED, { method: 'POST', body: '{"Description":' })],
      ['API 405', await get('/openapi/Products', LISTED, { method: 'PUT', body: {} })],
      ['no route 404', await get('/nowhere', LISTED)],
    ];
    for (const [what, res] of cases) {
      assert.ok(res.status >= 400, `${what}: ${res.status}`);
      assertAllowed(res.headers, what);
    }
    for (const [what, options] of [
      ['stream 400', { query: 'want=nonsense', headers: { Origin: LISTED } }],
      ['stream 401', { query: 'want=products', key: null, headers: { Origin: LISTED } }],
      ['stream 403', { path: '/eventsource_2', query: 'want=products', headers: { Origin: LISTED } }],
    ]) {
      const s = await streamHeaders(srv, options);
      assert.ok(s.status >= 400, `${what}: ${s.status}`);
      assertAllowed(s.headers, what);
    }
  });

  test('an unlisted origin gets no Access-Control-Allow-* header, on the API, streams and errors', async () => {
    for (const origin of [EVIL, 'http://a.example.evil.example', 'https://a.example', 'http://A.EXAMPLE.', 'null']) {
      const ok = await get('/openapi/Products', origin);
      assert.equal(ok.status, 200, ok.text);
      assertNoAllow(ok.headers, `API for ${origin}`);
      assertNoAllow((await get('/openapi/Products', origin, { key: null })).headers, `API 401 for ${origin}`);
      const s = await streamHeaders(srv, { query: 'want=products', headers: { Origin: origin } });
      assert.equal(s.status, 200);
      assertNoAllow(s.headers, `stream for ${origin}`);
      assertNoAllow((await streamHeaders(srv, { query: 'want=bad', headers: { Origin: origin } })).headers, `stream 400 for ${origin}`);
    }
    // And a request without Origin (not a browser's cross-origin call) gets none either.
    assertNoAllow((await get('/openapi/Products', undefined)).headers, 'no Origin');
  });

  test('a preflight from the listed origin is 204 with the methods and headers a client needs', async () => {
    const res = await request(srv, {
      method: 'OPTIONS',
      path: '/openapi/Products/1',
      headers: {
        Origin: LISTED,
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'content-type, x-api-key',
      },
    });
    assert.equal(res.status, 204, res.text);
    assertAllowed(res.headers, 'the preflight');
    const methods = tokens(res.headers['access-control-allow-methods']);
    for (const m of ['get', 'post', 'patch', 'delete']) {
      assert.ok(methods.includes(m), `Allow-Methods has ${m}: ${res.headers['access-control-allow-methods']}`);
    }
    const allowed = tokens(res.headers['access-control-allow-headers']);
    for (const h of ['x-api-key', 'last-event-id', 'content-type']) {
      assert.ok(allowed.includes(h), `Allow-Headers has ${h}: ${res.headers['access-control-allow-headers']}`);
    }
    assert.notEqual(res.headers['access-control-allow-origin'], '*');
  });

  test(
    'a preflight for the event source (fetch streaming with X-Api-Key and Last-Event-ID) is 204 too',
    async () => {
      for (const path of ['/eventsource?want=products', '/eventsource_1?want=products']) {
        const res = await request(srv, {
          method: 'OPTIONS',
          path,
          headers: {
            Origin: LISTED,
            'Access-Control-Request-Method': 'GET',
            'Access-Control-Request-Headers': 'x-api-key, last-event-id',
          },
        });
        assert.equal(res.status, 204, `${path}: ${res.status} ${res.text}`);
        assertAllowed(res.headers, `the preflight of ${path}`);
        const allowed = tokens(res.headers['access-control-allow-headers']);
        assert.ok(allowed.includes('x-api-key') && allowed.includes('last-event-id'), JSON.stringify(res.headers));
      }
    },
  );

  test('a preflight from an unlisted origin is 403 with no allow headers', async () => {
    for (const origin of [EVIL, 'null']) {
      const res = await request(srv, {
        method: 'OPTIONS',
        path: '/openapi/Products',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-api-key' },
      });
      assert.equal(res.status, 403, res.text);
      assertNoAllow(res.headers, `the preflight from ${origin}`);
      assert.equal(JSON.parse(res.text).error.code, 'permission_denied');
    }
  });
});

describe('CORS with no cors_origins configured', () => {
  let srv;

  before(async () => {
    srv = await startServer();
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('no CORS header at all, whatever the Origin', async () => {
    for (const origin of [LISTED, EVIL]) {
      const hs = { Origin: origin };
      const responses = [
        ['API', await request(srv, { path: '/openapi/Products', headers: { ...hs, 'X-Api-Key': srv.key } })],
        ['API 401', await request(srv, { path: '/openapi/Products', headers: hs })],
        [
          'preflight',
          await request(srv, {
            method: 'OPTIONS',
            path: '/openapi/Products',
            headers: { ...hs, 'Access-Control-Request-Method': 'POST' },
          }),
        ],
      ];
      for (const [what, res] of responses) {
        assert.deepEqual(corsHeaders(res.headers), {}, `${what} for ${origin}: ${JSON.stringify(res.headers)}`);
      }
      assert.equal(responses[0][1].status, 200);
      assert.notEqual(responses[2][1].status, 204, 'no preflight is granted');
      const s = await streamHeaders(srv, { query: 'want=products', headers: hs });
      assert.equal(s.status, 200);
      assert.deepEqual(corsHeaders(s.headers), {}, `stream for ${origin}: ${JSON.stringify(s.headers)}`);
    }
  });
});
