// conflate=1 (SPEC 7): a stream that falls behind past limits.subscriber_queue_bytes is not cut;
// once it reads again it gets products/customers/levels merged to the latest value per record
// (never an older value after a newer one) and every other event (here: sales) exactly, in order.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { api, rvesIn, write } from './lib/api.mjs';
import { metric, metrics } from './lib/metrics.mjs';
import { assertError, RawSseReader, until } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';

const compareRve = (a, b) => (a === b ? 0 : a < b ? -1 : 1); // same-length RVE strings

describe('conflate=1', () => {
  let srv;

  before(async () => {
    srv = await startServer({ config: '[limits]\nsubscriber_queue_bytes = 4096\n' });
  });
  after(async () => {
    await srv?.cleanup();
  });

  test('conflate takes 0 or 1', async () => {
    const res = await api(srv, 'GET', '/eventsource?want=products&conflate=yes');
    assertError(res, 400, 'invalid_argument', ["conflate 'yes'", 'use 1']);
  });

  test('a stream that falls behind is caught up with the latest state per record, not cut', async () => {
    const pids = [];
    for (let i = 0; i < 3; i += 1) {
      pids.push((await write(srv, 'POST', 'Products', { Description: `conflated ${i}`, Price: 1 })).json.data.Pid);
    }
    const bulk = (await write(srv, 'POST', 'Products', { Description: 'sold in bulk', Price: 1 })).json.data.Pid;
    const sale = (n) => ({ Location: 1, Lines: Array.from({ length: n }, () => ({ Pid: bulk, Qty: 1, Price: 1234.5678 })) });
    const m0 = await metrics(srv);
    const reader = new RawSseReader(srv, '/eventsource?want=products,sales&conflate=1');
    try {
      await reader.waitUntil((events) => events.some((e) => e.event === 'ready'), { what: 'ready' });
      const liveFrom = reader.events.length;
      reader.socket.pause(); // reads nothing until resumed below

      // Large sales until the server reports the stream passed the limit (its socket buffers
      // fill first), then many price changes of three products while it is behind.
      const sales = [];
      const behind = /passed 4096 unsent bytes: it will be caught up/;
      for (let i = 0; i < 400 && !behind.test(srv.logs); i += 1) {
        sales.push((await write(srv, 'POST', 'Sales', sale(1000))).rve);
      }
      assert.match(srv.logs, behind, `the stream fell behind after ${sales.length} sales of 1000 lines`);
      const latest = new Map();
      let productWrites = 0;
      for (let round = 1; round <= 100; round += 1) {
        for (const pid of pids) {
          const res = await write(srv, 'PATCH', `Products/${pid}`, { Price: round });
          latest.set(pid, { price: round, rve: res.rve });
          productWrites += 1;
        }
        if (round % 25 === 0) {
          sales.push((await write(srv, 'POST', 'Sales', sale(1))).rve);
        }
      }
      const newest = [...latest.values()].map((v) => v.rve).sort(compareRve).at(-1);

      reader.socket.resume();
      await until(
        () => reader.parser.lastEventId && compareRve(reader.parser.lastEventId, newest) >= 0,
        `the stream catches up to ${newest}`,
        { timeoutMs: 60000 },
      );
      assert.equal(reader.ended, false, 'the stream was not cut');

      const live = reader.events.slice(liveFrom);
      // ids only grow, and nothing after an id is at or below it: a client cut after any id
      // resumes from it and must miss nothing (the merged records come before any id that is
      // above them).
      let lastId = '0';
      for (const e of live) {
        for (const r of rvesIn(e.data)) {
          assert.ok(compareRve(r, lastId) > 0, `${e.event} record at ${r} arrives after id: ${lastId}`);
        }
        if (e.id !== undefined) {
          assert.ok(compareRve(e.id, lastId) > 0, `id: ${e.id} after id: ${lastId}`);
          lastId = e.id;
        }
      }
      // Sales: every one, once, in order.
      const gotSales = live.filter((e) => e.event === 'sales').map((e) => rvesIn(e.data)[0]);
      assert.deepEqual(gotSales, sales, 'every sale exactly once, in order');
      // Products: per record, RVEs only grow, and the last value is the newest.
      const perPid = new Map();
      let productEvents = 0;
      for (const e of live.filter((x) => x.event === 'products')) {
        const rves = rvesIn(e.data);
        JSON.parse(e.data).Products.forEach((p, i) => {
          productEvents += 1;
          const seen = perPid.get(p.Pid) ?? [];
          if (seen.length > 0) {
            assert.ok(compareRve(rves[i], seen.at(-1).rve) > 0, `Pid ${p.Pid}: ${rves[i]} after ${seen.at(-1).rve}`);
          }
          seen.push({ rve: rves[i], price: p.Price });
          perPid.set(p.Pid, seen);
        });
      }
      for (const pid of pids) {
        const seen = perPid.get(pid);
        assert.ok(seen, `Pid ${pid} received`);
        assert.deepEqual(seen.at(-1), latest.get(pid), `Pid ${pid} ends at its newest value`);
      }
      assert.ok(
        productEvents < productWrites,
        `the ${productWrites} price changes made while behind arrive merged (${productEvents} product records)`,
      );

      const m1 = await metrics(srv);
      assert.equal(metric(m1, 'posfeed_slow_consumer_disconnects_total'), metric(m0, 'posfeed_slow_consumer_disconnects_total'));
      assert.ok(metric(m1, 'posfeed_conflations_total') >= metric(m0, 'posfeed_conflations_total') + 1);
      assert.match(srv.logs, /conflated catch-up from \d{8}\.\d{9}/);

      // Live again afterwards.
      const after = await write(srv, 'PATCH', `Products/${pids[0]}`, { Price: 999 });
      await until(() => reader.parser.lastEventId === after.rve, 'a live event after the catch-up');
    } finally {
      reader.stop();
    }
  });
});
