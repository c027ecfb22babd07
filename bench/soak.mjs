#!/usr/bin/env node
// The soak's driver (started by bench/soak.sh, which owns the server): for --seconds it writes a
// steady mix through the JSON API, keeps a population of subscribers that come and go, read
// slowly, conflate and resume, samples the server's memory and descriptors, and at the end reads
// the event log from rve=0 and checks every subscriber's confirmed events against it. Prints the
// summary, writes it as Markdown and the samples as CSV; exits 1 when anything was lost,
// duplicated, out of order or failed. Node built-ins only; soak_writer.mjs writes, soak_check.mjs
// parses and checks, soak_report.mjs summarises.
//
//   node bench/soak.mjs --port P --key K --server-pid PID --seconds S --out-base DIR/soak-NAME
//     [--rate 200] [--subscribers 150] [--writers 16] [--sample-s 5] [--slow-pause-s 180]
//     [--conflate-pause-s 150] [--catch-up-cuts 0.5] [--pad 120] [--seed N] [--server-log FILE]
//     [--config FILE] [--label TEXT]
//     [--self-test drop|dup|swap]   (damages one subscriber's record before the check: must fail)

import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

import { EventLog, EventSequence, RVE_TEXT, STATE_LIKE, TYPE_CODE, maskOf, recordsOf, rveMs, rvesIn, SseParser, verifyAll } from './soak_check.mjs';
import { writeReport } from './soak_report.mjs';
import { Writer, apiClient, rng } from './soak_writer.mjs';

// ---- options

const defaults = {
  port: 0,
  key: '',
  'server-pid': 0,
  seconds: 1800,
  rate: 200,
  subscribers: 150,
  writers: 16,
  'sample-s': 5,
  'slow-pause-s': 180,
  'conflate-pause-s': 150,
  'catch-up-cuts': 0.5,
  pad: 120,
  seed: Math.floor(Math.random() * 2 ** 31),
  'out-base': '',
  'server-log': '',
  config: '',
  'self-test': '',
  label: '',
};
const opt = { ...defaults };
for (let i = 2; i < process.argv.length; i += 2) {
  const name = process.argv[i].replace(/^--/, '');
  const value = process.argv[i + 1];
  if (!(name in defaults) || value === undefined) {
    console.error(`soak.mjs: unknown option or missing value: ${process.argv[i]}`);
    process.exit(2);
  }
  opt[name] = typeof defaults[name] === 'number' ? Number(value) : value;
  if (typeof defaults[name] === 'number' && !Number.isFinite(opt[name])) {
    console.error(`soak.mjs: --${name} takes a number, not '${value}'`);
    process.exit(2);
  }
}
if (!opt.port || !opt.key || !opt['server-pid'] || !opt['out-base']) {
  console.error('soak.mjs: --port, --key, --server-pid and --out-base are required (bench/soak.sh passes them)');
  process.exit(2);
}
if (opt['self-test'] && !['drop', 'dup', 'swap'].includes(opt['self-test'])) {
  console.error(`soak.mjs: --self-test takes drop, dup or swap, not '${opt['self-test']}'`);
  process.exit(2);
}

const random = rng(opt.seed);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (text) => console.error(`soak: ${text}`);

// The end of the run: every waiting subscriber and the writer wake up on it.
let stopping = false;
let stopNow;
const stopped = new Promise((resolve) => {
  stopNow = resolve;
});
const pause = (ms) => Promise.race([sleep(ms), stopped]);

// ---- the writer

const api = apiClient({ port: opt.port, key: opt.key, maxSockets: opt.writers });
const call = api.call;

// ---- the server's side of the subscribers' sockets

/**
 * Both ends of the streams' sockets, from /proc/net/tcp (read at most once a second, only while
 * someone asks), by the client's local port: {state, tx, rx} with the server end's state ('01'
 * ESTABLISHED, '04' FIN_WAIT1: the server closed it) and unacknowledged bytes (tx), and the
 * client end's unread bytes (rx). A paused reader cannot see the server's close (its FIN waits
 * behind the unread data), but the server's end shows it.
 */
