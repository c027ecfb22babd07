// Transaction groups (SPEC 2, 3): a sale and the levels it lowered share one RVE, one packet per
// type; `id:` only on the last event a subscriber receives from the group; a cut inside a group
// replays the whole group; location= filters sales and levels.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, write } from './lib/api.mjs';
import { dataOf, RawSseReader, recordsOf, rveOfPacket } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

describe('transaction groups', () => {
  let srv;
  let a; // product data
  let b;

  /** Opens a stream and waits for ready. */
  async function live(query, options = {}) {
    const s = openStream(srv, { query, ...options });
    await s.ready();
    return s;
  }

  /** Events of a stream with packet RVE `rve`. */
  const ofGroup = (s, rve) => s.events.filter((e) => e.event !== 'ready' && rveOfPacket(e) === rve);

  before(async () => {
    srv = await startServer();
    a = dataOf(await write(srv, 'POST', 'Products', { Description: 'apple', Price: 0.5 }));
    b = dataOf(await write(srv, 'POST', 'Products', { Description: 'bread', Price: 2.25 }));
    for (const p of [a, b]) {
      for (const location of [1, 2]) {
        await write(srv, 'POST', 'StockAdjustments', { Pid: p.Pid, Location: location, Set: 100 });
      }
    }
  });

  after(async () => {
    await srv?.cleanup();
  });

  test('a sale of 3 lines (one Pid twice) is one group: one sales and one levels packet with one merged level per product, all at the RVE of the sale', async () => {
    const s = await live('want=products,sales,levels');
    try {
      const sale = await write(srv, 'POST', 'Sales', {
        Location: 1,
        Lines: [
          { Pid: a.Pid, Qty: 2 },
          { Pid: b.Pid, Qty: 1, Price: 2 },
          { Pid: a.Pid, Qty: 3 },
        ],
      });
      assert.equal(sale.status, 201);
      await s.waitFor((x) => x.lastEventId === sale.rve, { what: `group ${sale.rve}` });
      const group = ofGroup(s, sale.rve);
      assert.deepEqual(
        group.map((e) => e.event).sort(),
        ['levels', 'sales'],
        'one packet per type: no products event, one sales, one levels',
      );
      const sales = recordsOf(group.find((e) => e.event === 'sales')).records;
      assert.deepEqual(sales, [dataOf(sale)], 'the sales packet holds the sale the API returned');
      assert.deepEqual(
        sales[0].Lines,
        [
          { Pid: a.Pid, Qty: 2, Price: 0.5 },
          { Pid: b.Pid, Qty: 1, Price: 2 },
          { Pid: a.Pid, Qty: 3, Price: 0.5 },
        ],
        'the sale keeps its lines as sent; a missing Price is the product price',
      );
      assert.equal(sales[0].Total, 4.5);
      assert.equal(sales[0].Location, 1);
      assert.equal(sales[0].Cid, 0);
      const levels = recordsOf(group.find((e) => e.event === 'levels')).records;
      assert.deepEqual(
        levels.map((r) => [r.Pid, r.Location, r.Qty, r.Reason, r.RVE]).sort((x, y) => x[0] - y[0]),
        [
          [a.Pid, 1, 95, 'sale', sale.rve],
          [b.Pid, 1, 99, 'sale', sale.rve],
        ],
        'every level the sale lowered, the repeated Pid merged into one level',
      );
      // On the wire: id only on the last event of the group, and it is the sale's RVE.
      assert.equal(group[0].id, undefined, `the first event of the group carries no id:\n${s.raw}`);
      assert.equal(group[1].id, sale.rve);
      const raw = s.raw.slice(s.raw.indexOf(`"RVE":${sale.rve}`) - 200);
      assert.equal(raw.split(`id: ${sale.rve}\n`).length - 1, 1, 'one id line for the group');
      // The API agrees.
      assert.deepEqual(dataOf(await api(srv, 'GET', `Sales/${sales[0].Sid}`)), sales[0]);
      const stock = await api(srv, 'GET', `StockLevels?pid=${a.Pid}&location=1`);
      assert.deepEqual(
        stock.json.data.map((r) => r.Qty),
        [95],
      );
    } finally {
      s.close();
    }
  });

  test('a subscriber wanting one type of the group gets that event with the id', async () => {
    const onlyLevels = await live('want=levels');
    const onlySales = await live('want=sales');
    try {
      const sale = await write(srv, 'POST', 'Sales', { Location: 2, Lines: [{ Pid: b.Pid, Qty: 4 }] });
      for (const [s, type] of [
        [onlyLevels, 'levels'],
        [onlySales, 'sales'],
      ]) {
        await s.waitFor((x) => x.lastEventId === sale.rve, { what: `${type} of ${sale.rve}` });
        const group = ofGroup(s, sale.rve);
        assert.equal(group.length, 1);
        assert.equal(group[0].event, type);
        assert.equal(group[0].id, sale.rve);
      }
    } finally {
      onlyLevels.close();
      onlySales.close();
    }
  });

  test('a connection cut inside a group in replay replays the whole group on resume', async () => {
    const before = await write(srv, 'POST', 'StockAdjustments', { Pid: a.Pid, Location: 1, Delta: 1 });
    const sale = await write(srv, 'POST', 'Sales', { Location: 1, Lines: [{ Pid: a.Pid, Qty: 1 }, { Pid: b.Pid, Qty: 1 }] });
    const reader = new RawSseReader(srv, `/eventsource?want=sales,levels&rve=0`);
    await reader.cutAfter((events) => events.some((e) => e.event === 'sales' && rveOfPacket(e) === sale.rve));
    assert.equal(reader.status, 200);
    const last = reader.events.at(-1);
    assert.equal(last.event, 'sales');
    assert.equal(last.id, undefined, 'the sales event is not the last of its group: no id');
    assert.equal(reader.parser.lastEventId, before.rve, 'the last id seen is the group before');

    const resumed = openStream(srv, { query: 'want=sales,levels', lastEventId: reader.parser.lastEventId });
    try {
      const ready = await resumed.ready();
      const replayed = resumed.events.slice(0, resumed.events.indexOf(ready));
      assert.deepEqual(
        replayed.map((e) => [e.event, rveOfPacket(e), e.id]),
        [
          ['sales', sale.rve, undefined],
          ['levels', sale.rve, sale.rve],
        ],
        'the whole group, sales and levels',
      );
      assert.equal(recordsOf(replayed[1]).records.length, 2);
    } finally {
      resumed.close();
    }
  });

  test('a live connection cut inside a group replays the whole group on resume', async () => {
    const start = await write(srv, 'POST', 'StockAdjustments', { Pid: b.Pid, Location: 1, Delta: 1 });
    const reader = new RawSseReader(srv, `/eventsource?want=sales,levels&rve=${start.rve}`);
    await reader.waitUntil((events) => events.some((e) => e.event === 'ready'), { what: 'ready' });
    // The first sales event after ready is the sale below.
    const cut = reader.cutAfter((events) => events.some((e) => e.event === 'sales'));
    const mid = await write(srv, 'POST', 'StockAdjustments', { Pid: b.Pid, Location: 1, Delta: 1 });
    const sale = await write(srv, 'POST', 'Sales', { Location: 1, Lines: [{ Pid: a.Pid, Qty: 1 }, { Pid: b.Pid, Qty: 2 }] });
    await cut;
    assert.equal(rveOfPacket(reader.events.at(-1)), sale.rve);
    assert.equal(reader.events.at(-1).event, 'sales');
    assert.equal(reader.events.at(-1).id, undefined);
    assert.equal(reader.parser.lastEventId, mid.rve, 'the last id seen is the adjustment before the sale');
    const resumed = openStream(srv, { query: 'want=sales,levels', lastEventId: mid.rve });
    try {
      const ready = await resumed.ready();
      assert.deepEqual(
        resumed.events.slice(0, resumed.events.indexOf(ready)).map((e) => [e.event, rveOfPacket(e), e.id]),
        [
          ['sales', sale.rve, undefined],
          ['levels', sale.rve, sale.rve],
        ],
      );
    } finally {
      resumed.close();
    }
  });

  test('location=1 subscribers get no sales or levels of location 2; products are not filtered', async () => {
    const loc1 = await live('want=sales,levels,products&location=1');
    const loc2 = await live('want=sales,levels,products&location=2');
    const all = await live('want=sales,levels,products');
    try {
      const far = await write(srv, 'POST', 'Sales', { Location: 2, Lines: [{ Pid: a.Pid, Qty: 1 }, { Pid: b.Pid, Qty: 1 }] });
      const farAdj = await write(srv, 'POST', 'StockAdjustments', { Pid: a.Pid, Location: 2, Delta: 3 });
      const near = await write(srv, 'POST', 'Sales', { Location: 1, Lines: [{ Pid: a.Pid, Qty: 1 }] });
      // The last write is seen by everyone: once it arrives, everything before it has.
      const product = await write(srv, 'POST', 'Products', { Description: 'cheese', Price: 4 });
      for (const s of [loc1, loc2, all]) {
        await s.waitFor((x) => x.lastEventId === product.rve, { what: `product ${product.rve}` });
      }
      const seen = (s) => s.events.filter((e) => e.event !== 'ready').map((e) => [e.event, rveOfPacket(e), e.id]);
      assert.deepEqual(seen(loc1), [
        ['sales', near.rve, undefined],
        ['levels', near.rve, near.rve],
        ['products', product.rve, product.rve],
      ]);
      assert.deepEqual(seen(loc2), [
        ['sales', far.rve, undefined],
        ['levels', far.rve, far.rve],
        ['levels', farAdj.rve, farAdj.rve],
        ['products', product.rve, product.rve],
      ]);
      assert.deepEqual(seen(all), [
        ['sales', far.rve, undefined],
        ['levels', far.rve, far.rve],
        ['levels', farAdj.rve, farAdj.rve],
        ['sales', near.rve, undefined],
        ['levels', near.rve, near.rve],
        ['products', product.rve, product.rve],
      ]);
      // The same filter on replay.
      const replay = openStream(srv, { query: 'want=sales,levels&location=1&rve=0' });
      try {
        const ready = await replay.ready();
        const got = replay.events.slice(0, replay.events.indexOf(ready)).filter((e) => rveOfPacket(e) >= far.rve);
        assert.deepEqual(
          got.map((e) => [e.event, rveOfPacket(e)]),
          [
            ['sales', near.rve],
            ['levels', near.rve],
          ],
        );
        for (const e of replay.events.filter((x) => x.event !== 'ready')) {
          for (const r of recordsOf(e).records) {
            assert.equal(r.Location, 1, `location=1 replays only location 1: ${e.data}`);
          }
        }
      } finally {
        replay.close();
      }
    } finally {
      loc1.close();
      loc2.close();
      all.close();
    }
  });
});
