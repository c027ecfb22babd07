// SIGKILL during a heavy concurrent write load (SPEC 5 "an acknowledged write is never lost",
// "the record change and its events commit together or not at all"; SPEC 8 SQLite WAL): after
// each restart every acknowledged write and its event are there, the log replays in RVE order,
// writes that were in flight committed wholly or not at all, records agree with the log, and
// `PRAGMA integrity_check` is ok.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { parseKeepingRve, request, sleep } from './lib/api.mjs';
import { logEventsOf } from './lib/check.mjs';
import { keyOf, listAll, recordsOf } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';
import { rng, seedFromEnv } from './lib/workload.mjs';

const execFileP = promisify(execFile);

const KILLS = 3;
const IN_FLIGHT = 48;
const SEED_PRODUCTS = 30;
const LOCATIONS = 3;
const WANT = 'products,levels,sales';

// The load sends as fast as the server answers: lift the per-credential write rate limit, which
// is not what this file tests. Everything else keeps its default (group commit on).
const CONFIG = '[limits]\nwrites_per_second = 1000000\nwrite_burst = 1000000\n';

/** `sqlite3 <db> 'PRAGMA integrity_check'`, trimmed. */
async function integrityCheck(db) {
  const { stdout } = await execFileP('sqlite3', [db, 'PRAGMA integrity_check'], { timeout: 60000 });
  return stdout.trim();
}

/**
 * Writes through the JSON API with many requests in flight, each carrying a unique tag (op
 * number `n`) that its logged records show again: a product's Description (`new n`, `edit n`),
 * a level's Reason (`adj n`), a sale's line Price (`n`). Every op is kept with its outcome:
 * `acked` (2xx, with the record it returned), `unknown` (the connection failed: in flight at the
 * kill) or `refused` (any other answer: a problem, as nothing here should be refused).
 */
class TaggedWriter {
  constructor(random) {
    this.random = random;
    this.ops = new Map(); // n -> op
    this.n = 0;
    this.pids = []; // products whose create was acknowledged
    this.problems = [];
  }

  #body(kind, n) {
    const r = this.random;
    switch (kind) {
      case 'create':
        return { Description: `new ${n}`, Price: r.int(1, 99999) / 100, Colour: r.pick(['Red', 'Green', 'Blue']) };
      case 'patch':
        return { Description: `edit ${n}` };
      case 'adjust':
        return {
          Pid: r.pick(this.pids),
          Location: r.int(1, LOCATIONS),
          Delta: r.pick([-3, -2, -1, 1, 2, 5]),
          Reason: `adj ${n}`,
        };
      case 'sale': {
        const pids = new Set(Array.from({ length: r.int(1, 3) }, () => r.pick(this.pids)));
        return { Location: r.int(1, LOCATIONS), Lines: [...pids].map((Pid) => ({ Pid, Qty: r.int(1, 3), Price: n })) };
      }
      default:
        throw new Error(kind);
    }
  }

  /** One op of `kind` (random when absent) over `agent`; resolves with the op. */
  async op(srv, agent, kind) {
    const r = this.random();
    kind ??= r < 0.1 ? 'create' : r < 0.4 ? 'patch' : r < 0.75 ? 'adjust' : 'sale';
    const n = ++this.n;
    const body = this.#body(kind, n);
    const pid = kind === 'patch' ? this.random.pick(this.pids) : undefined;
    const target = { create: 'Products', patch: `Products/${pid}`, adjust: 'StockAdjustments', sale: 'Sales' }[kind];
    const op = { n, kind, body, pid, state: 'pending' };
    this.ops.set(n, op);
    const method = kind === 'patch' ? 'PATCH' : 'POST';
    let res;
    try {
      res = await request(srv, { method, path: `/openapi/${target}`, headers: { 'X-Api-Key': srv.key }, body, agent });
    } catch (e) {
      op.state = 'unknown';
      op.error = e.message;
      return op;
    }
    if (res.status >= 200 && res.status <= 299) {
      op.state = 'acked';
      op.data = parseKeepingRve(res.text).data;
      op.rve = op.data.RVE;
      if (kind === 'create') {
        this.pids.push(op.data.Pid);
      }
    } else {
      op.state = 'refused';
      this.problems.push(`${method} ${target} ${JSON.stringify(body)} answered ${res.status}: ${res.text}`);
    }
    return op;
  }

  of(state) {
    return [...this.ops.values()].filter((o) => o.state === state);
  }
}