const serverSockets = {
  at: 0,
  table: new Map(),
  get(clientPort) {
    const now = performance.now();
    if (now - this.at > 900) {
      this.at = now;
      this.table = new Map();
      const hex = opt.port.toString(16).toUpperCase().padStart(4, '0');
      const rx = new Map();
      for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n')) {
        const c = line.trim().split(/\s+/);
        if (c.length < 5) {
          continue;
        }
        const queues = c[4].split(':').map((h) => parseInt(h, 16));
        if (c[1].endsWith(`:${hex}`)) {
          this.table.set(parseInt(c[2].split(':')[1], 16), { state: c[3], tx: queues[0], rx: 0 });
        } else if (c[2].endsWith(`:${hex}`)) {
          rx.set(parseInt(c[1].split(':')[1], 16), queues[1]);
        }
      }
      for (const [port, entry] of this.table) {
        entry.rx = rx.get(port) ?? 0;
      }
    }
    return this.table.get(clientPort);
  },
};

// ---- subscribers

const WANTS = [
  ['products'],
  ['levels'],
  ['sales'],
  ['customers', 'products'],
  ['products', 'levels'],
  ['sales', 'levels'],
  ['products', 'customers', 'levels', 'sales'],
];
const CONFLATE_WANTS = [
  ['products', 'levels', 'sales'],
  ['products', 'customers', 'levels'],
  ['levels', 'sales'],
];

const totals = {
  chains: 0,
  connections: 0,
  resumes: 0,
  resumesByHeader: 0,
  resumesByQuery: 0,
  resumesByBoth: 0,
  slowPauses: 0,
  slowCuts: 0,
  slowPausesNotCut: 0,
  slowCutAfterS: [], // seconds from a slow reader's pause to the server's cut
  conflatePauses: 0,
  conflateFull: 0, // conflate pauses that reached the point where the server's sends stalled
  catchUpCuts: 0, // conflate streams closed by us a few ids after reading again (inside the catch-up)
  unexpectedEnds: 0,
  readingCuts: 0, // streams cut by the server while being read (the driver fell behind)
  openFailures: 0,
  events: 0,
  unconfirmedDropped: 0,
  keepalives: 0,
};
const problemKinds = {};
const openStreams = new Set();
const chains = [];

/**
 * One subscriber: the same wants over one or more connections, each resuming where the last
 * confirmed event left off. Its confirmed events are the events up to the last `id:` it saw;
 * events after it are unconfirmed (a cut inside a group replays the group) and dropped when the
 * connection ends.
 */
class Subscriber {
  constructor(profile) {
    this.id = ++totals.chains;
    this.profile = profile;
    this.conflate = profile === 'conflate';
    this.wants = this.conflate ? random.pick(CONFLATE_WANTS) : profile === 'slow' ? random.pick(WANTS.slice(4)) : random.pick(WANTS);
    this.exactMask = maskOf(this.wants.filter((t) => !this.conflate || !STATE_LIKE.has(t)));
    this.stateMask = this.conflate ? maskOf(this.wants.filter((t) => STATE_LIKE.has(t))) : 0;
    this.from = undefined; // the RVE text the span starts after
    this.last = undefined; // the last confirmed id
    this.seq = undefined;
    this.latest = new Map(); // conflate: record key -> newest RVE ms confirmed
    this.problems = [];
    this.problemCount = 0;
    this.connections = 0;
    this.done = false;
  }

  /** Counts a protocol problem of `kind` (summed per kind in the report) and keeps its text. */
  problem(kind, text) {
    problemKinds[kind] = (problemKinds[kind] ?? 0) + 1;
    this.problemCount += 1;
    if (this.problems.length < 5) {
      this.problems.push(text);
    }
  }

