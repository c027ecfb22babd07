// The POS terminal (SPEC 4, 5): a session's active sale (scan, add, remove, pay, complete, void)
// seen through the npm `eventsource` client on a token URL as a browser opens it, and the retail
// feed's sales+levels group of the completed sale; messages and prompts from the back office;
// unknown barcodes; and sessions that never see each other's sale, messages or prompts.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { EventSource } from 'eventsource';

import { api, parseKeepingRve, rvesIn, sleep, write } from './lib/api.mjs';
import {
  asSession,
  createUser,
  login,
  readyStream,
  recordsNamed,
  sessionStream,
  waitForId,
  waitRecords,
} from './lib/pos.mjs';
import { assertError, dataOf, recordsOf, until } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';

const MILK_EAN = '4006381333931';

/** The parts of a sale the terminal shows, for comparing sequences. */
const summary = (s) => ({
  State: s.State,
  Lines: s.Lines.map((l) => [l.Line, l.Pid, l.Qty, l.Price]),
  Total: s.Total,
  Paid: s.Paid,
  Balance: s.Balance,
});

describe('POS terminal', () => {
  let srv;
  let milk; // with an EAN-13 barcode
  let bread;
  let jam;
  const streams = [];
  const sources = [];

  const keep = (s) => {
    streams.push(s);
    return s;
  };

  before(async () => {
    srv = await startServer();
    for (const name of ['till1', 'till2', 'till3', 'till4', 'till5', 'till6']) {
      await createUser(srv, { name, password: `${name}-pw` });
    }
    await srv.createRmSystem('2');
    await createUser(srv, { name: 'till-rm2', password: 'till-rm2-pw', rmsystem: '2' });
    milk = dataOf(await write(srv, 'POST', 'Products', { Description: 'milk', Price: 1.25, Barcode: MILK_EAN }));
    bread = dataOf(await write(srv, 'POST', 'Products', { Description: 'bread', Price: 2.4 }));
    jam = dataOf(await write(srv, 'POST', 'Products', { Description: 'jam', Price: 3.1 }));
    for (const p of [milk, bread, jam]) {
      await write(srv, 'POST', 'StockAdjustments', { Pid: p.Pid, Location: 3, Set: 10 });
    }
  });

  after(async () => {
    for (const es of sources) {
      es.close();
    }
    for (const s of streams) {
      s.close();
    }
    await srv?.cleanup();
  });

  test('the whole flow through the npm eventsource client on a token URL: scan, add, remove, pay, complete; the retail feed gets sales+levels at the RVE of the final sale event', async () => {
    const me = await login(srv, 'till1', 'till1-pw', { Location: 3, Terminal: 'T1' });
    const retail = keep(await readyStream(openStream(srv, { query: { want: 'sales,levels' } })));

    // As a browser page would: the token in the URL, no headers, want left to its default.
    const received = [];
    const readies = [];
    const other = [];
    const es = new EventSource(`${srv.url}/eventsource?token=${encodeURIComponent(me.token)}`);
    sources.push(es);
    es.addEventListener('sale', (e) => received.push({ lastEventId: e.lastEventId, data: e.data }));
    es.addEventListener('ready', (e) => readies.push(e.data));
    for (const name of ['usermessage', 'userprompt', 'barcode', 'sales', 'levels', 'message']) {
      es.addEventListener(name, (e) => other.push(e));
    }
    await until(() => readies.length === 1, 'the ready event');
    assert.match(readies[0], /"Want":\["sale"\]/);

    const step = async (method, path, body, status = 200) => {
      const res = await asSession(srv, me, method, path, body);
      assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`);
      return res;
    };
    const responses = [];
    responses.push(await step('POST', 'ActiveSession/Sale/Items', { Barcode: MILK_EAN, Qty: 2 }));
    responses.push(await step('POST', 'ActiveSession/Sale/Items', { Pid: bread.Pid, Qty: 1 }));
    responses.push(await step('POST', 'ActiveSession/Sale/Items', { Pid: jam.Pid }));
    responses.push(await step('DELETE', 'ActiveSession/Sale/Items/2'));
    responses.push(await step('POST', 'ActiveSession/Sale/Payments', { Amount: 5, Method: 'cash' }));
    const early = await step('POST', 'ActiveSession/Sale/Complete', undefined, 409);
    assertError(early, 409, 'conflict', ['paid']);
    responses.push(await step('POST', 'ActiveSession/Sale/Payments', { Amount: 0.6, Method: 'card' }));
    responses.push(await step('POST', 'ActiveSession/Sale/Complete'));

    const finalRve = responses.at(-1).rve;
    await until(() => received.some((e) => e.lastEventId === finalRve), `the final sale event ${finalRve}`);
    await sleep(100);

    const sales = received.map((e) => parseKeepingRve(e.data).Sale);
    assert.ok(
      sales.every((s) => s.length === 1),
      'one sale per packet',
    );
    const sids = new Set(sales.map((s) => s[0].Sid));
    assert.equal(sids.size, 1, 'one sale throughout');
    assert.deepEqual(
      sales.map((s) => summary(s[0])),
      [
        { State: 'open', Lines: [[1, milk.Pid, 2, 1.25]], Total: 2.5, Paid: 0, Balance: 2.5 },
        {
          State: 'open',
          Lines: [
            [1, milk.Pid, 2, 1.25],
            [2, bread.Pid, 1, 2.4],
          ],
          Total: 4.9,
          Paid: 0,
          Balance: 4.9,
        },
        {
          State: 'open',
          Lines: [
            [1, milk.Pid, 2, 1.25],
            [2, bread.Pid, 1, 2.4],
            [3, jam.Pid, 1, 3.1],
          ],
          Total: 8,
          Paid: 0,
          Balance: 8,
        },
        {
          State: 'open',
          Lines: [
            [1, milk.Pid, 2, 1.25],
            [2, jam.Pid, 1, 3.1],
          ],
          Total: 5.6,
          Paid: 0,
          Balance: 5.6,
        },
        {
          State: 'open',
          Lines: [
            [1, milk.Pid, 2, 1.25],
            [2, jam.Pid, 1, 3.1],
          ],
          Total: 5.6,
          Paid: 5,
          Balance: 0.6,
        },
        {
          State: 'open',
          Lines: [
            [1, milk.Pid, 2, 1.25],
            [2, jam.Pid, 1, 3.1],
          ],
          Total: 5.6,
          Paid: 5.6,
          Balance: 0,
        },
        {
          State: 'completed',
          Lines: [
            [1, milk.Pid, 2, 1.25],
            [2, jam.Pid, 1, 3.1],
          ],
          Total: 5.6,
          Paid: 5.6,
          Balance: 0,
        },
      ],
      'a sale event per change, none for the refused Complete',
    );
    for (let i = 0; i < received.length; i += 1) {
      assert.equal(received[i].lastEventId, responses[i].rve, `event ${i} has the RVE of its write as id`);
      assert.deepEqual(sales[i][0], dataOf(responses[i]), `event ${i} is the sale the API answered`);
      assert.equal(sales[i][0].Location, 3, 'the sale is at the login Location');
    }
    assert.equal(other.length, 0, `only sale events: ${other.map((e) => e.type)}`);

    // The retail feed: one group at the RVE of the final sale event, sales + levels.
    await waitForId(retail, finalRve);
    const group = retail.events.filter((e) => e.event !== 'ready' && rvesIn(e.data).includes(finalRve));
    assert.deepEqual(group.map((e) => e.event).sort(), ['levels', 'sales']);
    assert.equal(
      retail.events.filter((e) => e.event !== 'ready').length,
      2,
      'the retail feed saw nothing of the open sale, only its completion',
    );
    const [sold] = recordsOf(group.find((e) => e.event === 'sales')).records;
    const sid = sales[0][0].Sid;
    assert.equal(sold.Sid, sid, 'the completed sale keeps its Sid');
    assert.equal(sold.Location, 3);
    assert.equal(sold.Total, 5.6);
    assert.equal(sold.RVE, finalRve);
    assert.deepEqual(sold.Lines, [
      { Pid: milk.Pid, Qty: 2, Price: 1.25 },
      { Pid: jam.Pid, Qty: 1, Price: 3.1 },
    ]);
    const levels = recordsOf(group.find((e) => e.event === 'levels')).records;
    assert.deepEqual(
      levels.map((l) => [l.Pid, l.Location, l.Qty, l.Reason, l.RVE]).sort((x, y) => x[0] - y[0]),
      [
        [milk.Pid, 3, 8, 'sale', finalRve],
        [jam.Pid, 3, 9, 'sale', finalRve],
      ],
    );
    const stored = await api(srv, 'GET', `Sales/${sid}`);
    assert.equal(stored.status, 200, stored.text);
    assert.equal(dataOf(stored).Total, 5.6);
    const now = await asSession(srv, me, 'GET', 'ActiveSession/Sale');
    assert.equal(now.status, 200);
    assert.equal(dataOf(now).State, 'completed');
    assert.equal(dataOf(now).Sid, sid);

    // The next item starts a new sale.
    const next = await step('POST', 'ActiveSession/Sale/Items', { Pid: bread.Pid, Qty: 1 });
    assert.equal(dataOf(next).State, 'open');
    assert.notEqual(dataOf(next).Sid, sid);
    assert.deepEqual(summary(dataOf(next)).Lines, [[1, bread.Pid, 1, 2.4]]);
    es.close();
  });

  test('void: State voided for the session, nothing for the retail feed; then no open sale until the next item', async () => {
    const me = await login(srv, 'till2', 'till2-pw');
    const s = keep(await readyStream(sessionStream(srv, me)));
    const retail = keep(await readyStream(openStream(srv, { query: { want: 'sales,levels' } })));
    const add = await asSession(srv, me, 'POST', 'ActiveSession/Sale/Items', { Pid: jam.Pid, Qty: 2 });
    assert.equal(add.status, 200, add.text);
    const voided = await asSession(srv, me, 'POST', 'ActiveSession/Sale/Void');
    assert.equal(voided.status, 200, voided.text);
    const sales = await waitRecords(s, 'sale', 2);
    assert.deepEqual(
      sales.map((x) => [x.Sid, x.State, x.Total, x._id]),
      [
        [dataOf(add).Sid, 'open', 6.2, add.rve],
        [dataOf(add).Sid, 'voided', 6.2, voided.rve],
      ],
    );
    assert.equal(dataOf(add).Location, 1, 'a login without Location sells at location 1');
    for (const [method, path, body] of [
      ['POST', 'ActiveSession/Sale/Void'],
      ['POST', 'ActiveSession/Sale/Complete'],
      ['POST', 'ActiveSession/Sale/Payments', { Amount: 1 }],
      ['DELETE', 'ActiveSession/Sale/Items/1'],
    ]) {
      assertError(await asSession(srv, me, method, path, body), 404, 'not_found', ['no open sale']);
    }
    const next = await asSession(srv, me, 'POST', 'ActiveSession/Sale/Items', { Pid: jam.Pid });
    assert.equal(dataOf(next).State, 'open');
    assert.notEqual(dataOf(next).Sid, dataOf(add).Sid, 'a new sale');
    await waitRecords(s, 'sale', 3);
    await sleep(150);
    assert.equal(retail.events.filter((e) => e.event !== 'ready').length, 0, 'a voided sale is not a sale');
  });

  test('item, line and payment validation; Complete of a sale with no lines is 409', async () => {
    const me = await login(srv, 'till3', 'till3-pw');
    const call = (method, path, body) => asSession(srv, me, method, path, body);
    assertError(await call('POST', 'ActiveSession/Sale/Complete'), 404, 'not_found');
    assertError(await call('GET', 'ActiveSession/Sale'), 404, 'not_found');
    assertError(
      await call('POST', 'ActiveSession/Sale/Items', { Pid: milk.Pid, Barcode: MILK_EAN }),
      400,
      'invalid_argument',
      ['Pid', 'Barcode'],
    );
    assertError(await call('POST', 'ActiveSession/Sale/Items', { Qty: 1 }), 400, 'invalid_argument', [
      'Pid',
      'Barcode',
    ]);
    assertError(await call('POST', 'ActiveSession/Sale/Items', { Pid: 999999 }), 400, 'invalid_argument', ['999999']);
    assertError(await call('POST', 'ActiveSession/Sale/Items', { Pid: milk.Pid, Qty: 0 }), 400, 'invalid_argument', [
      'Qty',
    ]);
    assertError(
      await call('POST', 'ActiveSession/Sale/Items', { Pid: milk.Pid, Colour: 'red' }),
      400,
      'invalid_argument',
    );
    const add = await call('POST', 'ActiveSession/Sale/Items', { Pid: milk.Pid, Qty: 1.5 });
    assert.equal(add.status, 200, add.text);
    assert.equal(dataOf(add).Total, 1.875);
    assertError(await call('DELETE', 'ActiveSession/Sale/Items/0'), 400, 'invalid_argument');
    assertError(await call('DELETE', 'ActiveSession/Sale/Items/x'), 400, 'invalid_argument');
    assertError(await call('DELETE', 'ActiveSession/Sale/Items/2'), 404, 'not_found', ['2']);
    assertError(await call('POST', 'ActiveSession/Sale/Payments', {}), 400, 'invalid_argument', ['Amount']);
    assertError(await call('POST', 'ActiveSession/Sale/Payments', { Amount: 0 }), 400, 'invalid_argument', ['Amount']);
    assertError(await call('POST', 'ActiveSession/Sale/Payments', { Amount: -5 }), 400, 'invalid_argument', ['Amount']);
    const removed = await call('DELETE', 'ActiveSession/Sale/Items/1');
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual(dataOf(removed).Lines, []);
    assert.equal(dataOf(removed).Total, 0);
    assertError(await call('POST', 'ActiveSession/Sale/Complete'), 409, 'conflict', ['no lines']);
    // Terminal routes act for a session: an API key is refused, no credential is 401.
    for (const [method, path, body] of [
      ['GET', 'ActiveSession/Sale'],
      ['POST', 'ActiveSession/Sale/Items', { Pid: milk.Pid }],
      ['DELETE', 'ActiveSession/Sale/Items/1'],
      ['POST', 'ActiveSession/Sale/Payments', { Amount: 1 }],
      ['POST', 'ActiveSession/Sale/Complete'],
      ['POST', 'ActiveSession/Sale/Void'],
      ['POST', 'ActiveSession/Prompts/1', { Answer: 'yes' }],
    ]) {
      assertError(await api(srv, method, path, body), 403, 'permission_denied', ['session']);
      assertError(await api(srv, method, path, body, { key: null }), 401, 'unauthenticated');
    }
  });

  test('an unknown barcode answers 404 and the session gets a usermessage saying so; the sale is unchanged', async () => {
    const me = await login(srv, 'till4', 'till4-pw');
    const s = keep(await readyStream(sessionStream(srv, me, { query: { want: 'sale,usermessage' } })));
    const unknown = '5012345678900';
    const res = await asSession(srv, me, 'POST', 'ActiveSession/Sale/Items', { Barcode: unknown, Qty: 1 });
    assertError(res, 404, 'not_found', [unknown]);
    const [msg] = await waitRecords(s, 'usermessage', 1);
    assert.ok(msg.Text.includes(unknown), `the message names the barcode: ${msg.Text}`);
    assert.equal(msg.Severity, 'warning');
    assert.equal(typeof msg.Id, 'number');
    assert.ok(msg._id, 'a logged event with an id');
    assertError(await asSession(srv, me, 'GET', 'ActiveSession/Sale'), 404, 'not_found', ['no open sale']);

    // With a sale open, an unknown scan leaves it as it is.
    const add = await asSession(srv, me, 'POST', 'ActiveSession/Sale/Items', { Barcode: MILK_EAN });
    assert.equal(add.status, 200, add.text);
    assert.equal(dataOf(add).Lines[0].Pid, milk.Pid, 'a known barcode adds its product');
    const again = await asSession(srv, me, 'POST', 'ActiveSession/Sale/Items', { Barcode: 'NOT-A-PRODUCT' });
    assertError(again, 404, 'not_found');
    await waitRecords(s, 'usermessage', 2);
    await sleep(150);
    assert.equal(recordsNamed(s, 'sale').length, 1, 'no sale event for the unknown scan');
    assert.ok(recordsNamed(s, 'usermessage')[1].Text.includes('NOT-A-PRODUCT'));
    const sale = await asSession(srv, me, 'GET', 'ActiveSession/Sale');
    assert.deepEqual(dataOf(sale), dataOf(add), 'the sale is unchanged');
  });

  test('messages: Severity info, warning or error (info by default), anything else 400; to a live session of this RmSystem only', async () => {
    const me = await login(srv, 'till5', 'till5-pw');
    const s = keep(await readyStream(sessionStream(srv, me, { query: { want: 'usermessage' } })));
    const path = `Sessions/${me.session}/Messages`;
    const sent = [];
    for (const body of [
      { Text: 'hello', Severity: 'info' },
      { Text: 'low paper', Severity: 'warning' },
      { Text: 'drawer open', Severity: 'error' },
      { Text: 'no severity' },
    ]) {
      const res = await api(srv, 'POST', path, body);
      assert.equal(res.status, 201, res.text);
      sent.push({ ...dataOf(res), RVE: res.rve });
    }
    assert.deepEqual(
      sent.map((m) => [m.Text, m.Severity]),
      [
        ['hello', 'info'],
        ['low paper', 'warning'],
        ['drawer open', 'error'],
        ['no severity', 'info'],
      ],
    );
    assert.equal(new Set(sent.map((m) => m.Id)).size, 4, 'every message has its own Id');
    for (const body of [
      { Text: 'x', Severity: 'loud' },
      { Text: 'x', Severity: 'INFO' },
      { Text: 'x', Severity: '' },
      { Text: 'x', Severity: 3 },
    ]) {
      assertError(await api(srv, 'POST', path, body), 400, 'invalid_argument', ['Severity']);
    }
    assertError(await api(srv, 'POST', path, { Severity: 'info' }), 400, 'invalid_argument', ['Text']);
    assertError(await api(srv, 'POST', 'Sessions/pfs_made_up/Messages', { Text: 'x' }), 404, 'not_found');
    // A session of another RmSystem is out of reach of this RmSystem's key.
    const elsewhere = await login(srv, 'till-rm2', 'till-rm2-pw');
    assert.equal(elsewhere.rmsystem, '2');
    for (const kind of ['Messages', 'Prompts']) {
      assertError(await api(srv, 'POST', `Sessions/${elsewhere.session}/${kind}`, { Text: 'x' }), 404, 'not_found');
    }
    const readOnly = await srv.createKey({ scopes: 'products,usermessage' });
    assertError(await api(srv, 'POST', path, { Text: 'x' }, { key: readOnly }), 403, 'permission_denied', ['write']);

    const got = await waitRecords(s, 'usermessage', 4);
    await sleep(150);
    assert.deepEqual(
      recordsNamed(s, 'usermessage').map(({ _id, ...m }) => ({ ...m, id: _id })),
      sent.map((m) => ({ ...m, id: m.RVE })),
      'the session received exactly the accepted messages, with their Id, Text, Severity and RVE',
    );
    assert.equal(got.length, 4);
  });

  test('prompts: the userprompt arrives, the answer must be an option (400), is given once (409), only by its session (404), and shows in GET Prompts/{id}', async () => {
    const a = await login(srv, 'till6', 'till6-pw');
    const b = await login(srv, 'till6', 'till6-pw');
    const s = keep(await readyStream(sessionStream(srv, a, { query: { want: 'userprompt' } })));
    const put = await api(srv, 'POST', `Sessions/${a.session}/Prompts`, {
      Text: 'Customer over 18?',
      Options: ['yes', 'no'],
    });
    assert.equal(put.status, 201, put.text);
    const prompt = dataOf(put);
    const [got] = await waitRecords(s, 'userprompt', 1);
    assert.equal(got.PromptId, prompt.PromptId);
    assert.equal(got.Text, 'Customer over 18?');
    assert.deepEqual(got.Options, ['yes', 'no']);
    assert.equal(got._id, put.rve);

    const id = prompt.PromptId;
    const read = async () => {
      const res = await api(srv, 'GET', `Prompts/${id}`);
      assert.equal(res.status, 200, res.text);
      return dataOf(res);
    };
    assert.equal((await read()).Answer, '', 'not answered yet');
    const answer = (who, body) => asSession(srv, who, 'POST', `ActiveSession/Prompts/${id}`, body);
    assertError(await answer(a, { Answer: 'maybe' }), 400, 'invalid_argument', ['maybe']);
    assertError(await answer(a, { Answer: 'YES' }), 400, 'invalid_argument');
    assertError(await answer(a, {}), 400, 'invalid_argument', ['Answer']);
    assertError(await answer(b, { Answer: 'yes' }), 404, 'not_found');
    assert.equal((await read()).Answer, '', 'refused answers leave it unanswered');
    const ok = await answer(a, { Answer: 'yes' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(dataOf(ok).Answer, 'yes');
    assert.equal((await read()).Answer, 'yes', 'the back office sees the answer');
    assert.deepEqual((await read()).Options, ['yes', 'no']);
    assertError(await answer(a, { Answer: 'no' }), 409, 'conflict');
    assertError(await answer(b, { Answer: 'no' }), 404, 'not_found');
    assert.equal((await read()).Answer, 'yes', 'the first answer stays');

    // A prompt without Options takes any non-empty answer.
    const free = dataOf(await write(srv, 'POST', `Sessions/${a.session}/Prompts`, { Text: 'Name for the receipt?' }));
    assert.deepEqual(free.Options, []);
    const freeAnswer = await asSession(srv, a, 'POST', `ActiveSession/Prompts/${free.PromptId}`, {
      Answer: 'Ms Smith',
    });
    assert.equal(freeAnswer.status, 200, freeAnswer.text);
    assert.equal(dataOf(await api(srv, 'GET', `Prompts/${free.PromptId}`)).Answer, 'Ms Smith');

    // Validation of the prompt itself.
    for (const body of [
      { Text: 'x', Options: 'yes' },
      { Text: 'x', Options: ['yes', ''] },
      { Text: 'x', Options: ['yes', 2] },
      { Text: 'x', Options: Array.from({ length: 21 }, (_, i) => `o${i}`) },
      { Options: ['yes'] },
    ]) {
      assertError(await api(srv, 'POST', `Sessions/${a.session}/Prompts`, body), 400, 'invalid_argument');
    }
    assertError(await api(srv, 'POST', 'Sessions/pfs_made_up/Prompts', { Text: 'x' }), 404, 'not_found');
    assertError(await api(srv, 'GET', 'Prompts/99999'), 404, 'not_found');
    assertError(await asSession(srv, a, 'POST', 'ActiveSession/Prompts/99999', { Answer: 'yes' }), 404, 'not_found');
  });

  test('two sessions never see each other’s sale, messages or prompts, live or replayed', async () => {
    const a = await login(srv, 'till1', 'till1-pw');
    const b = await login(srv, 'till2', 'till2-pw');
    const from = (await write(srv, 'PATCH', `Products/${bread.Pid}`, { Colour: 'brown' })).rve;
    const want = { want: 'sale,usermessage,userprompt' };
    const sa = keep(await readyStream(sessionStream(srv, a, { query: want })));
    const sb = keep(await readyStream(sessionStream(srv, b, { as: 'cookie', query: want })));

    const aSale = await asSession(srv, a, 'POST', 'ActiveSession/Sale/Items', { Pid: milk.Pid });
    const bSale = await asSession(srv, b, 'POST', 'ActiveSession/Sale/Items', { Pid: jam.Pid, Qty: 3 });
    const bPaid = await asSession(srv, b, 'POST', 'ActiveSession/Sale/Payments', { Amount: 1 });
    const aMsg = await write(srv, 'POST', `Sessions/${a.session}/Messages`, { Text: 'for a' });
    const bMsg = await write(srv, 'POST', `Sessions/${b.session}/Messages`, { Text: 'for b' });
    const aPrompt = await write(srv, 'POST', `Sessions/${a.session}/Prompts`, { Text: 'a?', Options: ['y'] });
    const bPrompt = await write(srv, 'POST', `Sessions/${b.session}/Prompts`, { Text: 'b?', Options: ['n'] });
    for (const r of [aSale, bSale, bPaid]) {
      assert.equal(r.status, 200, r.text);
    }
    const last = [aPrompt.rve, bPrompt.rve].sort().at(-1);
    const barrier = (await write(srv, 'POST', `Sessions/${a.session}/Messages`, { Text: 'barrier a' })).rve;
    const barrierB = (await write(srv, 'POST', `Sessions/${b.session}/Messages`, { Text: 'barrier b' })).rve;
    assert.ok(barrier > last && barrierB > barrier);
    await waitForId(sa, barrier);
    await waitForId(sb, barrierB);
    await sleep(150);

    const view = (s) => ({
      sale: recordsNamed(s, 'sale').map((r) => [r.Sid, r.Paid, r._id]),
      usermessage: recordsNamed(s, 'usermessage').map((r) => [r.Text, r._id]),
      userprompt: recordsNamed(s, 'userprompt').map((r) => [r.Text, r._id]),
    });
    const expectedA = {
      sale: [[dataOf(aSale).Sid, 0, aSale.rve]],
      usermessage: [
        ['for a', aMsg.rve],
        ['barrier a', barrier],
      ],
      userprompt: [['a?', aPrompt.rve]],
    };
    const expectedB = {
      sale: [
        [dataOf(bSale).Sid, 0, bSale.rve],
        [dataOf(bSale).Sid, 1, bPaid.rve],
      ],
      usermessage: [
        ['for b', bMsg.rve],
        ['barrier b', barrierB],
      ],
      userprompt: [['b?', bPrompt.rve]],
    };
    assert.deepEqual(view(sa), expectedA, 'session a sees only its own');
    assert.deepEqual(view(sb), expectedB, 'session b sees only its own');

    // Replayed from before all of it: still only its own.
    for (const [who, expected, newest] of [
      [a, expectedA, barrier],
      [b, expectedB, barrierB],
    ]) {
      const r = keep(sessionStream(srv, who, { query: { ...want, rve: from } }));
      await r.ready();
      assert.equal(r.lastEventId, newest, 'the replay ends with the session’s own last event');
      assert.deepEqual(view(r), expected, 'the replay holds only the session’s own events');
      r.close();
    }

    // Each session's own sale through the API.
    assert.equal(dataOf(await asSession(srv, a, 'GET', 'ActiveSession/Sale')).Sid, dataOf(aSale).Sid);
    assert.equal(dataOf(await asSession(srv, b, 'GET', 'ActiveSession/Sale')).Sid, dataOf(bSale).Sid);
    // b cannot answer a's prompt.
    const aPromptId = dataOf(aPrompt).PromptId;
    assertError(
      await asSession(srv, b, 'POST', `ActiveSession/Prompts/${aPromptId}`, { Answer: 'y' }),
      404,
      'not_found',
    );
  });

  test('a session cannot read a prompt put to another session through GET Prompts/{id}', async () => {
    const a = await login(srv, 'till3', 'till3-pw');
    const b = await login(srv, 'till4', 'till4-pw');
    const put = await write(srv, 'POST', `Sessions/${a.session}/Prompts`, { Text: 'PIN for the refund?' });
    const id = dataOf(put).PromptId;
    const own = await asSession(srv, a, 'GET', `Prompts/${id}`);
    assert.equal(own.status, 200, `its own session may read it: ${own.text}`);
    const res = await asSession(srv, b, 'GET', `Prompts/${id}`);
    assert.ok([403, 404].includes(res.status), `another session gets 403 or 404, not ${res.status}: ${res.text}`);
  });
});