/** The tag (op number) of a logged record, or undefined for a sale's levels record. */
function tagOf(type, r) {
  if (type === 'products') {
    const m = /^(?:new|edit) (\d+)$/.exec(r.Description);
    assert.ok(m, `a product description written by this test: ${JSON.stringify(r)}`);
    return Number(m[1]);
  }
  if (type === 'levels') {
    if (r.Reason === 'sale') {
      return undefined;
    }
    const m = /^adj (\d+)$/.exec(r.Reason);
    assert.ok(m, `a level reason written by this test: ${JSON.stringify(r)}`);
    return Number(m[1]);
  }
  const prices = new Set(r.Lines.map((l) => l.Price));
  assert.equal(prices.size, 1, `one tag per sale: ${JSON.stringify(r)}`);
  return [...prices][0];
}

/**
 * The whole log, read from rve=0 up to ready: groups in order as [{rve, events: [{type,
 * records}]}], checking the `id:` framing on the way (lib/check.mjs).
 */
async function readLog(srv) {
  const s = openStream(srv, { query: `want=${WANT}&rve=0` });
  try {
    const ready = await s.ready({ timeoutMs: 120000 });
    const events = s.events.slice(0, s.events.indexOf(ready));
    const seq = logEventsOf(events);
    const groups = [];
    events.forEach((e, i) => {
      const { records } = recordsOf(e);
      const { rve, type } = seq[i];
      if (groups.at(-1)?.rve !== rve) {
        groups.push({ rve, events: [] });
      }
      groups.at(-1).events.push({ type, records });
    });
    return groups;
  } finally {
    s.close();
  }
}

/**
 * Checks the restarted server against everything the writer did, and returns the newest logged
 * RVE and how many in-flight ops had committed.
 */