  /** Opens one connection; `resume` = 'header' | 'query' | 'both' | undefined (a fresh start). */
  connect(resume) {
    let path = `/eventsource?want=${this.wants.join(',')}`;
    if (this.conflate) {
      path += '&conflate=1';
    }
    const headers = { 'X-Api-Key': opt.key, Accept: 'text/event-stream' };
    if (resume === 'query') {
      path += `&rve=${this.last}`;
    } else if (resume === 'header') {
      headers['Last-Event-ID'] = this.last;
    } else if (resume === 'both') {
      // As a browser: the URL keeps the first resume point, the header carries the newest; the
      // header wins (SPEC 3), so using the URL's would show up as duplicates.
      path += `&rve=${this.from}`;
      headers['Last-Event-ID'] = this.last;
    }
    this.connections += 1;
    totals.connections += 1;
    const conn = { ready: false, pending: [], byUs: false, paused: false, res: undefined, status: undefined, chars: 0 };
    conn.ended = new Promise((resolve) => {
      conn.end = resolve;
    });
    conn.live = new Promise((resolve) => {
      conn.goLive = resolve;
    });
    const finish = (how) => {
      if (conn.finished) {
        return;
      }
      conn.finished = how;
      openStreams.delete(conn);
      totals.unconfirmedDropped += conn.pending.length;
      conn.pending = [];
      conn.goLive(false);
      conn.end(how);
    };
    const parser = new SseParser(
      (e) => this.#onEvent(conn, e),
      (c) => {
        if (c === 'keepalive') {
          totals.keepalives += 1;
        }
      },
    );
    conn.req = http.request({ host: '127.0.0.1', port: opt.port, path, headers, agent: false }, (res) => {
      conn.res = res;
      conn.localPort = res.socket.localPort;
      conn.status = res.statusCode;
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => {
          conn.refusal = `${res.statusCode} ${body.slice(0, 200)}`;
          finish('refused');
        });
        return;
      }
      openStreams.add(conn);
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        conn.chars += chunk.length;
        parser.feed(chunk);
      });
      res.on('close', () => finish(conn.byUs ? 'closed' : res.complete ? 'ended' : 'cut'));
      res.on('error', () => finish(conn.byUs ? 'closed' : 'cut'));
    });
    conn.req.on('error', (e) => {
      conn.refusal ??= e.message;
      finish(conn.byUs ? 'closed' : conn.res ? 'cut' : 'refused');
    });
    conn.req.end();
    conn.close = () => {
      conn.byUs = true;
      conn.req.destroy();
      conn.res?.destroy();
      finish('closed');
    };
    conn.pause = () => {
      conn.paused = true;
      conn.res?.pause();
    };
    conn.resume = () => {
      conn.paused = false;
      conn.res?.resume();
    };
    return conn;
  }

  #onEvent(conn, e) {
    if (conn.finished) {
      return; // the rest of a chunk read before we closed it
    }
    if (e.event === 'ready') {
      const rve = rvesIn(e.data)[0];
      if (this.from === undefined) {
        // A fresh start: the span begins after the ready point.
        this.from = rve;
        this.last = rve;
        this.seq = new EventSequence(rveMs(rve));
      }
      conn.ready = true;
      conn.goLive(true);
      return;
    }
    if (e.event === 'reset') {
      this.problem('reset', `unexpected reset: ${e.data.slice(0, 200)}`);
      return;
    }
    const code = TYPE_CODE.get(e.event);
    if (code === undefined || !this.wants.includes(e.event)) {
      this.problem('unwanted type', `an event of a type not wanted: ${e.event}`);
      return;
    }
    conn.pending.push(e);
    if (e.id === undefined) {
      return;
    }
    if (!RVE_TEXT.test(e.id) || (this.last !== undefined && e.id <= this.last)) {
      const brief = (list) => list.map((x) => `${x.event}${x.id ? ` id ${x.id}` : ''} ${x.data.slice(0, 160)}`).join(' | ');
      this.problem(
        'id not above the last',
        `id ${e.id} after ${this.last} on connection ${this.connections}; this group: ${brief(conn.pending)}; ` +
          `the group before: ${brief(this.lastGroup ?? [])}`,
      );
    }
    for (const p of conn.pending) {
      this.#confirm(p, e.id);
    }
    this.lastGroup = conn.pending;
    conn.pending = [];
    this.last = e.id;
    if (conn.cutAfterIds !== undefined && conn.chars >= conn.cutAfterChars && --conn.cutAfterIds <= 0) {
      // A connection lost inside the conflated catch-up: the resume must still miss nothing.
      totals.catchUpCuts += 1;
      conn.cutAfterIds = undefined;
      this.endSoon = true;
      this.visitsLeft = 1;
      conn.close();
    }
  }

  #confirm(e, id) {
    totals.events += 1;
    if (this.conflate && STATE_LIKE.has(e.event)) {
      // Merged records of a catch-up carry their own RVEs: per record they only grow.
      for (const r of recordsOf(e.event, e.data)) {
        const ms = rveMs(r.rve);
        const before = this.latest.get(r.key);
        if (before !== undefined && ms <= before) {
          this.problem('record went back', `record ${r.key} went from ${before} to ${r.rve}`);
          this.keyRegressions = (this.keyRegressions ?? 0) + 1;
        }
        this.latest.set(r.key, ms);
      }
      return;
    }
    const rves = [...new Set(rvesIn(e.data))];
    if (rves.length !== 1) {
      this.problem('packet with several RVEs', `a ${e.event} packet with ${rves.length} RVEs`);
    }
    if (!this.conflate && rves[0] !== id) {
      // id: is on the last event of each group only (SPEC 3).
      this.problem('id not on the group\'s last event', `a ${e.event} event of group ${rves[0]} confirmed by id ${id}`);
    }
    this.seq.push(rveMs(rves[0]), TYPE_CODE.get(e.event));
  }

  /** Opens a connection and waits for ready; false (after counting it) when that failed. */
  async open(resume) {
    for (let attempt = 0; attempt < 5 && !stopping; attempt += 1) {
      const conn = this.connect(resume);
      const live = await Promise.race([conn.live, sleep(30000).then(() => 'timeout')]);
      if (live === true) {
        return conn;
      }
      totals.openFailures += 1;
      this.problem('open failed', live === 'timeout' ? 'no ready within 30 s' : `could not open: ${conn.refusal ?? conn.finished}`);
      conn.close();
      await pause(1000);
    }
    return undefined;
  }

  /** Reads until `ms` passed or the stream ended; 'ended' when it ended. */
  async read(conn, ms) {
    const r = await Promise.race([conn.ended.then(() => 'ended'), pause(ms).then(() => 'time')]);
    if (r === 'ended' && !stopping && !conn.byUs) {
      if (conn.finished === 'cut') {
        // A slow-consumer cut of a reader that was reading: the driver fell behind for a moment
        // (one thread for every stream); the server must have counted it (checked at the end).
        totals.readingCuts += 1;
      } else {
        totals.unexpectedEnds += 1;
        this.problem('ended by the server', `the server ended the stream (${conn.finished}) while it was read`);
      }
    }
    return r;
  }

  async run() {
    chains.push(this);
    let resume;
    if (this.profile === 'replayer') {
      // Starts from a resume point 5 to 120 s back: a replay, then live.
      this.from = writer.rveAgo(random.int(5000, 120000));
      this.last = this.from;
      this.seq = new EventSequence(rveMs(this.from));
      resume = random() < 0.5 ? 'header' : 'query';
    }
    this.visitsLeft = this.profile === 'steady' ? Infinity : random.int(1, 5);
    while (this.visitsLeft > 0 && !stopping) {
      if (this.last !== undefined && this.connections > 0) {
        totals.resumes += 1;
        const r = random();
        resume = r < 0.6 ? 'header' : r < 0.8 ? 'query' : 'both';
        totals[{ header: 'resumesByHeader', query: 'resumesByQuery', both: 'resumesByBoth' }[resume]] += 1;
      }
      const conn = await this.open(resume);
      if (!conn) {
        break;
      }
      if (this.profile === 'steady') {
        // Stays to the end; resumes at once when cut.
        await this.read(conn, 1e9);
        conn.close();
        continue;
      }
      this.visitsLeft -= 1;
      if (this.endSoon) {
        // Back after a cut inside the catch-up: end within seconds, before later changes to the
        // same records could cover up a record the resume skipped.
        await this.read(conn, random.int(1000, 3000));
        this.visitsLeft = 0;
      } else if (this.profile === 'slow' || this.profile === 'conflate') {
        if ((await this.read(conn, random.int(3000, 20000))) === 'time' && !stopping) {
          await this.#stall(conn);
        }
      } else {
        // visitor, replayer: read a while, then leave.
        await this.read(conn, random.int(5000, 60000));
      }
      conn.close();
      if (!stopping && this.visitsLeft > 0) {
        // Away for a while, then back with the last confirmed id.
        await pause(this.endSoon ? 200 : random.int(500, 15000));
      }
    }
    this.done = true;
  }

  /**
   * Stops reading. A plain stream stays paused until the server closes its socket (it must:
   * slow consumer), a conflate=1 one until the server's sends stall (its kernel buffers are
   * full; the queue then passes the limit within a second) and 5 s more, so the server catches
   * it up once it reads again. Each waits at most --slow-pause-s / --conflate-pause-s.
   */
  async #stall(conn) {
    const slow = this.profile === 'slow';
    totals[slow ? 'slowPauses' : 'conflatePauses'] += 1;
    conn.pause();
    const start = performance.now();
    const limitMs = (slow ? opt['slow-pause-s'] : opt['conflate-pause-s']) * 1000;
    let cutSeen = false;
    let lastTx = -1;
    let flat = 0;
    let buffered = 0;
    while (!stopping && performance.now() - start < limitMs) {
      await pause(1000);
      const s = serverSockets.get(conn.localPort);
      if (s === undefined || s.state !== '01') {
        cutSeen = true;
        break;
      }
      flat = s.tx > 0 && s.tx === lastTx ? flat + 1 : 0;
      lastTx = s.tx;
      buffered = s.tx + s.rx;
      if (!slow && flat >= 3) {
        totals.conflateFull += 1;
        await pause(5000);
        break;
      }
    }
    if (slow && cutSeen) {
      totals.slowCutAfterS.push((performance.now() - start) / 1000);
    }
    if (!slow && random() < opt['catch-up-cuts']) {
      // Once what the kernel held is read, the catch-up follows: cut 1 to 3 ids into it (the
      // count leaves out the chunk framing, so it errs late, never early).
      conn.cutAfterIds = random.int(1, 3);
      conn.cutAfterChars = conn.chars + buffered;
    }
    conn.resume();
    if (stopping) {
      return;
    }
    // Drain what the kernel buffered; the cut shows once that is read.
    const r = await Promise.race([conn.ended.then(() => 'ended'), pause(cutSeen ? 30000 : 3000).then(() => 'time')]);
    if (stopping) {
      return;
    }
    if (r === 'ended') {
      if (slow && conn.finished === 'cut') {
        totals.slowCuts += 1;
      } else if (!stopping && !conn.byUs) {
        totals.unexpectedEnds += 1;
        this.problem('ended by the server', `the server ended a ${this.profile} stream (${conn.finished}) after a pause`);
      }
      return;
    }
    if (slow) {
      totals.slowPausesNotCut += 1;
      if (cutSeen) {
        this.problem('ended by the server', 'the server closed its socket but the stream did not end');
      }
    }
    // Read on a little (a conflated stream is caught up now).
    await this.read(conn, random.int(2000, 10000));
  }
}

