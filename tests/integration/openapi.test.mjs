// The OpenAPI description (SPEC 5): GET /openapi/spec.json without a key is an OpenAPI 3
// document whose every $ref resolves; every documented operation under /openapi/ is routed (never
// "no API route", never 405), answers a documented status, and succeeds with a valid body;
// undocumented paths answer 404.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, request, write } from './lib/api.mjs';
import { assertError } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** The records API (SPEC 5): with an API key, existing ids and the bodies below, each succeeds. */
const KNOWN_VALID = new Set([
  'GET /openapi/Products',
  'POST /openapi/Products',
  'GET /openapi/Products/{Pid}',
  'PATCH /openapi/Products/{Pid}',
  'DELETE /openapi/Products/{Pid}',
  'GET /openapi/Customers',
  'POST /openapi/Customers',
  'GET /openapi/Customers/{Cid}',
  'PATCH /openapi/Customers/{Cid}',
  'DELETE /openapi/Customers/{Cid}',
  'GET /openapi/StockLevels',
  'POST /openapi/StockAdjustments',
  'GET /openapi/Sales',
  'POST /openapi/Sales',
  'GET /openapi/Sales/{Sid}',
  'GET /openapi/spec.json',
]);

/** Valid bodies for the operations this test knows (others get a body built from the schema). */
function knownBody(op, ids) {
  return {
    'POST /openapi/Products': { Description: 'from the spec test', Price: 1.5 },
    'PATCH /openapi/Products/{Pid}': { Price: 2.5 },
    'POST /openapi/Customers': { Name: 'from the spec test' },
    'PATCH /openapi/Customers/{Cid}': { Email: 'spec@example.com' },
    'POST /openapi/StockAdjustments': { Pid: ids.Pid, Location: 1, Delta: 1 },
    'POST /openapi/Sales': { Location: 1, Lines: [{ Pid: ids.Pid, Qty: 1 }] },
  }[op];
}