async function verify(srv, writer, { floor, label }) {
  const groups = await readLog(srv);

  // Strictly increasing RVE order, one event per type per group.
  for (let i = 1; i < groups.length; i += 1) {
    const [a, b] = [groups[i - 1].rve, groups[i].rve];
    assert.ok(b > a, `${label}: group ${b} after ${a}: out of RVE order`);
  }
  for (const g of groups) {
    const types = g.events.map((e) => e.type);
    assert.equal(new Set(types).size, types.length, `${label}: group ${g.rve} has one event per type: ${types}`);
  }

  // Each group is exactly one op of this test, whole: a product or an adjustment alone, or a
  // sale with the levels of every product it sold.
  const byTag = new Map(); // op number -> {rve, record}
  for (const g of groups) {
    const tagged = [];
    for (const e of g.events) {
      for (const r of e.records) {
        assert.equal(r.RVE, g.rve, `${label}: record RVE ${r.RVE} in group ${g.rve}`);
        const n = tagOf(e.type, r);
        if (n !== undefined) {
          tagged.push({ n, type: e.type, r });
        }
      }
    }
    assert.equal(tagged.length, 1, `${label}: group ${g.rve} holds exactly one op: ${JSON.stringify(g.events)}`);
    const [{ n, r }] = tagged;
    g.n = n;
    assert.ok(!byTag.has(n), `${label}: op ${n} committed twice, at ${byTag.get(n)?.rve} and ${g.rve}`);
    const op = writer.ops.get(n);
    assert.ok(op, `${label}: op ${n} in the log was never sent`);
    assert.ok(!['refused', 'absent'].includes(op.state), `${label}: op ${n} (${op.state}) is in the log`);
    byTag.set(n, { rve: g.rve, record: r });
    const expectTypes = op.kind === 'sale' ? ['sales', 'levels'] : [op.kind === 'adjust' ? 'levels' : 'products'];
    assert.deepEqual(g.events.map((e) => e.type), expectTypes, `${label}: group of op ${n} (${op.kind})`);
    if (op.kind === 'sale') {
      const levels = g.events[1].records;
      const sold = [...new Set(op.body.Lines.map((l) => l.Pid))].sort((a, b) => a - b);
      assert.deepEqual(
        levels.map((l) => l.Pid).sort((a, b) => a - b),
        sold,
        `${label}: sale ${n} lowered the level of each product sold`,
      );
      for (const l of levels) {
        assert.equal(l.Location, op.body.Location, `${label}: sale ${n} levels at its location`);
        assert.equal(l.Reason, 'sale');
      }
      assert.deepEqual(r.Lines, op.body.Lines, `${label}: logged lines of sale ${n}`);
    } else if (op.kind === 'adjust') {
      assert.equal(r.Pid, op.body.Pid);
      assert.equal(r.Location, op.body.Location);
    } else if (op.kind === 'patch') {
      assert.equal(r.Pid, op.pid, `${label}: patch ${n} changed its product`);
    }
  }

  // Every acknowledged write is there, at the RVE it answered, with the record it answered; so
  // is every in-flight write an earlier restart found committed.
  const acked = [...writer.of('acked'), ...writer.of('settled')];
  for (const op of acked) {
    const logged = byTag.get(op.n);
    assert.ok(logged, `${label}: acknowledged ${op.kind} ${op.n} (RVE ${op.rve}) is missing from the log`);
    assert.equal(logged.rve, op.rve, `${label}: acknowledged ${op.kind} ${op.n} logged at another RVE`);
    assert.deepEqual(logged.record, op.data, `${label}: logged record of acknowledged ${op.kind} ${op.n}`);
    assert.ok(
      op.rve > op.floor,
      `${label}: op ${op.n} got RVE ${op.rve}, not after the newest RVE ${op.floor} before its run`,
    );
  }

  // Stock arithmetic over the log: every level change is exactly its op's delta, or its sale's
  // quantity, applied to the level before it (no change committed without its event).
  const levels = new Map(); // key -> record
  const products = new Map();
  const sales = new Map();
  for (const g of groups) {
    const op = writer.ops.get(g.n);
    for (const e of g.events) {
      for (const r of e.records) {
        if (e.type === 'levels') {
          const key = keyOf('Levels', r);
          const before = levels.get(key)?.Qty ?? 0;
          const sold = op.kind === 'sale' ? op.body.Lines.filter((l) => l.Pid === r.Pid) : [];
          const change = op.kind === 'adjust' ? op.body.Delta : -sold.reduce((sum, l) => sum + l.Qty, 0);
          const what = `${label}: level ${key} at ${g.rve} (${op.kind} ${op.n}) from ${before}`;
          assert.equal(r.Qty, before + change, what);
          levels.set(key, r);
        } else if (e.type === 'products') {
          products.set(keyOf('Products', r), r);
        } else {
          sales.set(keyOf('Sales', r), r);
        }
      }
    }
  }

  // The records hold exactly what the log says: nothing committed without its event.
  const sorted = (m) => Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  const listed = async (resource, packetKey) => {
    const { records } = await listAll(srv, resource);
    return sorted(new Map(records.map((r) => [keyOf(packetKey, r), r])));
  };
  assert.deepEqual(await listed('Products', 'Products'), sorted(products), `${label}: products listed vs logged`);
  assert.deepEqual(await listed('StockLevels', 'Levels'), sorted(levels), `${label}: stock levels listed vs logged`);
  assert.deepEqual(await listed('Sales', 'Sales'), sorted(sales), `${label}: sales listed vs logged`);

  // The in-flight writes are settled now: committed ones must stay, the others never appear.
  const inFlight = writer.of('unknown');
  for (const op of inFlight) {
    const logged = byTag.get(op.n);
    op.state = logged ? 'settled' : 'absent';
    op.rve = logged?.rve;
    op.data = logged?.record;
  }
  const committed = inFlight.filter((o) => o.state === 'settled').length;
  return { newest: groups.at(-1)?.rve ?? floor, committed, acked: writer.of('acked').length, groups: groups.length };
}