/** Keeps `opt.subscribers` subscribers running: a mix of profiles, new ones as old ones leave. */
async function population() {
  const profiles = [
    ['steady', 0.1],
    ['visitor', 0.4],
    ['replayer', 0.15],
    ['slow', 0.15],
    ['conflate', 0.2],
  ];
  const pickProfile = () => {
    let r = random();
    for (const [name, share] of profiles) {
      if ((r -= share) < 0) {
        return name;
      }
    }
    return 'visitor';
  };
  const running = new Set();
  while (!stopping) {
    // At most 20 new subscribers a second, so the start is a ramp, not a stampede.
    for (let i = 0; i < 4 && running.size < opt.subscribers; i += 1) {
      const s = new Subscriber(running.size < opt.subscribers * 0.1 ? 'steady' : pickProfile());
      const p = s.run().finally(() => running.delete(p));
      running.add(p);
    }
    await pause(200);
  }
  await Promise.all(running);
}

// ---- sampling

const samples = [];
const t0 = performance.now();

function procStatus(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kib('VmRSS'), anon: kib('RssAnon'), threads: kib('Threads') };
}

async function serverMetrics() {
  try {
    const res = await call('GET', '/metrics', undefined, 5000);
    if (res.status !== 200) {
      return {};
    }
    const sum = (name) => {
      let total;
      for (const m of res.text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) {
        total = (total ?? 0) + Number(m[1]);
      }
      return total;
    };
    return {
      streams: sum('posfeed_streams'),
      connections: sum('posfeed_connections'),
      queue_bytes: sum('posfeed_queue_bytes'),
      opened: sum('posfeed_streams_opened_total'),
      published: sum('posfeed_events_published_total'),
      delivered: sum('posfeed_events_delivered_total'),
      slow_disconnects: sum('posfeed_slow_consumer_disconnects_total'),
      conflations: sum('posfeed_conflations_total'),
    };
  } catch {
    return {};
  }
}

