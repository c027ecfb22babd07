// posfeed-tail (SPEC 9): one JSON line per event, exactly once across SIGTERM restarts with
// --state (also when stopped inside a transaction group) and across a server restart; clear
// errors and exit codes for refused streams; --count, --format xml and --timeout.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { rvesIn, write } from './lib/api.mjs';
import { assertSameSequence, logEventsOf } from './lib/check.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';
import { logSequence, rveOfLine, runTail, Tail, tempDir } from './lib/tail.mjs';
import { seedFromEnv, Workload } from './lib/workload.mjs';

const WANT = ['products', 'levels', 'sales'];
// The server's retry: is posfeed-tail's first reconnection delay.
const CONFIG = '[feed]\nretry_ms = 100\n';

/** The complete log of `want`, as a fresh subscriber from rve=0 reads it up to ready. */
async function logFromStart(srv, want) {
  const s = openStream(srv, { query: `want=${want.join(',')}&rve=0` });
  try {
    const ready = await s.ready({ timeoutMs: 30000 });
    return logEventsOf(s.events.slice(0, s.events.indexOf(ready)));
  } finally {
    s.close();
  }
}

/** A completed sale of 1 or 2 products: one group of a `sales` and a `levels` event. */
async function sale(srv, work) {
  const lines = [{ Pid: work.random.pick(work.pids), Qty: work.random.int(1, 3) }];
  if (work.random() < 0.5) {
    lines.push({ Pid: work.random.pick(work.pids), Qty: 1 });
  }
  return write(srv, 'POST', 'Sales', { Location: work.random.int(1, 3), Lines: lines });
}

