// Monitoring (SPEC 6; issue 14 item 4): `promtool check metrics` accepts a real /metrics after
// traffic; deploy/prometheus-rules.yml passes `promtool check rules` and its unit tests
// (deploy/prometheus-rules.test.yml); every metric that the rules and deploy/grafana-dashboard.json
// select exists in a real /metrics, the dashboard's queries parse, and it shows every figure of
// SPEC 6. And who may read /metrics: loopback peers without metrics.token; with it, every peer
// with `Authorization: Bearer <token>` (401 otherwise); the token never reaches a log line.
// (A non-loopback peer's 403 is unit-tested: tests/http/metrics_test.cpp.)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { request, write } from './lib/api.mjs';
import { metric, metrics } from './lib/metrics.mjs';
import { assertError } from './lib/records.mjs';
import { openStream } from './lib/sse.mjs';
import { startServer } from './lib/server.mjs';

const SOURCE = process.env.POSFEED_SOURCE_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = path.join(SOURCE, 'deploy');
const PROMTOOL = process.env.POSFEED_PROMTOOL ?? '/usr/bin/promtool';
const TOKEN = 'mt-9f2c6a41d07e4b5d8c3a-status';

/** Runs promtool; resolves with {code, out} (stdout and stderr together). */
function promtool(args, { input, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(input ?? '');
  });
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan', 'Inf', 'NaN']);

/** The metric names a PromQL expression selects: not functions, keywords, labels or durations. */
function selectedMetrics(expr) {
  const e = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings (label values, regexes)
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges and subqueries, Grafana's $__rate_interval in them
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // label lists
  const names = new Set();
  for (const m of e.matchAll(/(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = e.slice(m.index + m[0].length).trimStart();
    if (!rest.startsWith('(') && !KEYWORDS.has(m[0])) {
      names.add(m[0]);
    }
  }
  return [...names].sort();
}

/** The series names of a Prometheus text exposition. */
function seriesNames(text) {
  return new Set(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)[0]),
  );
}

async function rules() {
  const text = await fs.readFile(path.join(DEPLOY, 'prometheus-rules.yml'), 'utf8');
  // The file is ours and simple: one `expr:` per rule, on one line.
  return [...text.matchAll(/^\s+- alert: (\S+)\n\s+expr: (.+)$/gm)].map((m) => ({ alert: m[1], expr: m[2] }));
}

async function dashboard() {
  return JSON.parse(await fs.readFile(path.join(DEPLOY, 'grafana-dashboard.json'), 'utf8'));
}

/** Every query of the dashboard: {panel, refId, expr}, rows' inner panels included. */
function dashboardQueries(dash) {
  const out = [];
  const walk = (panels) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) {
        out.push({ panel: p.title, refId: t.refId, expr: t.expr });
      }
      walk(p.panels);
    }
  };
  walk(dash.panels);
  return out;
}

/** A dashboard query with Grafana's variables replaced, as Prometheus would receive it. */
function asPrometheusSees(expr) {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*');
}