async function sample(phase = 'run') {
  const pid = opt['server-pid'];
  const st = procStatus(pid);
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  const m = await serverMetrics();
  const s = {
    t_s: Math.round((performance.now() - t0) / 100) / 10,
    phase,
    rss_kib: st.rss,
    rss_anon_kib: st.anon,
    fds,
    threads: st.threads,
    server_streams: m.streams ?? '',
    server_connections: m.connections ?? '',
    queue_bytes: m.queue_bytes ?? '',
    slow_disconnects: m.slow_disconnects ?? '',
    conflations: m.conflations ?? '',
    delivered: m.delivered ?? '',
    writes_ok: writer.ok,
    write_errors: writer.errors,
    events_confirmed: totals.events,
    client_streams: openStreams.size,
    driver_rss_kib: Math.round(process.memoryUsage().rss / 1024),
  };
  samples.push(s);
  return s;
}

// ---- the run

const writer = new Writer({ opt, random, call, isStopping: () => stopping });

async function main() {
  const started = new Date();
  log(`seed ${opt.seed}; ${opt.seconds} s, ${opt.rate} writes/s, ${opt.subscribers} subscribers, sampling every ${opt['sample-s']} s`);
  const m0 = await serverMetrics();
  await sample();
  // A catalogue to work on before the clock's mix starts.
  for (let i = 0; i < 40; i += 1) {
    await writer.createProduct();
  }
  for (let i = 0; i < 10; i += 1) {
    await writer.createCustomer();
  }
  const writing = writer.run();
  const subscribing = population();
  const sampler = setInterval(() => {
    sample()
      .then((s) => {
        log(
          `${s.t_s}s rss ${(s.rss_kib / 1024).toFixed(1)} MiB, fds ${s.fds}, streams ${s.server_streams}, ` +
            `writes ${s.writes_ok} (${s.write_errors} errors), events ${s.events_confirmed}, slow cuts ${totals.slowCuts}`,
        );
      })
      .catch((e) => log(`sample failed: ${e.message}`));
  }, opt['sample-s'] * 1000);
  const onSignal = () => {
    log('interrupted: stopping');
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await sleep(opt.seconds * 1000);
  stopping = true;
  stopNow();
  log('stopping: writers, then subscribers');
  await writing;
  await subscribing;
  clearInterval(sampler);
  await sample('end');
  const m1 = await serverMetrics();
  const runSeconds = (performance.now() - t0) / 1000;

  log('reading the log from rve=0');
  const readStart = performance.now();
  const eventLog = await new EventLog().read({ port: opt.port, key: opt.key });
  const logReadSeconds = (performance.now() - readStart) / 1000;
  log(`log: ${eventLog.length} events in ${logReadSeconds.toFixed(1)} s; checking ${chains.length} subscribers`);

  if (opt['self-test']) {
    log(`self-test: damaging the longest subscriber record (${opt['self-test']}); the check must fail`);
  }
  const check = verifyAll({ eventLog, chains, acked: writer.acked, selfTest: opt['self-test'] });
  const ok = writeReport({
    opt,
    started,
    runSeconds,
    samples,
    totals,
    writer,
    chains,
    check,
    eventLog,
    logReadSeconds,
    m0,
    m1,
    problemKinds,
  });
  api.destroy();
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(`soak: failed: ${e.stack ?? e}`);
  process.exit(1);
});
