// The browser side (SPEC 6, 9) in a real headless Chromium (Debian's, driven by playwright-core):
// the test page at /report/pos/tests/eventsource.htm logs in and shows live events with each of
// its clients; an API key in posfeed.js fetch mode; a refused credential shown, not retried;
// and posfeed.js `shared: true`: two tabs hold one server connection between them, and the
// second tab takes over, resuming without a gap, when the first closes.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { request, write } from './lib/api.mjs';
import { launchChromium, watchPage } from './lib/browser.mjs';
import { metric, metrics } from './lib/metrics.mjs';
import { createUser } from './lib/pos.mjs';
import { until } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';

const PAGE = '/report/pos/tests/eventsource.htm';

/** Products shown on a page, oldest first: [{id, pid, data}] from the event list. */
async function shownProducts(page) {
  const items = await page.$$eval('#events li[data-type="products"]', (lis) =>
    lis.map((li) => ({ id: li.dataset.id, data: li.querySelector('pre').textContent })),
  );
  return items.reverse().map((e) => ({ ...e, pid: JSON.parse(e.data).Products[0].Pid }));
}

async function newProduct(srv, description) {
  const res = await write(srv, 'POST', 'Products', { Description: description, Price: 2.5 });
  return { pid: res.json.data.Pid, rve: res.rve };
}

async function streamsOpen(srv) {
  return metric(await metrics(srv), 'posfeed_streams');
}

describe('browser: the test page and posfeed.js in Chromium', () => {
  let srv;
  let browser;

  before(async () => {
    srv = await startServer({ config: '[feed]\nkeepalive_ms = 1000\n' });
    await createUser(srv, { name: 'till', password: 'secret-till' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await srv?.cleanup();
  });

  /** A new browser context (its own cookies, storage and tabs) with the test page logged in. */
  async function loggedInPage() {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto(`${srv.url}${PAGE}`);
    await page.fill('#user', 'till');
    await page.fill('#password', 'secret-till');
    await page.click('#login');
    await page.waitForFunction(() => document.getElementById('who').textContent.startsWith('logged in'));
    return { context, page, problems };
  }

  test('the server serves the page, its script and /js/posfeed.js with ETags', async () => {
    for (const [path, type] of [
      [PAGE, 'text/html; charset=utf-8'],
      ['/report/pos/tests/eventsource.js', 'text/javascript; charset=utf-8'],
      ['/js/posfeed.js', 'text/javascript; charset=utf-8'],
    ]) {
      const res = await request(srv, { path });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers['content-type'], type, path);
      assert.match(res.headers.etag, /^"[0-9a-f]{20}"$/, path);
      const again = await request(srv, { path, headers: { 'If-None-Match': res.headers.etag } });
      assert.equal(again.status, 304, `${path} revalidated`);
      assert.equal(again.text, '');
      const head = await request(srv, { method: 'HEAD', path });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], String(Buffer.byteLength(res.text)));
      assert.equal(head.text, '');
    }
    const post = await request(srv, { method: 'POST', path: '/js/posfeed.js', body: '' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const page = await request(srv, { path: PAGE });
    assert.match(page.headers['content-security-policy'], /script-src 'self'/);
    const root = await request(srv, { path: '/' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, PAGE);
  });

  for (const client of ['posfeed-fetch', 'posfeed-eventsource', 'eventsource']) {
    test(`the page logs in and shows live events (${client})`, async () => {
      const { context, page, problems } = await loggedInPage();
      try {
        assert.match(await page.inputValue('#credential'), /^pft_[0-9a-f]{64}$/, 'the UrlToken is filled in');
        await page.selectOption('#client', client);
        await page.click('#start');
        await page.waitForFunction(() => ['open', 'live'].includes(document.getElementById('state').textContent));
        await page.waitForSelector('#events li[data-type="ready"]');
        const a = await newProduct(srv, `browser ${client} a`);
        const b = await newProduct(srv, `browser ${client} b`);
        await page.waitForFunction(
          (n) => document.querySelectorAll('#events li[data-type="products"]').length >= n,
          2,
        );
        const shown = await shownProducts(page);
        assert.deepEqual(shown.map((e) => e.pid), [a.pid, b.pid], 'both products, in order, newest shown first');
        assert.equal(shown[1].id, b.rve, 'the id shown is the RVE of the write');
        assert.equal(await page.textContent('#last-rve'), b.rve);
        assert.equal(await page.textContent('#counts tr[data-type="products"] td:last-child'), '2');
        await page.click('#stop');
        assert.equal(await page.textContent('#state'), 'stopped');
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }

  test('an API key in posfeed.js fetch mode; EventSource cannot send one', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchPage(page);
    try {
      await page.goto(`${srv.url}${PAGE}?want=products&client=eventsource`);
      await page.fill('#credential', srv.key);
      await page.click('#start');
      assert.match(await page.textContent('#error'), /API key .* posfeed\.js \(fetch\)/);
      await page.selectOption('#client', 'posfeed-fetch');
      await page.click('#start');
      await page.waitForFunction(() => document.getElementById('state').textContent === 'live');
      const p = await newProduct(srv, 'browser with key');
      await page.waitForSelector(`#events li[data-type="products"][data-id="${p.rve}"]`);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('a refused credential is shown and not retried', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${srv.url}${PAGE}?want=products&client=posfeed-fetch`);
      await page.fill('#credential', `pft_${'0'.repeat(64)}`);
      await page.click('#start');
      await page.waitForFunction(() => document.getElementById('state').textContent === 'closed');
      assert.match(await page.textContent('#error'), /^401 unauthenticated: .+\(stopped\)$/);
      assert.equal(await page.textContent('#reconnects'), '0');
    } finally {
      await context.close();
    }
  });

  test('shared: two tabs hold one connection; the second takes over when the first closes', async () => {
    const { context, page: login } = await loggedInPage();
    try {
      const base = await streamsOpen(srv);
      const url = `${srv.url}${PAGE}?want=products&client=posfeed-fetch&shared=1&start=1`;
      const first = await context.newPage();
      const firstProblems = watchPage(first);
      await first.goto(url);
      await first.waitForFunction(() => document.getElementById('role').textContent === 'leader');
      const second = await context.newPage();
      const secondProblems = watchPage(second);
      await second.goto(url);
      await second.waitForFunction(() => document.getElementById('role').textContent === 'follower');
      await login.close();

      const a = await newProduct(srv, 'shared a');
      for (const page of [first, second]) {
        await page.waitForSelector(`#events li[data-type="products"][data-id="${a.rve}"]`);
      }
      assert.equal(await streamsOpen(srv), base + 1, 'one server stream for both tabs');

      await first.close({ runBeforeUnload: true });
      await second.waitForFunction(() => document.getElementById('role').textContent === 'leader');
      // Written while the second tab may still be connecting: it must arrive all the same,
      // exactly once (the new leader resumes from the last RVE it saw).
      const b = await newProduct(srv, 'shared b');
      const c = await newProduct(srv, 'shared c');
      await second.waitForSelector(`#events li[data-type="products"][data-id="${c.rve}"]`);
      const shown = await shownProducts(second);
      assert.deepEqual(shown.map((e) => e.pid), [a.pid, b.pid, c.pid], 'no gap, no duplicate across the takeover');
      await until(async () => (await streamsOpen(srv)) === base + 1, 'one stream after the takeover');
      assert.deepEqual([...firstProblems, ...secondProblems], []);
    } finally {
      await context.close();
    }
    await until(async () => (await streamsOpen(srv)) === 0, 'every stream closed with the tabs');
  });
});