describe('monitoring: Prometheus, its rules and the Grafana dashboard', () => {
  let srv;
  let scrape;

  before(async () => {
    srv = await startServer();
    // Traffic that moves every figure: writes (commit latency, published), a live stream
    // (delivered), a resuming one (replayed), a 404.
    const live = openStream(srv, { query: 'want=products,levels,sales' });
    await live.ready();
    const first = await write(srv, 'POST', 'Products', { Description: 'monitored', Price: 2 });
    for (let i = 0; i < 5; i += 1) {
      await write(srv, 'POST', 'Products', { Description: `monitored ${i}`, Price: 3 + i });
    }
    await write(srv, 'POST', 'Sales', { Location: 1, Lines: [{ Pid: first.json.data.Pid, Qty: 1 }] });
    await live.waitFor((s) => s.named('products').length >= 6, { what: 'six products events' });
    const resumed = openStream(srv, { query: 'want=products', lastEventId: first.rve });
    await resumed.ready();
    resumed.close();
    assert.equal((await request(srv, { path: '/no/such/page' })).status, 404);
    scrape = await metrics(srv);
    live.close();
    assert.ok(metric(scrape, 'posfeed_commit_latency_seconds_count') >= 7, scrape);
    assert.ok(metric(scrape, 'posfeed_events_replayed_total') >= 1, scrape);
  });
  after(async () => {
    await srv?.cleanup();
  });

  test('promtool check metrics accepts a real /metrics after traffic', async () => {
    const { code, out } = await promtool(['check', 'metrics'], { input: scrape });
    assert.equal(code, 0, `promtool check metrics:\n${out}\n--- the scrape:\n${scrape}`);
    assert.equal(out.trim(), '', `promtool check metrics has lint findings:\n${out}`);
    assert.match(scrape, /^posfeed_database_up 1$/m);
    assert.match(scrape, /^posfeed_connections_max 10000$/m);
  });

  test('deploy/prometheus-rules.yml passes promtool check rules and its unit tests', async () => {
    const checked = await promtool(['check', 'rules', 'prometheus-rules.yml'], { cwd: DEPLOY });
    assert.equal(checked.code, 0, checked.out);
    const tested = await promtool(['test', 'rules', 'prometheus-rules.test.yml'], { cwd: DEPLOY });
    assert.equal(tested.code, 0, tested.out);
    const alerts = (await rules()).map((r) => r.alert);
    for (const name of [
      'PosfeedDown',
      'PosfeedDatabaseUnavailable',
      'PosfeedSlowConsumerDisconnectsRising',
      'PosfeedCommitLatencyHigh',
      'PosfeedConnectionsNearLimit',
    ]) {
      assert.ok(alerts.includes(name), `alert ${name} in ${alerts.join(', ')}`);
    }
    // Every alert is exercised by the unit tests.
    const tests = await fs.readFile(path.join(DEPLOY, 'prometheus-rules.test.yml'), 'utf8');
    for (const name of alerts) {
      assert.match(tests, new RegExp(`alertname: ${name}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `a test where ${name} fires`);
    }
  });

  test('the metric selector extraction used below finds metrics and nothing else', () => {
    assert.deepEqual(
      selectedMetrics(
        'histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{le=~"1|+Inf", x="b c"}[$__rate_interval]))) / on (job) b offset 1h > 0.25 and bool up',
      ),
      ['a_bucket', 'b', 'up'],
    );
    assert.deepEqual(selectedMetrics('sum(rate(posfeed_x_total[5m])) by (type)'), ['posfeed_x_total']);
  });

  test("every metric the rules and the dashboard select exists in a real /metrics (and Prometheus' up)", async () => {
    const exposed = seriesNames(scrape);
    const used = [
      ...(await rules()).map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
      ...dashboardQueries(await dashboard()).map((q) => ({ where: `panel "${q.panel}" ${q.refId}`, expr: q.expr })),
    ];
    assert.ok(used.length > 20, `queries found: ${used.length}`);
    for (const { where, expr } of used) {
      const names = selectedMetrics(expr);
      assert.ok(names.length > 0, `${where} selects a metric: ${expr}`);
      for (const name of names) {
        assert.ok(exposed.has(name) || name === 'up', `${where} uses ${name}, which /metrics does not expose: ${expr}`);
      }
    }
  });

  test("the dashboard's queries parse as PromQL", async () => {
    const queries = dashboardQueries(await dashboard());
    const lines = ['groups:', '  - name: dashboard', '    rules:'];
    queries.forEach((q, i) => {
      lines.push(`      - record: dashboard:query_${i}`, `        expr: ${JSON.stringify(asPrometheusSees(q.expr))}`);
    });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'posfeed-dash-'));
    try {
      await fs.writeFile(path.join(dir, 'queries.yml'), `${lines.join('\n')}\n`);
      const { code, out } = await promtool(['check', 'rules', 'queries.yml'], { cwd: dir });
      assert.equal(code, 0, out);
      assert.match(out, new RegExp(`SUCCESS: ${queries.length} rules found`), out);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('the dashboard shows every figure of SPEC 6, and every metric /metrics has', async () => {
    const dash = await dashboard();
    assert.equal(typeof dash.title, 'string');
    assert.ok(dash.templating.list.some((v) => v.type === 'datasource' && v.query === 'prometheus'), 'a Prometheus data-source variable');
    const queries = dashboardQueries(dash);
    const used = new Set(queries.flatMap((q) => selectedMetrics(q.expr)));
    const spec6 = [
      'posfeed_connections',
      'posfeed_streams',
      'posfeed_events_published_total',
      'posfeed_events_delivered_total',
      'posfeed_events_replayed_total',
      'posfeed_slow_consumer_disconnects_total',
      'posfeed_queue_bytes',
      'posfeed_http_requests_total',
      'posfeed_commit_latency_seconds_bucket',
    ];
    for (const name of spec6) {
      assert.ok(used.has(name), `the dashboard shows ${name}`);
    }
    const by = (name, label) =>
      queries.some((q) => q.expr.includes(name) && new RegExp(`by \\(${label}\\)`).test(q.expr));
    assert.ok(by('posfeed_events_published_total', 'type'), 'events published by type');
    assert.ok(by('posfeed_events_delivered_total', 'type'), 'events delivered by type');
    assert.ok(by('posfeed_http_requests_total', 'status'), 'requests by status');
    // A metric nobody graphs is one nobody looks at: each family of /metrics has a panel.
    const families = [...scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) =>
      type === 'histogram' ? `${name}_bucket` : name,
    );
    assert.ok(families.length >= 15, families.join(', '));
    for (const name of families) {
      assert.ok(used.has(name), `deploy/grafana-dashboard.json has a panel for ${name}`);
    }
  });

  test('without metrics.token /metrics answers a loopback peer, whatever it sends', async () => {
    for (const headers of [{}, { Authorization: 'Bearer anything-at-all-here' }]) {
      const res = await request(srv, { path: '/metrics', headers });
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    }
  });

  test('without metrics.token a request a proxy forwarded gets 403, though its peer is loopback', async () => {
    for (const headers of [{ 'X-Forwarded-For': '203.0.113.7' }, { Forwarded: 'for=203.0.113.7' }]) {
      assertError(await request(srv, { path: '/metrics', headers }), 403, 'permission_denied', [
        'forwarded by a proxy',
        'metrics.token',
      ]);
    }
  });
});

describe('monitoring: /metrics with metrics.token', () => {
  let srv;

  before(async () => {
    srv = await startServer({ config: `log_level = "debug"\n\n[metrics]\ntoken = "${TOKEN}"\n` });
  });
  after(async () => {
    await srv?.cleanup();
  });

  test('every peer, loopback included, needs Authorization: Bearer <token>; else 401', async () => {
    const refused = [
      {},
      { Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { Authorization: `Bearer ${TOKEN}x` },
      { Authorization: `Basic ${TOKEN}` },
      { Authorization: TOKEN },
      { 'X-Api-Key': srv.key },
    ];
    for (const headers of refused) {
      const res = await request(srv, { path: '/metrics', headers });
      const what = `${JSON.stringify(headers)} -> ${res.status} ${res.text}`;
      assert.equal(res.status, 401, what);
      assert.equal(res.json?.error?.code, 'unauthenticated', what);
      assert.match(res.json.error.message, /metrics\.token/, what);
      assert.match(res.json.error.message, /Authorization: Bearer/, what);
      assert.ok(!res.text.includes(TOKEN.slice(0, 12)), `the answer does not echo the token: ${what}`);
      assert.match(res.headers['www-authenticate'] ?? '', /^Bearer /, what);
      assert.doesNotMatch(res.text, /posfeed_connections/, what);
    }
    for (const headers of [{ Authorization: `Bearer ${TOKEN}` }, { authorization: `bearer ${TOKEN}` }]) {
      const res = await request(srv, { path: '/metrics', headers });
      assert.equal(res.status, 200, `${JSON.stringify(headers)}: ${res.text}`);
      assert.match(res.text, /^posfeed_connections \d+$/m);
    }
  });

  test('/healthz and the status page stay open; the token is in no log line', async () => {
    assert.equal((await request(srv, { path: '/healthz' })).status, 200);
    const page = await request(srv, { path: '/report/status' });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    const script = await request(srv, { path: '/report/status.js' });
    assert.equal(script.status, 200);
    assert.match(script.headers['content-type'], /^text\/javascript/);
    assert.equal((await request(srv, { path: '/metrics', headers: { Authorization: `Bearer ${TOKEN}` } })).status, 200);
    await srv.stop();
    // log_level debug: every request was logged, the 200s of /metrics too.
    assert.match(srv.logs, /GET \/metrics 200/, srv.tail());
    assert.match(srv.logs, /GET \/metrics 401/, srv.tail());
    assert.ok(!srv.logs.includes(TOKEN), `the token appears in the log:\n${srv.logs}`);
  });

  test('a metrics.token shorter than 16 characters is refused at start, naming the key only', async () => {
    const short = 'tiny-Secret';
    await assert.rejects(
      startServer({ config: `[metrics]\ntoken = "${short}"\n` }),
      (e) => {
        assert.match(e.message, /'metrics\.token' must be/);
        assert.ok(!e.message.includes(short), e.message);
        return true;
      },
    );
  });
});
