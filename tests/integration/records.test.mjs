// The records API (SPEC 5): paged lists with limit/after covering every record once, since=
// listing later changes with tombstones, GET one, 404s, validation errors that name the field,
// and concurrent writes to one record that never lose an update.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, write } from './lib/api.mjs';
import { assertError, dataOf, listAll } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

const byRveThenId = (key) => (x, y) => (x.RVE < y.RVE ? -1 : x.RVE > y.RVE ? 1 : x[key] - y[key]);

describe('records API', () => {
  let srv;
  const products = []; // data of created products (latest known)
  const customers = [];

  before(async () => {
    srv = await startServer();
    for (let i = 0; i < 23; i += 1) {
      products.push(dataOf(await write(srv, 'POST', 'Products', { Description: `item ${i}`, Price: i + 0.99 })));
    }
    for (let i = 0; i < 7; i += 1) {
      customers.push(dataOf(await write(srv, 'POST', 'Customers', { Name: `customer ${i}` })));
    }
  });

  after(async () => {
    await srv?.cleanup();
  });

  describe('lists', () => {
    test('paging with limit and after covers every record exactly once, in (RVE, id) order, ending with next: null', async () => {
      for (const limit of [1, 5, 7, 23, 1000]) {
        const { records, pages } = await listAll(srv, 'Products', {}, { limit });
        assert.deepEqual(records, [...products].sort(byRveThenId('Pid')), `limit=${limit}`);
        assert.equal(pages, Math.floor(23 / limit) + 1, `limit=${limit}: full pages, then one short (maybe empty) page`);
      }
      const one = await api(srv, 'GET', 'Products?limit=5');
      assert.equal(one.json.data.length, 5);
      assert.equal(typeof one.json.next, 'string');
      const dflt = await api(srv, 'GET', 'Products');
      assert.equal(dflt.status, 200);
      assert.equal(dflt.json.data.length, 23, 'the default limit holds 23 records');
      assert.equal(dflt.json.next, null);
      const c = await listAll(srv, 'Customers', {}, { limit: 3 });
      assert.deepEqual(c.records, customers);
    });

    test('since= lists only later changes, with the latest values and tombstones, and pages too', async () => {
      const mark = products.at(-1).RVE;
      assert.deepEqual((await listAll(srv, 'Products', { since: mark })).records, [], 'nothing after the newest');
      const [p0, p1, p2] = [products[0], products[5], products[9]];
      const e1 = dataOf(await write(srv, 'PATCH', `Products/${p0.Pid}`, { Price: 100 }));
      const e2 = dataOf(await write(srv, 'PATCH', `Products/${p1.Pid}`, { Colour: 'Teal' }));
      const e3 = dataOf(await write(srv, 'PATCH', `Products/${p0.Pid}`, { Colour: 'Gold' })); // p0 again
      const gone = dataOf(await write(srv, 'DELETE', `Products/${p2.Pid}`));
      const fresh = dataOf(await write(srv, 'POST', 'Products', { Description: 'fresh' }));
      assert.equal(gone.Deleted, 1);
      const expected = [e2, e3, gone, fresh];
      for (const limit of [1, 2, 100]) {
        const { records } = await listAll(srv, 'Products', { since: mark }, { limit });
        assert.deepEqual(records, expected, `since=${mark}&limit=${limit}: each changed record once, latest first-to-last`);
      }
      assert.equal(e3.Price, 100, 'the latest state holds both edits');
      // since= later than some of the changes.
      assert.deepEqual((await listAll(srv, 'Products', { since: e3.RVE })).records, [gone, fresh]);
      // Without since=, deleted records are not listed.
      const all = (await listAll(srv, 'Products')).records;
      assert.equal(all.length, 23);
      assert.ok(!all.some((r) => r.Pid === p2.Pid));
      products.splice(0, products.length, ...all);
    });

    test('StockLevels lists by pid and location, and Sales since an RVE', async () => {
      const [x, y] = products;
      const l1 = dataOf(await write(srv, 'POST', 'StockAdjustments', { Pid: x.Pid, Location: 1, Set: 10 }));
      const l2 = dataOf(await write(srv, 'POST', 'StockAdjustments', { Pid: x.Pid, Location: 2, Set: 20 }));
      const l3 = dataOf(await write(srv, 'POST', 'StockAdjustments', { Pid: y.Pid, Location: 1, Set: 30 }));
      assert.deepEqual((await listAll(srv, 'StockLevels', { pid: x.Pid })).records, [l1, l2]);
      assert.deepEqual((await listAll(srv, 'StockLevels', { location: 1 })).records, [l1, l3]);
      assert.deepEqual((await listAll(srv, 'StockLevels', { pid: x.Pid, location: 2 })).records, [l2]);
      assert.deepEqual((await listAll(srv, 'StockLevels', {}, { limit: 1 })).records, [l1, l2, l3]);
      const s1 = dataOf(await write(srv, 'POST', 'Sales', { Location: 1, Lines: [{ Pid: x.Pid, Qty: 1 }] }));
      const s2 = dataOf(
        await write(srv, 'POST', 'Sales', { Location: 2, Cid: customers[0].Cid, Lines: [{ Pid: x.Pid, Qty: 2 }] }),
      );
      assert.deepEqual((await listAll(srv, 'Sales', { since: l3.RVE })).records, [s1, s2]);
      assert.deepEqual((await listAll(srv, 'Sales', { since: s1.RVE })).records, [s2]);
      assert.deepEqual((await listAll(srv, 'Sales', { location: 2 })).records, [s2]);
      assert.equal(s2.Cid, customers[0].Cid);
      assert.deepEqual(
        (await listAll(srv, 'StockLevels', { pid: x.Pid })).records.map((r) => [r.Location, r.Qty, r.Reason]),
        [
          [1, 9, 'sale'],
          [2, 18, 'sale'],
        ],
      );
      assert.deepEqual(dataOf(await api(srv, 'GET', `Sales/${s2.Sid}`)), s2);
    });
  });

  describe('one record', () => {
    test('GET one returns the record as written', async () => {
      for (const p of products.slice(0, 3)) {
        const res = await api(srv, 'GET', `Products/${p.Pid}`);
        assert.equal(res.status, 200);
        assert.deepEqual(dataOf(res), p);
      }
      assert.deepEqual(dataOf(await api(srv, 'GET', `Customers/${customers[3].Cid}`)), customers[3]);
    });

    test('404 naming the record for unknown and deleted records', async () => {
      const c = customers.pop();
      await write(srv, 'DELETE', `Customers/${c.Cid}`);
      const gone = dataOf(await write(srv, 'POST', 'Products', { Description: 'short-lived' }));
      await write(srv, 'DELETE', `Products/${gone.Pid}`);
      for (const [path, id] of [
        ['Products/987654', '987654'],
        ['Customers/987654', '987654'],
        ['Sales/987654', '987654'],
        [`Products/${gone.Pid}`, String(gone.Pid)],
        [`Customers/${c.Cid}`, String(c.Cid)],
      ]) {
        const msg = assertError(await api(srv, 'GET', path), 404, 'not_found', [id]);
        assert.ok(!/route/i.test(msg), `a missing record, not a missing route: ${msg}`);
      }
      assertError(await api(srv, 'PATCH', `Customers/${c.Cid}`, { Name: 'back' }), 404, 'not_found', [String(c.Cid)]);
      assertError(await api(srv, 'DELETE', 'Products/987654'), 404, 'not_found', ['987654']);
    });

    test('400 for an id that is not a positive integer', async () => {
      assertError(await api(srv, 'GET', 'Products/abc'), 400, 'invalid_argument', ['Pid', "'abc'"]);
      assertError(await api(srv, 'GET', 'Customers/0'), 400, 'invalid_argument', ['Cid']);
      assertError(await api(srv, 'GET', 'Sales/-3'), 400, 'invalid_argument', ['Sid']);
    });
  });

  describe('validation', () => {
    let mark;
    let pid;
    let stream;
    let gone; // a deleted product
    let left; // a deleted customer

    before(async () => {
      pid = products[0].Pid;
      gone = dataOf(await write(srv, 'POST', 'Products', { Description: 'discontinued' }));
      await write(srv, 'DELETE', `Products/${gone.Pid}`);
      left = dataOf(await write(srv, 'POST', 'Customers', { Name: 'leaving' }));
      await write(srv, 'DELETE', `Customers/${left.Cid}`);
      // Every write from here on in this block fails: nothing may change after `mark`.
      mark = (await write(srv, 'POST', 'StockAdjustments', { Pid: pid, Location: 5, Set: 50 })).rve;
      stream = openStream(srv, { query: 'want=products,customers,levels,sales' });
      await stream.ready();
    });

    after(() => stream?.close());

    const bad = (method, path, body, words) => async () =>
      assertError(await api(srv, method, path, body), 400, 'invalid_argument', words);

    test('wrong type names the field', async () => {
      await bad('POST', 'Products', { Description: 'x', Price: '9.99' }, ["'Price'"])();
      await bad('POST', 'Products', { Description: 7 }, ["'Description'"])();
      await bad('PATCH', `Products/${pid}`, { Publish: 2 }, ["'Publish'"])();
      await bad('POST', 'Customers', { Name: 'x', Email: 5 }, ["'Email'"])();
      await bad('POST', 'StockAdjustments', { Pid: pid, Location: '1', Delta: 1 }, ["'Location'"])();
      await bad('POST', 'StockAdjustments', { Pid: pid, Location: 1, Delta: 'one' }, ["'Delta'"])();
      await bad('POST', 'Sales', { Location: 1, Lines: 'all' }, ["'Lines'"])();
      await bad('POST', 'Sales', { Location: 1, Lines: [{ Pid: pid, Qty: 1 }, 'x'] }, ['Lines[1]'])();
      await bad('POST', 'Sales', { Location: 1, Lines: [{ Pid: String(pid), Qty: 1 }] }, ['Lines[0].Pid'])();
    });

    test('a negative Price or Set names the field', async () => {
      await bad('POST', 'Products', { Description: 'x', Price: -1 }, ["'Price'"])();
      await bad('PATCH', `Products/${pid}`, { Price: -0.01 }, ["'Price'"])();
      await bad('POST', 'StockAdjustments', { Pid: pid, Location: 1, Set: -5 }, ["'Set'"])();
      await bad('POST', 'Sales', { Location: 1, Lines: [{ Pid: pid, Qty: 1, Price: -2 }] }, ['Lines[0].Price'])();
    });

    test('an unknown field names it', async () => {
      await bad('POST', 'Products', { Description: 'x', Weight: 3 }, ["'Weight'"])();
      await bad('PATCH', `Products/${pid}`, { Pid: 3 }, ["'Pid'"])();
      await bad('PATCH', `Customers/${customers[0].Cid}`, { Cid: 3 }, ["'Cid'"])();
      await bad('POST', 'StockAdjustments', { Pid: pid, Location: 1, Delta: 1, Note: 'x' }, ["'Note'"])();
      await bad('POST', 'Sales', { Location: 1, Lines: [{ Pid: pid, Qty: 1 }], Discount: 5 }, ["'Discount'"])();
      await bad('POST', 'Sales', { Location: 1, Lines: [{ Pid: pid, Qty: 1, Discount: 5 }] }, ['Lines[0].Discount'])();
    });

    test('a required field missing names it', async () => {
      await bad('POST', 'Customers', { Email: 'a@b.c' }, ["'Name'"])();
      await bad('POST', 'StockAdjustments', { Location: 1, Delta: 1 }, ["'Pid'"])();
      await bad('POST', 'Sales', { Lines: [{ Pid: pid, Qty: 1 }] }, ["'Location'"])();
      await bad('POST', 'Sales', { Location: 1 }, ["'Lines'"])();
      await bad('POST', 'Sales', { Location: 1, Lines: [{ Qty: 1 }] }, ['Lines[0].Pid'])();
      await bad('PATCH', `Products/${pid}`, {}, ['Description', 'Price'])();
    });

    test('Qty <= 0 in a sale line names Lines[i].Qty', async () => {
      for (const qty of [0, -1]) {
        await bad('POST', 'Sales', { Location: 1, Lines: [{ Pid: pid, Qty: 1 }, { Pid: pid, Qty: qty }] }, ['Lines[1].Qty'])();
      }
    });

    test('an unknown or deleted Pid in a sale line: 400 naming Pid, the id and Lines[i]', async () => {
      const msg = await bad(
        'POST',
        'Sales',
        { Location: 1, Lines: [{ Pid: pid, Qty: 1 }, { Pid: pid, Qty: 1 }, { Pid: 987654, Qty: 1 }] },
        ['Pid', '987654', 'Lines[2]'],
      )();
      assert.ok(!msg.includes('Lines[0]') && !msg.includes('Lines[1]'), msg);
      await bad('POST', 'Sales', { Location: 1, Lines: [{ Pid: gone.Pid, Qty: 1 }] }, ['Pid', String(gone.Pid), 'Lines[0]'])();
      await bad('POST', 'StockAdjustments', { Pid: gone.Pid, Location: 1, Delta: 1 }, ['Pid', String(gone.Pid)])();
    });

    test('an unknown or deleted Cid: 400 naming Cid and the id', async () => {
      await bad('POST', 'Sales', { Location: 1, Cid: 987654, Lines: [{ Pid: pid, Qty: 1 }] }, ['Cid', '987654'])();
      await bad('POST', 'Sales', { Location: 1, Cid: left.Cid, Lines: [{ Pid: pid, Qty: 1 }] }, ['Cid', String(left.Cid)])();
    });

    test('empty Lines', async () => {
      await bad('POST', 'Sales', { Location: 1, Lines: [] }, ["'Lines'"])();
    });

    test('Delta and Set both, or neither', async () => {
      await bad('POST', 'StockAdjustments', { Pid: pid, Location: 1, Delta: 1, Set: 2 }, ['Delta', 'Set'])();
      await bad('POST', 'StockAdjustments', { Pid: pid, Location: 1, Reason: 'x' }, ['Delta', 'Set'])();
    });

    test('bad limit, since, after; pid and location where they do not apply', async () => {
      for (const limit of ['0', '1001', 'ten', '-1', '5x', '']) {
        await bad('GET', `Products?limit=${limit}`, undefined, ["'limit'", '1000'])();
      }
      for (const since of ['yesterday', '20211301.000000000', '2021-07-27', '20210727.251105994']) {
        await bad('GET', `Customers?since=${since}`, undefined, ["'since'"])();
      }
      for (const cursor of ['garbage', '20210727.091105994', '~5', '20210727.091105994~']) {
        await bad('GET', `Products?after=${encodeURIComponent(cursor)}`, undefined, ["'after'"])();
      }
      await bad('GET', `Products?pid=${pid}`, undefined, ["'pid'"])();
      await bad('GET', `Sales?pid=${pid}`, undefined, ["'pid'"])();
      await bad('GET', 'Customers?location=1', undefined, ["'location'"])();
      await bad('GET', 'StockLevels?pid=abc', undefined, ["'pid'"])();
      await bad('GET', 'StockLevels?location=0', undefined, ["'location'"])();
    });

    test('the failed writes committed nothing and fired nothing', async () => {
      for (const kind of ['Products', 'Customers', 'StockLevels', 'Sales']) {
        assert.deepEqual((await listAll(srv, kind, { since: mark })).records, [], `${kind} changed since ${mark}`);
      }
      // A last good write: the stream must show it and nothing before it.
      const p = await write(srv, 'POST', 'Products', { Description: 'after the failures' });
      await stream.waitFor((s) => s.lastEventId === p.rve, { what: `event ${p.rve}` });
      assert.deepEqual(
        stream.events.filter((e) => e.event !== 'ready').map((e) => e.id),
        [p.rve],
        'only the last good write fired',
      );
      const level = await api(srv, 'GET', `StockLevels?pid=${pid}&location=5`);
      assert.deepEqual([level.json.data[0].Qty, level.rve], [50, mark]);
    });
  });

  describe('concurrent writes', () => {
    test('50 concurrent PATCHes, each setting another field of one of 10 products, lose no update', async () => {
      const targets = products.slice(0, 10).map((p) => p.Pid);
      const patches = [];
      for (const [i, p] of targets.entries()) {
        patches.push(
          [p, { Description: `desc ${i}` }],
          [p, { Price: 1000 + i }],
          [p, { Colour: `colour ${i}` }],
          [p, { Barcode: `${900000 + i}` }],
          [p, { Publish: 1 }],
        );
      }
      const stream = openStream(srv, { query: 'want=products' });
      await stream.ready();
      try {
        const results = await Promise.all(patches.map(([p, body]) => write(srv, 'PATCH', `Products/${p}`, body)));
        assert.equal(new Set(results.map((r) => r.rve)).size, 50, 'each PATCH its own transaction');
        for (const [i, p] of targets.entries()) {
          const got = dataOf(await api(srv, 'GET', `Products/${p}`));
          assert.deepEqual(
            [got.Description, got.Price, got.Colour, got.Barcode, got.Publish],
            [`desc ${i}`, 1000 + i, `colour ${i}`, `${900000 + i}`, 1],
            `product ${p} keeps every concurrent edit`,
          );
          const mine = results.filter((r, k) => patches[k][0] === p).map((r) => r.rve);
          assert.equal(got.RVE, mine.sort().at(-1), 'its RVE is that of the last PATCH');
        }
        const newest = results.map((r) => r.rve).sort().at(-1);
        await stream.waitFor((s) => s.lastEventId === newest, { what: 'the last PATCH event' });
        assert.equal(stream.named('products').length, 50, 'one event per PATCH');
      } finally {
        stream.close();
      }
    });

    test('100 concurrent stock Deltas of +1 end exactly at +100, each seeing the one before', async () => {
      const p = products[11].Pid;
      const results = await Promise.all(
        Array.from({ length: 100 }, () => write(srv, 'POST', 'StockAdjustments', { Pid: p, Location: 7, Delta: 1 })),
      );
      const qtys = results.map((r) => r.json.data.Qty).sort((x, y) => x - y);
      assert.deepEqual(qtys, Array.from({ length: 100 }, (_, i) => i + 1));
      // In RVE order the quantities rise one by one.
      const byRve = [...results].sort((x, y) => (x.rve < y.rve ? -1 : 1)).map((r) => r.json.data.Qty);
      assert.deepEqual(byRve, qtys);
      const level = await api(srv, 'GET', `StockLevels?pid=${p}&location=7`);
      assert.equal(level.json.data[0].Qty, 100);
      // 40 concurrent sales of 1 each, racing with 20 more +1 adjustments: 100 - 40 + 20.
      await Promise.all([
        ...Array.from({ length: 40 }, () => write(srv, 'POST', 'Sales', { Location: 7, Lines: [{ Pid: p, Qty: 1 }] })),
        ...Array.from({ length: 20 }, () => write(srv, 'POST', 'StockAdjustments', { Pid: p, Location: 7, Delta: 1 })),
      ]);
      const after = await api(srv, 'GET', `StockLevels?pid=${p}&location=7`);
      assert.equal(after.json.data[0].Qty, 80);
    });
  });
});