/** Random changes, a third of them sales, until `signal` is aborted or `count` ran. */
async function writeMixed(srv, work, { signal, count = Infinity, concurrency = 2 } = {}) {
  let left = count;
  const worker = async () => {
    while (left > 0 && !signal?.aborted) {
      left -= 1;
      if (work.random() < 0.35) {
        await sale(srv, work);
      } else {
        await work.randomOp();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Every printed line with an id carries its own packet's RVE as that id. */
function assertIdsMatchPackets(lines) {
  for (const l of lines) {
    if (l.json.id !== '') {
      assert.equal(l.json.id, rveOfLine(l), `the id of ${l.text}`);
    }
  }
}

describe('posfeed-tail', () => {
  const seed = seedFromEnv();
  let srv;
  let work;
  let dir;

  before(async () => {
    srv = await startServer({ config: CONFIG });
    work = new Workload(srv, { seed });
    dir = await tempDir();
    for (let i = 0; i < 5; i += 1) {
      await work.createProduct();
    }
  });

  after(async () => {
    await srv?.cleanup();
    if (dir) {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  const feedUrl = (suffix = '') => `${srv.url}/eventsource${suffix}?rve=0`;
  const tailArgs = (extra = []) => [feedUrl(), '--want', WANT.join(','), '--api-key', srv.key, ...extra];

  test('stopped inside a group with --count, a restart with --state prints the rest of the group only', async () => {
    const fresh = await startServer({ config: CONFIG });
    try {
      const p = await write(fresh, 'POST', 'Products', { Description: 'p', Price: 1 });
      const s = await write(fresh, 'POST', 'Sales', { Location: 1, Lines: [{ Pid: p.json.data.Pid, Qty: 1 }] });
      const q = await write(fresh, 'POST', 'Products', { Description: 'q', Price: 2 });
      const state = path.join(dir, 'group.state');
      const args = (count) => [
        `${fresh.url}/eventsource?rve=0`,
        '--want',
        WANT.join(','),
        '--api-key',
        fresh.key,
        '--state',
        state,
        '--count',
        String(count),
      ];

      const one = await runTail(args(2));
      assert.equal(one.code, 0, one.stderr);
      assert.deepEqual(
        one.lines.map((l) => [l.json.event, l.json.id]),
        [
          ['products', p.rve],
          ['sales', ''],
        ],
      );
      assert.equal(await fs.readFile(state, 'utf8'), `${p.rve}\npartial ${s.rve} 1\n`);

      const two = await runTail(args(1));
      assert.equal(two.code, 0, two.stderr);
      assert.deepEqual(
        two.lines.map((l) => [l.json.event, l.json.id]),
        [['levels', s.rve]],
        'the sales event of the group is not printed again',
      );
      assert.equal(await fs.readFile(state, 'utf8'), `${s.rve}\n`);

      const three = await runTail(args(1));
      assert.deepEqual(
        three.lines.map((l) => [l.json.event, l.json.id]),
        [['products', q.rve]],
      );
      assert.equal(await fs.readFile(state, 'utf8'), `${q.rve}\n`);
    } finally {
      await fresh.cleanup();
    }
  });

  test('SIGTERM and restart with --state during continuous writes (with sales): every event exactly once, in log order', async (t) => {
    const state = path.join(dir, 'sigterm.state');
    const args = tailArgs(['--state', state]);
    const stop = new AbortController();
    const writer = writeMixed(srv, work, { signal: stop.signal });
    const runs = [];
    let insideGroup = 0; // runs stopped inside a group (random: the test above makes sure of one)
    try {
      // Four runs, each stopped by SIGTERM after at least 25 more events, wherever that falls.
      for (let i = 0; i < 4; i += 1) {
        const tail = new Tail(args);
        await tail.waitFor((x) => logSequence(x.lines).length >= 25, { what: '25 events', timeoutMs: 30000 });
        const r = await tail.stop('SIGTERM');
        assert.equal(r.code, 0, `run ${i} exits 0 on SIGTERM: ${r.stderr}`);
        runs.push(r);
        if ((await fs.readFile(state, 'utf8')).includes('\npartial ')) {
          insideGroup += 1;
        }
      }
    } finally {
      stop.abort();
      await writer;
    }
    const expected = await logFromStart(srv, WANT);
    const last = new Tail(args);
    await last.waitForId(expected.at(-1).rve, { timeoutMs: 30000 });
    runs.push(await last.stop('SIGTERM'));
    assert.equal(runs.at(-1).code, 0);

    const printed = runs.flatMap((r) => r.lines);
    const groups = new Set(expected.map((e) => e.rve)).size;
    t.diagnostic(
      `seed ${seed}: ${expected.length} events in ${groups} groups; lines per run ${runs.map((r) => r.lines.length)}; ` +
        `${insideGroup} stopped inside a group`,
    );
    assert.ok(expected.length > groups, 'some groups have several events (sales)');
    assertSameSequence(logSequence(printed), expected, `across ${runs.length} runs (seed ${seed})`);
    assertIdsMatchPackets(printed);
    assert.equal(await fs.readFile(state, 'utf8'), `${expected.at(-1).rve}\n`);
  });

  test('survives a server restart and continues without gaps or duplicates', async () => {
    const tail = new Tail(tailArgs());
    try {
      await writeMixed(srv, work, { count: 30 });
      const before = await logFromStart(srv, WANT);
      await tail.waitForId(before.at(-1).rve, { timeoutMs: 30000 });
      await srv.restart();
      await writeMixed(srv, work, { count: 30 });
      const expected = await logFromStart(srv, WANT);
      await tail.waitForId(expected.at(-1).rve, { timeoutMs: 60000 });
      // The new connection's ready follows its replay (in a chunk of its own): wait for it too.
      await tail.waitFor((x) => x.lines.filter((l) => l.json.event === 'ready').length >= 2, {
        what: 'ready on the new connection',
        timeoutMs: 60000,
      });
      const r = await tail.stop('SIGTERM');
      assert.equal(r.code, 0, r.stderr);
      assertSameSequence(logSequence(r.lines), expected, `across a server restart (seed ${seed})`);
      assert.ok(
        r.lines.filter((l) => l.json.event === 'ready').length >= 2,
        'ready again on the new connection',
      );
      assert.match(r.stderr, /reconnecting in [0-9.]+ s \(attempt 1\)/);
      assert.ok(!r.stderr.includes(srv.key), 'the key is never printed');
    } finally {
      await tail.stop('SIGKILL').catch(() => {});
    }
  });

  test('started live with --state: what is committed while it is stopped, before any id, is printed by the next run', async () => {
    const state = path.join(dir, 'live.state');
    const args = [`${srv.url}/eventsource`, '--want', 'products', '--api-key', srv.key, '--state', state];
    const first = new Tail(args);
    await first.waitFor((x) => x.lines.some((l) => l.json.event === 'ready'), { what: 'ready' });
    const r1 = await first.stop('SIGTERM');
    assert.equal(r1.code, 0, r1.stderr);
    assert.deepEqual(
      r1.lines.map((l) => l.json.event),
      ['ready'],
    );
    const ready = rvesIn(r1.lines[0].text)[0];
    assert.equal(await fs.readFile(state, 'utf8'), `${ready}\n`, 'the ready RVE is the resume point');
    const p = await work.createProduct();
    const r2 = await runTail([...args, '--count', '1']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(
      r2.lines.map((l) => [l.json.event, l.json.id]),
      [['products', p.rve]],
    );
  });

  test('a resume point ahead of the server: reset, then the snapshot, printed, and the state follows the server', async () => {
    const state = path.join(dir, 'ahead.state');
    await fs.writeFile(state, '20991231.235959999\n');
    // reset + one snapshot packet (fewer than feed.replay_batch products).
    const args = [feedUrl(), '--want', 'products', '--api-key', srv.key, '--state', state, '--count', '2'];
    const r = await runTail(args);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.lines.map((l) => l.json.event),
      ['reset', 'products'],
    );
    assert.equal(r.lines[0].json.data.Reset[0].Reason, 'cursor_ahead');
    assert.equal(r.lines[0].json.id, '');
    const id = r.lines[1].json.id;
    assert.match(id, /^\d{8}\.\d{9}$/);
    assert.equal(await fs.readFile(state, 'utf8'), `${id}\n`);
  });

  test('refused streams: exit 2 with the status, code and message on stderr, never the credential', async () => {
    const cases = [
      {
        args: [feedUrl(), '--want', 'products', '--api-key', 'pfk_0123456789abcdef_bad'],
        status: 401,
        code: 'unauthenticated',
      },
      {
        args: [feedUrl(), '--want', 'products', '--token', 'pft_secretvalue'],
        status: 401,
        code: 'unauthenticated',
        secret: 'pft_secretvalue',
      },
      {
        args: [feedUrl('_2'), '--want', 'products', '--api-key', srv.key],
        status: 403,
        code: 'permission_denied',
        words: "'2'",
      },
      {
        args: [feedUrl(), '--want', 'levels', '--api-key', await srv.createKey({ scopes: 'products' })],
        status: 403,
        code: 'permission_denied',
        words: 'levels',
      },
      {
        args: [feedUrl(), '--want', 'products,nope', '--api-key', srv.key],
        status: 400,
        code: 'invalid_argument',
        words: "'nope'",
      },
    ];
    for (const c of cases) {
      const r = await runTail(c.args);
      const label = `${c.status} for ${c.args.slice(1).join(' ')}`;
      assert.equal(r.code, 2, `${label}: ${r.stderr}`);
      assert.equal(r.lines.length, 0, label);
      assert.match(r.stderr, new RegExp(`^posfeed-tail: ${c.status} ${c.code}: \\S.+\\n$`), label);
      if (c.words) {
        assert.ok(r.stderr.includes(c.words), `${label}: ${r.stderr}`);
      }
      assert.ok(!r.stderr.includes(srv.key), label);
      if (c.secret) {
        assert.ok(!r.stderr.includes(c.secret), `${label}: ${r.stderr}`);
      }
    }
  });

  test('usage errors exit 64 with a message', async () => {
    for (const args of [
      [feedUrl()],
      [feedUrl(), '--want', 'products', '--api-key', 'a', '--token', 'b'],
      [feedUrl(), '--want', 'products', '--format', 'yaml'],
      [feedUrl(), '--want', 'products', '--count', '0'],
      ['ftp://127.0.0.1/eventsource', '--want', 'products'],
    ]) {
      const r = await runTail(args);
      assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.trim().length > 10, r.stderr);
    }
  });

  test('--count N prints N events and exits 0; --format xml prints packets as strings', async () => {
    const expected = await logFromStart(srv, WANT);
    assert.ok(expected.length > 5);
    const xml = await runTail(tailArgs(['--count', '5', '--format', 'xml']));
    assert.equal(xml.code, 0, xml.stderr);
    assert.equal(xml.lines.length, 5);
    for (const l of xml.lines) {
      assert.deepEqual(Object.keys(l.json), ['event', 'id', 'data']);
      assert.equal(typeof l.json.data, 'string');
      assert.match(l.json.data, /^<(Products|Levels|Sales)>.*<\/\1>$/);
    }
    assertSameSequence(logSequence(xml.lines), expected.slice(0, 5), 'xml');
    assertIdsMatchPackets(xml.lines);

    const json = await runTail(tailArgs(['--count', '3']));
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.lines.length, 3);
    assert.equal(typeof json.lines[0].json.data, 'object');
    assertSameSequence(logSequence(json.lines), expected.slice(0, 3), 'json');
  });

  test('--timeout ends it: exit 0 without --count, exit 3 naming the count with it', async () => {
    const liveArgs = [`${srv.url}/eventsource`, '--want', 'products', '--api-key', srv.key, '--timeout', '1'];
    const live = await runTail(liveArgs);
    assert.equal(live.code, 0, live.stderr);
    assert.deepEqual(
      live.lines.map((l) => l.json.event),
      ['ready'],
    );
    const short = await runTail([...liveArgs, '--count', '1000']);
    assert.equal(short.code, 3, short.stderr);
    assert.match(short.stderr, /^posfeed-tail: timed out after 1 s with 0 of 1000 events\n$/);
  });
});
