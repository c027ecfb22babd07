// Which writes fire which events (SPEC 4): products on create and real changes only, levels with
// their Reason for adjustments, counts and sales, sales never firing products, edits that change
// nothing firing nothing (and keeping their RVE), deletes as Deleted: 1; and XML escaping of
// text on the wire.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, write } from './lib/api.mjs';
import { assertError, dataOf, recordsOf, rveOfPacket } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

const WANT = 'products,customers,levels,sales';
const MARKER_LOCATION = 999;

describe('which changes fire which events', () => {
  let srv;
  let stream;
  let markerPid;

  /**
   * Runs `fn` between two marker writes (a stock adjustment at location 999) and resolves with
   * {result, events}: the events the stream received strictly between the two markers.
   */
  async function observe(fn) {
    const mark = async () => {
      const m = await write(srv, 'POST', 'StockAdjustments', { Pid: markerPid, Location: MARKER_LOCATION, Delta: 1 });
      await stream.waitFor((s) => s.events.some((e) => e.id === m.rve), { what: `marker ${m.rve}` });
      return stream.events.findIndex((e) => e.id === m.rve);
    };
    const first = await mark();
    const result = await fn();
    const second = await mark();
    return { result, events: stream.events.slice(first + 1, second) };
  }

  /** {type, rve, records} of events, for comparisons. */
  const summary = (events) => events.map((e) => ({ type: e.event, rve: rveOfPacket(e), records: recordsOf(e).records }));

  before(async () => {
    srv = await startServer();
    markerPid = (await write(srv, 'POST', 'Products', { Description: 'marker' })).json.data.Pid;
    stream = openStream(srv, { query: `want=${WANT}` });
    await stream.ready();
  });

  after(async () => {
    stream?.close();
    await srv?.cleanup();
  });

  test('products fires on create and on a real change, with the record the API returned', async () => {
    const { result, events } = await observe(async () => {
      const created = await write(srv, 'POST', 'Products', { Description: 'Mug', Price: 4.5, Colour: 'White' });
      const patched = await write(srv, 'PATCH', `Products/${created.json.data.Pid}`, { Price: 4.75 });
      return { created, patched };
    });
    const { created, patched } = result;
    assert.equal(created.status, 201);
    assert.equal(patched.status, 200);
    assert.ok(patched.rve > created.rve, 'a real change gets a new, later RVE');
    assert.deepEqual(summary(events), [
      { type: 'products', rve: created.rve, records: [dataOf(created)] },
      { type: 'products', rve: patched.rve, records: [dataOf(patched)] },
    ]);
    assert.equal(dataOf(patched).Price, 4.75);
    assert.equal(dataOf(patched).Description, 'Mug', 'a PATCH keeps the fields it does not name');
    for (const e of events) {
      assert.equal(e.id, rveOfPacket(e), 'a one-event group carries its id');
    }
  });

  test('a PATCH setting the values a product already has answers 200 with the same RVE and fires nothing', async () => {
    const created = await write(srv, 'POST', 'Products', {
      Description: 'Teapot',
      Price: 12.5,
      Colour: 'Blue',
      Barcode: '4006381333931',
      Publish: 1,
    });
    const pid = created.json.data.Pid;
    const { result, events } = await observe(async () => [
      await api(srv, 'PATCH', `Products/${pid}`, { Description: 'Teapot' }),
      await api(srv, 'PATCH', `Products/${pid}`, { Price: 12.5, Colour: 'Blue' }),
      // The same values written differently: 12.50 is 12.5, true is 1.
      await api(srv, 'PATCH', `Products/${pid}`, { Price: 12.5, Publish: true, Barcode: '4006381333931' }),
    ]);
    for (const res of result) {
      assert.equal(res.status, 200, res.text);
      assert.equal(res.rve, created.rve, `an edit that changes nothing keeps the RVE: ${res.text}`);
      assert.deepEqual(dataOf(res), dataOf(created));
    }
    assert.deepEqual(summary(events), [], 'nothing fired between the markers');
    const got = await api(srv, 'GET', `Products/${pid}`);
    assert.equal(got.rve, created.rve);
  });

  test('a stock adjustment and a sale fire levels and sales, never products', async () => {
    const p = await write(srv, 'POST', 'Products', { Description: 'Spoon', Price: 2 });
    const pid = p.json.data.Pid;
    const { result, events } = await observe(async () => ({
      adj: await write(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 1, Delta: 10 }),
      sale: await write(srv, 'POST', 'Sales', { Location: 1, Lines: [{ Pid: pid, Qty: 3 }] }),
    }));
    const got = summary(events).map(({ type, rve }) => `${rve} ${type}`);
    assert.deepEqual(got.sort(), [`${result.adj.rve} levels`, `${result.sale.rve} levels`, `${result.sale.rve} sales`].sort());
    assert.ok(!events.some((e) => e.event === 'products'), 'no products event for stock or sales');
    const levels = events.filter((e) => e.event === 'levels').map((e) => recordsOf(e).records);
    assert.deepEqual(
      levels.map((rs) => rs.map((r) => [r.Pid, r.Location, r.Qty])),
      [[[pid, 1, 10]], [[pid, 1, 7]]],
    );
    // The product itself is untouched.
    assert.equal((await api(srv, 'GET', `Products/${pid}`)).rve, p.rve);
  });

  test("levels carry the Reason: 'adjustment' for Delta, 'count' for Set, a given Reason kept, 'sale' for sales", async () => {
    const pid = (await write(srv, 'POST', 'Products', { Description: 'Fork', Price: 1 })).json.data.Pid;
    const { result, events } = await observe(async () => [
      await write(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 2, Delta: 5 }),
      await write(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 2, Set: 20 }),
      await write(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 2, Delta: 4, Reason: 'receipt' }),
      await write(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 2, Set: 30, Reason: 'stocktake' }),
      await write(srv, 'POST', 'Sales', { Location: 2, Lines: [{ Pid: pid, Qty: 1.5 }] }),
    ]);
    const levels = events.filter((e) => e.event === 'levels');
    assert.deepEqual(
      levels.map((e) => {
        const [r] = recordsOf(e).records;
        return [r.Qty, r.Reason, r.RVE];
      }),
      [
        [5, 'adjustment', result[0].rve],
        [20, 'count', result[1].rve],
        [24, 'receipt', result[2].rve],
        [30, 'stocktake', result[3].rve],
        [28.5, 'sale', result[4].rve],
      ],
    );
    for (const res of result.slice(0, 4)) {
      assert.equal(res.status, 200);
      assert.deepEqual(recordsOf(levels[result.indexOf(res)]).records, [dataOf(res)], 'the event holds what the API returned');
    }
  });

  test('a Delta of 0 and a Set to the quantity held answer 200 with the same RVE and fire nothing', async () => {
    const pid = (await write(srv, 'POST', 'Products', { Description: 'Knife', Price: 3 })).json.data.Pid;
    const level = await write(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 1, Set: 5 });
    const { result, events } = await observe(async () => [
      await api(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 1, Delta: 0 }),
      await api(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 1, Set: 5 }),
      await api(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 1, Set: 5, Reason: 'count again' }),
    ]);
    for (const res of result) {
      assert.equal(res.status, 200, res.text);
      assert.equal(res.rve, level.rve, `nothing changed, so the RVE is the level's: ${res.text}`);
      assert.equal(dataOf(res).Qty, 5);
    }
    assert.deepEqual(summary(events), []);
  });

  test(
    'a Delta of 0 or a Set of 0 at a location never stocked fires nothing (no level is 0 already)',
    async () => {
      const pid = (await write(srv, 'POST', 'Products', { Description: 'Ladle', Price: 3 })).json.data.Pid;
      const { result, events } = await observe(async () => [
        await api(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 3, Delta: 0 }),
        await api(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 4, Set: 0 }),
      ]);
      for (const res of result) {
        assert.equal(res.status, 200, res.text);
      }
      assert.deepEqual(summary(events), [], 'a level of 0 where there was none is no change');
    },
  );

  test('customers fires on create and on a real change; a PATCH that changes nothing keeps the RVE and fires nothing', async () => {
    const { result, events } = await observe(async () => {
      const created = await write(srv, 'POST', 'Customers', { Name: 'Ada', Email: 'ada@example.com' });
      const cid = created.json.data.Cid;
      const same = await api(srv, 'PATCH', `Customers/${cid}`, { Name: 'Ada', Email: 'ada@example.com' });
      const changed = await write(srv, 'PATCH', `Customers/${cid}`, { Phone: '+44 20 7946 0000' });
      const sameAgain = await api(srv, 'PATCH', `Customers/${cid}`, { Phone: '+44 20 7946 0000' });
      return { created, same, changed, sameAgain };
    });
    const { created, same, changed, sameAgain } = result;
    assert.equal(created.status, 201);
    assert.equal(same.status, 200);
    assert.equal(same.rve, created.rve);
    assert.equal(sameAgain.status, 200);
    assert.equal(sameAgain.rve, changed.rve);
    assert.deepEqual(summary(events), [
      { type: 'customers', rve: created.rve, records: [dataOf(created)] },
      { type: 'customers', rve: changed.rve, records: [dataOf(changed)] },
    ]);
    assert.deepEqual(dataOf(changed), { ...dataOf(created), Phone: '+44 20 7946 0000', RVE: changed.rve });
  });

  test('a DELETE fires the record with Deleted: 1 at the RVE it answered; then the record is gone', async () => {
    const p = await write(srv, 'POST', 'Products', { Description: 'Plate', Price: 6 });
    const c = await write(srv, 'POST', 'Customers', { Name: 'Bob' });
    const pid = p.json.data.Pid;
    const cid = c.json.data.Cid;
    const { result, events } = await observe(async () => ({
      dp: await write(srv, 'DELETE', `Products/${pid}`),
      dc: await write(srv, 'DELETE', `Customers/${cid}`),
    }));
    assert.equal(result.dp.status, 200);
    assert.deepEqual(dataOf(result.dp), { ...dataOf(p), Deleted: 1, RVE: result.dp.rve });
    assert.deepEqual(dataOf(result.dc), { ...dataOf(c), Deleted: 1, RVE: result.dc.rve });
    assert.deepEqual(summary(events), [
      { type: 'products', rve: result.dp.rve, records: [dataOf(result.dp)] },
      { type: 'customers', rve: result.dc.rve, records: [dataOf(result.dc)] },
    ]);
    // Deleting again, patching or reading a deleted record: 404, and nothing fires.
    const again = await observe(async () => [
      await api(srv, 'DELETE', `Products/${pid}`),
      await api(srv, 'PATCH', `Products/${pid}`, { Price: 1 }),
      await api(srv, 'GET', `Products/${pid}`),
      await api(srv, 'DELETE', `Customers/${cid}`),
    ]);
    for (const res of again.result) {
      assertError(res, 404, 'not_found', [String(res === again.result[3] ? cid : pid)]);
    }
    assert.deepEqual(summary(again.events), []);
  });

  test('format=xml: text with < & " \' non-ASCII and a newline is escaped on one line and unescapes to the original', async () => {
    const text = 'Tea <b>"Earl" & \'Grey\'</b> café 日本\nsecond line > end';
    const xml = openStream(srv, { query: 'want=products&format=xml' });
    try {
      await xml.ready();
      const p = await write(srv, 'POST', 'Products', { Description: text, Colour: 'Ümber & <Co>', Price: 1.25 });
      const e = await xml.waitFor((s) => s.events.some((x) => x.id === p.rve), { what: `event ${p.rve}` }).then((s) =>
        s.events.find((x) => x.id === p.rve),
      );
      assert.equal(e.event, 'products');
      assert.ok(!e.data.includes('\n'), `one data line: ${JSON.stringify(e.data)}`);
      const m = /^<Products><Product>(.*)<\/Product><\/Products>$/.exec(e.data);
      assert.ok(m, `a Products packet in XML: ${e.data}`);
      const field = (name) => {
        const f = new RegExp(`<${name}>([^<]*)</${name}>`).exec(m[1]);
        assert.ok(f, `<${name}> in ${e.data}`);
        return f[1];
      };
      const unescape = (s) =>
        s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, x) => {
          const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[x];
          if (named) {
            return named;
          }
          return String.fromCodePoint(x[1] === 'x' ? parseInt(x.slice(2), 16) : Number(x.slice(1)));
        });
      const raw = field('Description');
      assert.ok(!/[<\n\r]/.test(raw), `markup characters and the newline are escaped: ${raw}`);
      assert.ok(!/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(raw), `every & starts an entity: ${raw}`);
      assert.equal(unescape(raw), text);
      assert.equal(unescape(field('Colour')), 'Ümber & <Co>');
      assert.equal(field('RVE'), p.rve);
    } finally {
      xml.close();
    }
  });
});