/**
 * Runs IN_FLIGHT workers until `ackTarget` ops of this run are acknowledged, then SIGKILLs the
 * server while they are still sending; resolves once every worker has seen its connection fail.
 * Returns how many ops were in flight at the kill.
 */
async function loadAndKill(srv, writer, { ackTarget, floor }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  let acks = 0;
  let killed;
  let inFlightAtKill = 0;
  let reached;
  const target = new Promise((resolve) => {
    reached = resolve;
  });
  const worker = async () => {
    while (killed === undefined) {
      const op = await writer.op(srv, agent);
      op.floor = floor;
      if (op.state === 'acked') {
        acks += 1;
        if (acks >= ackTarget) {
          reached();
        }
      } else if (op.state !== 'refused') {
        return; // the server is gone
      }
      if (writer.problems.length > 0) {
        reached();
        return;
      }
    }
  };
  const workers = Array.from({ length: IN_FLIGHT }, worker);
  // The workers all stop early only if the server went away by itself.
  await Promise.race([target, Promise.all(workers)]);
  assert.ok(srv.running, `the server was still running when the load reached the kill point:\n${srv.tail()}`);
  // A little later than the acknowledgement that reached the target, at a different point of the
  // group commit each time.
  await sleep(writer.random.int(0, 5));
  inFlightAtKill = writer.of('pending').length;
  killed = srv.kill();
  await killed;
  await Promise.all(workers);
  agent.destroy();
  assert.deepEqual(writer.problems, [], 'every write before the kill was accepted');
  return inFlightAtKill;
}

describe('crash', () => {
  const seed = seedFromEnv();
  const servers = [];

  after(async () => {
    await Promise.all(servers.map((s) => s.cleanup()));
  });

  const name =
    `SIGKILL ${KILLS} times during ${IN_FLIGHT} concurrent writes: every acknowledged write and its event ` +
    'survive, in RVE order, in-flight ones wholly or not at all, integrity ok';
  test(name, { timeout: 600000 }, async (t) => {
    const srv = await startServer({ config: CONFIG });
    servers.push(srv);
    const db = path.join(srv.dataDir, 'p.db');
    const random = rng(seed);
    const writer = new TaggedWriter(random);
    const seedAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < SEED_PRODUCTS; i += 1) {
      const op = await writer.op(srv, seedAgent, 'create');
      op.floor = '0';
      assert.equal(op.state, 'acked', `seed product: ${op.error ?? writer.problems}`);
    }
    seedAgent.destroy();

    let floor = writer.of('acked').reduce((m, o) => (o.rve > m ? o.rve : m), '0');
    const rounds = [];
    for (let round = 1; round <= KILLS; round += 1) {
      const label = `kill ${round} (seed ${seed})`;
      const ackTarget = random.int(1500, 3000);
      const inFlightAtKill = await loadAndKill(srv, writer, { ackTarget, floor });
      assert.ok(inFlightAtKill > 0, `${label}: writes were in flight at the kill`);

      await srv.start();
      assert.equal(await integrityCheck(db), 'ok', `${label}: integrity_check while the restarted server runs`);
      const v = await verify(srv, writer, { floor, label });
      floor = v.newest;
      rounds.push(
        `kill ${round}: ${v.acked} acknowledged in all, ${inFlightAtKill} in flight of which ` +
          `${v.committed} committed, ${v.groups} groups in the log`,
      );
    }

    // One last check of the file after a clean stop.
    assert.equal(await srv.stop(), 0, `exit code after SIGTERM:\n${srv.tail()}`);
    assert.equal(await integrityCheck(db), 'ok', 'integrity_check after the server stopped');
    t.diagnostic(`seed ${seed}; ${rounds.join('; ')}`);
  });
});