describe('OpenAPI description', () => {
  let srv;
  let spec;

  /** Resolves a local $ref ('#/components/...'). */
  function deref(node) {
    let n = node;
    for (let i = 0; n && typeof n === 'object' && typeof n.$ref === 'string' && i < 20; i += 1) {
      assert.match(n.$ref, /^#\//, `a local $ref: ${n.$ref}`);
      n = n.$ref
        .slice(2)
        .split('/')
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce((o, k) => o?.[k], spec);
      assert.ok(n !== undefined, `$ref ${node.$ref} resolves`);
    }
    return n;
  }

  /** A sample value for a schema: required properties only, ids from `ids` by name. */
  function sample(schema, ids, name = '') {
    const s = deref(schema ?? {});
    if (name in ids) {
      return ids[name];
    }
    if (s.example !== undefined) {
      return s.example;
    }
    if (s.enum) {
      return s.enum[0];
    }
    const type = Array.isArray(s.type) ? s.type[0] : s.type;
    if (s.oneOf || s.anyOf) {
      return sample((s.oneOf ?? s.anyOf)[0], ids, name);
    }
    switch (type) {
      case 'object': {
        const out = {};
        for (const k of s.required ?? []) {
          out[k] = sample(s.properties?.[k], ids, k);
        }
        return out;
      }
      case 'array':
        return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => sample(s.items, ids));
      case 'integer':
        return Math.max(1, s.minimum ?? 1);
      case 'number':
        return Math.max(1, s.minimum ?? 1);
      case 'boolean':
        return true;
      default:
        return 'x';
    }
  }

  /** Fresh records to fill path parameters with: {Pid, Cid, Sid}. */
  async function freshIds() {
    const Pid = (await write(srv, 'POST', 'Products', { Description: 'spec', Price: 1 })).json.data.Pid;
    const Cid = (await write(srv, 'POST', 'Customers', { Name: 'spec' })).json.data.Cid;
    const Sid = (await write(srv, 'POST', 'Sales', { Location: 1, Lines: [{ Pid, Qty: 1 }] })).json.data.Sid;
    return { Pid, Cid, Sid };
  }

  /** Every documented operation under /openapi/: {method, template, op, pathItem}. */
  function operations() {
    const out = [];
    for (const [template, item] of Object.entries(spec.paths)) {
      if (!template.startsWith('/openapi/')) {
        continue;
      }
      for (const method of METHODS) {
        if (item[method]) {
          out.push({ method, template, op: item[method], pathItem: item });
        }
      }
    }
    return out;
  }

  /** Calls one documented operation with the server's key; returns {res, url, values}. */
  async function call({ method, template, op, pathItem }) {
    const ids = await freshIds();
    const values = [];
    const names = [];
    const path = template.replace(/\{([^}]+)\}/g, (_, name) => {
      const v = String(ids[name] ?? 1);
      values.push(v);
      names.push(name);
      return encodeURIComponent(v);
    });
    const query = new URLSearchParams();
    for (const p of [...(pathItem.parameters ?? []), ...(op.parameters ?? [])].map(deref)) {
      if (p.in === 'query' && p.required) {
        query.set(p.name, String(sample(p.schema, ids, p.name)));
      }
    }
    const key = `${method.toUpperCase()} ${template}`;
    let body = knownBody(key, ids);
    if (body === undefined && op.requestBody) {
      const rb = deref(op.requestBody);
      body = sample(rb.content?.['application/json']?.schema, ids);
    }
    const url = query.size ? `${path}?${query}` : path;
    const res = await api(srv, method.toUpperCase(), url, body);
    return { res, url, values, names, known: KNOWN_VALID.has(key) };
  }

  before(async () => {
    srv = await startServer();
    const res = await request(srv, { path: '/openapi/spec.json' });
    assert.equal(res.status, 200, `GET /openapi/spec.json without a key: ${res.status} ${res.text.slice(0, 300)}`);
    spec = res.json;
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('GET /openapi/spec.json needs no key and is an OpenAPI 3 document whose $refs all resolve', async () => {
    const res = await request(srv, { path: '/openapi/spec.json' });
    assert.match(res.headers['content-type'] ?? '', /^application\/json\b/);
    assert.ok(spec && typeof spec === 'object', 'the body is JSON');
    assert.match(String(spec.openapi), /^3\.\d+\.\d+$/, 'openapi: 3.x.y');
    assert.equal(typeof spec.info?.title, 'string');
    assert.equal(typeof spec.info?.version, 'string');
    assert.ok(spec.paths && Object.keys(spec.paths).length > 0);
    const refs = [];
    const walk = (n) => {
      if (Array.isArray(n)) {
        n.forEach(walk);
      } else if (n && typeof n === 'object') {
        if (typeof n.$ref === 'string') {
          refs.push(n.$ref);
          deref(n);
        }
        Object.values(n).forEach(walk);
      }
    };
    walk(spec);
    assert.ok(refs.length > 5, 'components are shared through $ref');
    for (const [template, item] of Object.entries(spec.paths)) {
      for (const method of METHODS.filter((m) => item[m])) {
        assert.ok(item[method].responses && Object.keys(item[method].responses).length > 0, `${method} ${template} documents its responses`);
      }
    }
  });

  test('the records API of SPEC 5 is documented', () => {
    const documented = new Set(operations().map((o) => `${o.method.toUpperCase()} ${o.template.replace(/\{[^}]+\}/g, '{}')}`));
    for (const op of [
      'GET /openapi/Products',
      'POST /openapi/Products',
      'GET /openapi/Products/{}',
      'PATCH /openapi/Products/{}',
      'DELETE /openapi/Products/{}',
      'GET /openapi/Customers',
      'POST /openapi/Customers',
      'GET /openapi/Customers/{}',
      'PATCH /openapi/Customers/{}',
      'DELETE /openapi/Customers/{}',
      'GET /openapi/StockLevels',
      'POST /openapi/StockAdjustments',
      'GET /openapi/Sales',
      'POST /openapi/Sales',
      'GET /openapi/Sales/{}',
    ]) {
      assert.ok(documented.has(op), `${op} is in the description`);
    }
  });

  test('every documented operation under /openapi/ is routed: never "no API route", never 405', async () => {
    const ops = operations();
    assert.ok(ops.length >= 15, `${ops.length} operations`);
    for (const o of ops) {
      const { res, url, values, names } = await call(o);
      const what = `${o.method.toUpperCase()} ${url} -> ${res.status} ${res.text.slice(0, 300)}`;
      assert.notEqual(res.status, 405, `a documented method is allowed: ${what}`);
      if (res.status === 404) {
        const msg = assertError(res, 404, 'not_found');
        assert.ok(!/\broute\b/i.test(msg), `a documented path has a route: ${what}`);
        assert.ok(
          values.some((v) => msg.includes(v)) || names.some((n) => msg.toLowerCase().includes(n.toLowerCase())),
          `a 404 on a documented path names the missing record (${names.join(', ')}): ${what}`,
        );
      }
    }
  });

  test('every documented operation answers one of its documented statuses; known valid calls succeed', async () => {
    let checked = 0;
    for (const o of operations()) {
      const { res, url, known } = await call(o);
      checked += known ? 1 : 0;
      const what = `${o.method.toUpperCase()} ${url} -> ${res.status} ${res.text.slice(0, 300)}`;
      const documented = Object.keys(o.op.responses ?? {});
      assert.ok(
        documented.includes(String(res.status)) || documented.includes(`${String(res.status)[0]}XX`) || documented.includes('default'),
        `status ${res.status} is documented (${documented.join(', ')}): ${what}`,
      );
      if (known) {
        assert.ok(res.status >= 200 && res.status < 300, `a valid call succeeds: ${what}`);
      }
    }
    assert.equal(checked, KNOWN_VALID.size, 'every records operation is documented under its SPEC 5 path');
  });

  test('undocumented paths under /openapi/ answer 404 not_found', async () => {
    const documented = Object.keys(spec.paths);
    for (const path of ['/openapi/Nope', '/openapi/products', '/openapi/Products/1/Extra', '/openapi/', '/openapi/Sales/1/Lines']) {
      assert.ok(!documented.includes(path));
      const res = await api(srv, 'GET', path);
      assertError(res, 404, 'not_found', [path]);
    }
  });
});
