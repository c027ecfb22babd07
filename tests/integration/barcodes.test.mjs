// Barcode scans (SPEC 4, 5): POST /openapi/Barcodes and the `barcode` event: Owner per
// subscriber (1 for the only barcode subscriber of the session the scan was aimed at, 2 when the
// scan names no session or its session has several, 0 for everyone else), Pid when the scan is
// a product's barcode, TypeCode/TypeStr, Location and the location= filter, and validation.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, write } from './lib/api.mjs';
import { asSession, createUser, login, readyStream, recordsNamed, sessionStream, waitForId } from './lib/pos.mjs';
import { assertError, dataOf, until } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

describe('barcode scans', () => {
  let srv;
  let milk; // EAN-13 4006381333931
  let cola; // UPC-A 036000291452
  const streams = [];

  const keep = (s) => {
    streams.push(s);
    return s;
  };

  /** A stream of barcode events for a session (token by default). */
  const watch = async (who, options = {}) =>
    keep(await readyStream(sessionStream(srv, who, { ...options, query: { want: 'barcode', ...options.query } })));

  /** A stream of barcode events with the API key. */
  const watchWithKey = async (query = {}) =>
    keep(await readyStream(openStream(srv, { query: { want: 'barcode', ...query } })));

  /** Scans with the API key (or as `who`); resolves with the response, asserting 201. */
  async function scan(body, who) {
    const res = who ? await asSession(srv, who, 'POST', 'Barcodes', body) : await api(srv, 'POST', 'Barcodes', body);
    assert.equal(res.status, 201, `scan ${JSON.stringify(body)}: ${res.text}`);
    return res;
  }

  /** The barcode record of `stream` with RVE `rve`, once it has arrived. */
  async function recordAt(stream, rve) {
    await waitForId(stream, rve);
    const found = recordsNamed(stream, 'barcode').filter((r) => r.RVE === rve);
    assert.equal(found.length, 1, `one barcode record at ${rve}`);
    return found[0];
  }

  /** Scans and returns the Owner each of `subscribers` ({name: stream}) received. */
  async function owners(body, subscribers, who) {
    const res = await scan(body, who);
    const out = {};
    for (const [name, s] of Object.entries(subscribers)) {
      const r = await recordAt(s, res.rve);
      assert.equal(r.RawScan, body.RawScan);
      out[name] = r.Owner;
    }
    return out;
  }

  before(async () => {
    srv = await startServer();
    for (const name of ['scan-a', 'scan-b', 'scan-c', 'scan-d', 'scan-e']) {
      await createUser(srv, { name, password: 'pw' });
    }
    await srv.createRmSystem('2');
    await createUser(srv, { name: 'scan-other', password: 'pw', rmsystem: '2' });
    milk = dataOf(await write(srv, 'POST', 'Products', { Description: 'milk', Price: 1.25, Barcode: '4006381333931' }));
    cola = dataOf(await write(srv, 'POST', 'Products', { Description: 'cola', Price: 2, Barcode: '036000291452' }));
  });

  after(async () => {
    for (const s of streams) {
      s.close();
    }
    await srv?.cleanup();
  });

  test('Owner: 1 for the only barcode subscriber of the session aimed at, 2 with several, 2 for everyone when no session is named, 0 for the others', async () => {
    const a = await login(srv, 'scan-a', 'pw');
    const b = await login(srv, 'scan-b', 'pw');
    const a1 = await watch(a);
    const b1 = await watch(b);
    const k = await watchWithKey();
    const raw = '4006381333931';

    assert.deepEqual(
      await owners({ RawScan: raw, Session: a.session }, { a1, b1, k }),
      { a1: 1, b1: 0, k: 0 },
      'aimed at a, which has one barcode subscriber',
    );

    const a2 = await watch(a, { as: 'cookie', query: { want: 'barcode,sale' } });
    assert.deepEqual(
      await owners({ RawScan: raw, Session: a.session }, { a1, a2, b1, k }),
      { a1: 2, a2: 2, b1: 0, k: 0 },
      'aimed at a, which now has two barcode subscribers',
    );

    assert.deepEqual(
      await owners({ RawScan: raw }, { a1, a2, b1, k }),
      { a1: 2, a2: 2, b1: 2, k: 2 },
      'no session named: everyone 2',
    );

    assert.deepEqual(
      await owners({ RawScan: raw }, { a1, a2, b1, k }, b),
      { a1: 0, a2: 0, b1: 1, k: 0 },
      'b scanning for itself (its cookie, no Session): aimed at b',
    );

    // When a's second subscriber leaves, a's remaining one is the only one again.
    a2.close();
    let last;
    await until(
      async () => {
        last = await owners({ RawScan: raw, Session: a.session }, { a1, b1, k });
        return last.a1 === 1;
      },
      'a1 to be the only barcode subscriber of a again',
      { timeoutMs: 5000, everyMs: 100 },
    );
    assert.deepEqual(last, { a1: 1, b1: 0, k: 0 });
  });

  test('Owner: a session stream that does not want barcodes does not count; an API key following the session with session= does', async () => {
    const d = await login(srv, 'scan-d', 'pw');
    const d1 = await watch(d);
    keep(await readyStream(sessionStream(srv, d, { as: 'session', query: { want: 'sale,usermessage' } })));
    const k = await watchWithKey();
    assert.deepEqual(
      await owners({ RawScan: 'ABC-1', Session: d.session }, { d1, k }),
      { d1: 1, k: 0 },
      'the sale-only stream of d is not a barcode subscriber',
    );

    const e = await login(srv, 'scan-e', 'pw');
    const e1 = await watch(e);
    const follower = await watchWithKey({ session: e.session });
    assert.deepEqual(
      await owners({ RawScan: 'ABC-2', Session: e.session }, { e1, follower, d1, k }),
      { e1: 2, follower: 2, d1: 0, k: 0 },
      'an API key stream with session=e is a second barcode subscriber of e',
    );
  });

  test('Pid is in the packet when the scan is a product barcode, and absent otherwise', async () => {
    const gone = dataOf(await write(srv, 'POST', 'Products', { Description: 'gone', Price: 1, Barcode: '96385074' }));
    await write(srv, 'DELETE', `Products/${gone.Pid}`);
    const renamed = dataOf(
      await write(srv, 'POST', 'Products', { Description: 'tin', Price: 1, Barcode: '5901234123457' }),
    );
    await write(srv, 'PATCH', `Products/${renamed.Pid}`, { Barcode: '9780306406157' });
    const k = await watchWithKey();
    const cases = [
      ['4006381333931', milk.Pid],
      ['036000291452', cola.Pid],
      ['9780306406157', renamed.Pid], // its new barcode
      ['5901234123457', undefined], // its old barcode
      ['96385074', undefined], // a deleted product's barcode
      ['4006381333932', undefined], // one digit off
      ['400638133393', undefined], // a prefix
    ];
    for (const [raw, pid] of cases) {
      const res = await scan({ RawScan: raw });
      const r = await recordAt(k, res.rve);
      assert.equal(r.Pid, pid, `Pid of a scan of ${raw}: ${JSON.stringify(r)}`);
      assert.equal('Pid' in r, pid !== undefined, `Pid present only on a match: ${JSON.stringify(r)}`);
      assert.equal(dataOf(res).Pid, pid, 'the response agrees');
    }
  });

  test('TypeCode and TypeStr as in SPEC 4, in the response and in the packet', async () => {
    const k = await watchWithKey();
    const cases = [
      ['4006381333931', 1, 'EAN13'],
      ['036000291452', 2, 'UPCA'],
      ['96385074', 3, 'EAN8'],
      ['04252614', 4, 'UPCE'],
      ['10614141000415', 5, 'GTIN14'],
      ['(01)04006381333931(17)251231', 6, 'GS1'],
      [']C10104006381333931', 6, 'GS1'],
      ['0104006381333931\u001d10ABC', 6, 'GS1'],
      ['ABC-123', 7, 'CODE128'],
      ['https://example.com/p/1', 8, 'URL'],
      ['2012345678903', 9, 'INSTORE'],
      ['4006381333932', 0, 'UNKNOWN'],
      ['Caf\u00e9', 0, 'UNKNOWN'],
      ['AB\u0007C', 0, 'UNKNOWN'],
    ];
    for (const [raw, code, str] of cases) {
      const res = await scan({ RawScan: raw });
      const r = await recordAt(k, res.rve);
      assert.deepEqual([r.TypeCode, r.TypeStr], [code, str], `packet for ${JSON.stringify(raw)}`);
      assert.deepEqual([dataOf(res).TypeCode, dataOf(res).TypeStr], [code, str], `response for ${JSON.stringify(raw)}`);
      assert.equal(r.RawScan, raw, 'RawScan exactly as scanned');
      assert.equal(r.Owner, 2, 'no session named');
    }
  });

  test('Location is in the packet, and location= selects the scans of that location only', async () => {
    const all = await watchWithKey();
    const at2 = await watchWithKey({ location: '2' });
    const at1 = await watchWithKey({ location: '1' });
    const s2 = await scan({ RawScan: 'AT-2', Location: 2 });
    const s1 = await scan({ RawScan: 'AT-1', Location: 1 });
    await scan({ RawScan: 'NOWHERE' });
    // The last scans at each location show that each filtered stream is up to date.
    const e2 = await scan({ RawScan: 'END-2', Location: 2 });
    const e1 = await scan({ RawScan: 'END-1', Location: 1 });
    await waitForId(all, e1.rve);
    await waitForId(at2, e2.rve);
    await waitForId(at1, e1.rve);
    assert.deepEqual(
      recordsNamed(all, 'barcode').map((r) => [r.RawScan, r.Location]),
      [
        ['AT-2', 2],
        ['AT-1', 1],
        ['NOWHERE', undefined],
        ['END-2', 2],
        ['END-1', 1],
      ],
    );
    assert.deepEqual(
      recordsNamed(at2, 'barcode').map((r) => [r.RawScan, r._id]),
      [
        ['AT-2', s2.rve],
        ['END-2', e2.rve],
      ],
    );
    assert.deepEqual(
      recordsNamed(at1, 'barcode').map((r) => [r.RawScan, r._id]),
      [
        ['AT-1', s1.rve],
        ['END-1', e1.rve],
      ],
    );
  });

  test('validation: RawScan required and non-empty, Session a live session of this RmSystem, Location a positive integer, write scope', async () => {
    for (const body of [
      {},
      { RawScan: '' },
      { RawScan: 7 },
      { RawScan: 'x', Location: 0 },
      { RawScan: 'x', Extra: 1 },
    ]) {
      assertError(await api(srv, 'POST', 'Barcodes', body), 400, 'invalid_argument');
    }
    assertError(await api(srv, 'POST', 'Barcodes', { RawScan: 'x', Session: 'pfs_made_up' }), 404, 'not_found');
    const other = await login(srv, 'scan-other', 'pw');
    assertError(await api(srv, 'POST', 'Barcodes', { RawScan: 'x', Session: other.session }), 404, 'not_found');
    const c = await login(srv, 'scan-c', 'pw');
    const out = await asSession(srv, c, 'POST', 'logout');
    assert.equal(out.status, 200);
    assertError(await api(srv, 'POST', 'Barcodes', { RawScan: 'x', Session: c.session }), 404, 'not_found');
    const readOnly = await srv.createKey({ scopes: 'barcode' });
    assertError(await api(srv, 'POST', 'Barcodes', { RawScan: 'x' }, { key: readOnly }), 403, 'permission_denied');
    assertError(await api(srv, 'POST', 'Barcodes', { RawScan: 'x' }, { key: null }), 401, 'unauthenticated');
  });
});
