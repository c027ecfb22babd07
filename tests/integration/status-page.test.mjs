// The operator's status page (SPEC 6) in a real headless Chromium: /report/status reads /metrics
// once a second and its charts move while `posfeed serve --demo` runs (events published and
// delivered per second above zero, commit latency drawn, canvas pixels changing); on a server
// with metrics.token it says so on a 401, and works once the token is pasted or given as
// #token=... (which it takes out of the address); a 403 is explained too.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { sleep, write } from './lib/api.mjs';
import { launchChromium } from './lib/browser.mjs';
import { openStream } from './lib/sse.mjs';
import { startServer } from './lib/server.mjs';

const PAGE = '/report/status';
const TOKEN = 'st-5b0e8d2a7c914f36a1e4-page';

/** Page errors and console errors, except the failed /metrics loads a 401/403 test provokes. */
function watch(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/metrics')) {
      problems.push(`console: ${m.text()}`);
    }
  });
  return problems;
}

/** The latest figure of a chart, a number, or null while it has none. */
async function figure(page, chart) {
  const v = await page.$eval(`[data-chart="${chart}"] .value`, (o) => o.dataset.value);
  return v === '' ? null : Number(v);
}

/** A hash of a chart's canvas pixels. */
function canvasHash(page, chart) {
  return page.$eval(`[data-chart="${chart}"] canvas`, (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    let inked = 0;
    for (let i = 0; i < d.length; i += 1) {
      h = (Math.imul(h, 31) + d[i]) | 0;
      inked += i % 4 === 3 && d[i] > 0 ? 1 : 0;
    }
    return { hash: `${c.width}x${c.height}:${h}`, inked };
  });
}

function stateIs(page, state, timeout = 20000) {
  return page.waitForSelector(`#message[data-state="${state}"]`, { timeout });
}

describe('status page in Chromium', () => {
  let demo;
  let guarded;
  let browser;

  before(async () => {
    [demo, guarded, browser] = await Promise.all([
      startServer({ config: 'demo = true\n' }),
      startServer({ config: `[metrics]\ntoken = "${TOKEN}"\n` }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await demo?.cleanup();
    await guarded?.cleanup();
  });

  test('the charts move while the demo runs', async () => {
    // The simulator writes on its own; a subscriber makes deliveries, and writes through the API
    // are what the commit-latency histogram measures.
    const stream = openStream(demo, { query: 'want=products,customers,levels,sales' });
    await stream.ready();
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i += 1) {
        await write(demo, 'POST', 'Products', { Description: `status page ${i}`, Price: 1 + (i % 7) });
        await sleep(150);
      }
    })();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(`${demo.url}${PAGE}`);
      await stateIs(page, 'ok');
      await page.waitForFunction(
        () => {
          const v = (name) => Number(document.querySelector(`[data-chart="${name}"] .value`).dataset.value || 0);
          return v('published') > 0 && v('delivered') > 0 && v('streams') >= 1 && v('commit') > 0;
        },
        undefined,
        { timeout: 20000 },
      );
      assert.ok((await figure(page, 'published')) > 0);
      assert.ok((await figure(page, 'delivered')) > 0);
      assert.ok((await figure(page, 'streams')) >= 1);
      assert.ok((await figure(page, 'commit')) > 0);
      assert.equal(await figure(page, 'slow'), 0, 'no slow consumer was cut');
      assert.notEqual(await page.textContent('#connections'), '—');
      assert.equal(await page.textContent('#database'), 'ok');

      const before = {};
      for (const chart of ['published', 'delivered', 'commit']) {
        before[chart] = await canvasHash(page, chart);
        assert.ok(before[chart].inked > 100, `${chart} chart has something drawn`);
      }
      await sleep(2500);
      for (const chart of ['published', 'delivered', 'commit']) {
        const now = await canvasHash(page, chart);
        assert.notEqual(now.hash, before[chart].hash, `the ${chart} chart changed in 2.5 s`);
      }
      assert.deepEqual(problems, []);
    } finally {
      writing = false;
      await writer;
      stream.close();
      await context.close();
    }
  });

  test("the p99 is interpolated inside its bucket, as Prometheus' histogram_quantile does", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${demo.url}${PAGE}`);
      const q = await page.evaluate(async () => {
        const { quantileBetween } = await import('/report/status.js');
        const at = (a, b, c, d) => [
          { le: 0.1, count: a },
          { le: 0.25, count: b },
          { le: 1, count: c },
          { le: Infinity, count: d },
        ];
        const older = at(10, 10, 10, 10);
        const newer = at(60, 100, 110, 110);
        return [
          quantileBetween(0.99, older, newer),
          quantileBetween(0.5, older, newer),
          quantileBetween(0.99, older, at(10, 10, 10, 20)), // above every finite bound
          quantileBetween(0.99, older, older), // nothing observed
          quantileBetween(0.99, newer, older), // a restart in between
        ];
      });
      // rank 99 of 100: in (0.25, 1], 9 of its 10 → 0.25 + 0.75 × 0.9; rank 50: the top of the first.
      assert.deepEqual(q.map((v) => (v === null ? null : Math.round(v * 1e6) / 1e6)), [0.925, 0.1, 1, null, null]);
    } finally {
      await context.close();
    }
  });

  test('a 401 is explained; a token pasted or given as #token= is used and leaves the address', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(`${guarded.url}${PAGE}`);
      await stateIs(page, 'unauthorized');
      const message = await page.textContent('#message');
      assert.match(message, /401/);
      assert.match(message, /metrics\.token/);
      assert.equal(await figure(page, 'streams'), null, 'no figures without access');

      await page.fill('#token', TOKEN);
      await page.click('#use-token');
      await stateIs(page, 'ok');
      await page.waitForFunction(() => document.querySelector('[data-chart="streams"] .value').dataset.value !== '');
      assert.equal(await figure(page, 'streams'), 0);

      // In a new tab (its own sessionStorage): a wrong token, then the right one, in the address.
      const other = await context.newPage();
      const otherProblems = watch(other);
      await other.goto(`${guarded.url}${PAGE}#token=not-the-token-at-all`);
      await stateIs(other, 'unauthorized');
      assert.match(await other.textContent('#message'), /not metrics\.token/);
      await other.goto('about:blank');
      await other.goto(`${guarded.url}${PAGE}#token=${TOKEN}`);
      await stateIs(other, 'ok');
      assert.ok(!other.url().includes(TOKEN), `the token left the address: ${other.url()}`);
      assert.equal(new URL(other.url()).pathname, PAGE);
      assert.deepEqual([...problems, ...otherProblems], []);
    } finally {
      await context.close();
    }
  });

  test('a 403 (metrics.token unset, the page not opened on the server itself) is explained', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems = watch(page);
      // A loopback test cannot be a remote peer: /metrics answers as the server does to one.
      await page.route('**/metrics', (route) =>
        route.fulfill({
          status: 403,
          contentType: 'application/json',
          body: JSON.stringify({
            error: { code: 'permission_denied', message: '/metrics answers loopback peers only while metrics.token is not set' },
          }),
        }),
      );
      await page.goto(`${demo.url}${PAGE}`);
      await stateIs(page, 'forbidden');
      const message = await page.textContent('#message');
      assert.match(message, /403/);
      assert.match(message, /metrics\.token/);
      assert.equal(await figure(page, 'published'), null);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
