// The soak's bookkeeping and checks (bench/soak.mjs): an incremental event-stream parser, the
// compact record of what each subscriber confirmed, the event log read from rve=0, and the
// comparison of each subscriber's confirmed sequence with that log over the span it covered.
// Node built-ins only, so the opt-in bench does not depend on the test tree.

import http from 'node:http';

/** The log's event types the soak writes and reads, with their code in a record. */
export const TYPES = ['products', 'customers', 'levels', 'sales'];
export const TYPE_CODE = new Map(TYPES.map((t, i) => [t, i]));
/** Types a conflate=1 stream may merge to the latest value per record (SPEC 7). */
export const STATE_LIKE = new Set(['products', 'customers', 'levels']);

export const RVE_TEXT = /^\d{8}\.\d{9}$/;
const RVE_LITERALS = /"RVE":(\d{8}\.\d{9}|0)\b/g;

const dayMs = new Map();
/**
 * An RVE text (`YYYYMMDD.HHmmSSCCC`) as milliseconds since the epoch, exactly (a double holds
 * it; the RVE literal itself it does not). `0` (nothing committed yet) is 0.
 */
export function rveMs(text) {
  if (text === '0') {
    return 0;
  }
  const day = text.slice(0, 8);
  let base = dayMs.get(day);
  if (base === undefined) {
    base = Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8)));
    dayMs.set(day, base);
  }
  const t = text.slice(9);
  return (
    base +
    Number(t.slice(0, 2)) * 3600000 +
    Number(t.slice(2, 4)) * 60000 +
    Number(t.slice(4, 6)) * 1000 +
    Number(t.slice(6, 9))
  );
}

/** The RVE literals of a packet, in order, as text (never through a double). */
export function rvesIn(text) {
  const out = [];
  for (const m of text.matchAll(RVE_LITERALS)) {
    out.push(m[1]);
  }
  return out;
}

/** The record key of each record of a state-like packet: `P<Pid>`, `C<Cid>`, `L<Pid>@<Location>`. */
export function recordsOf(type, data) {
  const parsed = JSON.parse(data.replace(RVE_LITERALS, '"RVE":"$1"'));
  const list = parsed.Products ?? parsed.Customers ?? parsed.Levels ?? parsed.Sales ?? [];
  return list.map((r) => ({ key: recordKey(type, r), rve: r.RVE }));
}

function recordKey(type, r) {
  if (type === 'products') {
    return `P${r.Pid}`;
  }
  if (type === 'customers') {
    return `C${r.Cid}`;
  }
  if (type === 'levels') {
    return `L${r.Pid}@${r.Location}`;
  }
  return `S${r.Sid}`;
}

/**
 * An incremental text/event-stream parser (the WHATWG field rules this server's framing needs:
 * `event`, `data`, `id`, comments). `onEvent({event, data, id})` per dispatched block; `id` is
 * undefined when the block had no `id:` line.
 */
export class SseParser {
  constructor(onEvent, onComment = () => {}) {
    this.onEvent = onEvent;
    this.onComment = onComment;
    this.pending = '';
    this.event = '';
    this.data = undefined;
    this.id = undefined;
  }

  feed(text) {
    this.pending += text;
    let start = 0;
    for (;;) {
      const nl = this.pending.indexOf('\n', start);
      if (nl < 0) {
        break;
      }
      let line = this.pending.slice(start, nl);
      if (line.endsWith('\r')) {
        line = line.slice(0, -1);
      }
      start = nl + 1;
      this.#line(line);
    }
    this.pending = this.pending.slice(start);
  }

  #line(line) {
    if (line === '') {
      if (this.data !== undefined) {
        this.onEvent({ event: this.event || 'message', data: this.data, id: this.id });
      }
      this.event = '';
      this.data = undefined;
      this.id = undefined;
      return;
    }
    if (line.startsWith(':')) {
      this.onComment(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    if (field === 'event') {
      this.event = value;
    } else if (field === 'data') {
      this.data = this.data === undefined ? value : `${this.data}\n${value}`;
    } else if (field === 'id') {
      this.id = value;
    }
  }
}

/**
 * A sequence of (RVE ms, type code) kept compactly: each entry is a varint of the zigzagged
 * difference to the previous RVE, times 8, plus the type code (about 2 bytes an event), so a
 * 30-minute run's hundreds of thousands of events per subscriber fit in memory.
 */
export class EventSequence {
  constructor(baseMs) {
    this.baseMs = baseMs;
    this.prevMs = baseMs;
    this.bytes = new Uint8Array(256);
    this.size = 0;
    this.length = 0;
  }

  push(ms, type) {
    const delta = ms - this.prevMs;
    this.prevMs = ms;
    let v = (delta >= 0 ? delta * 2 : -delta * 2 - 1) * 8 + type;
    if (this.size + 10 > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes.subarray(0, this.size));
      this.bytes = grown;
    }
    while (v >= 128) {
      this.bytes[this.size++] = (v % 128) + 128;
      v = Math.floor(v / 128);
    }
    this.bytes[this.size++] = v;
    this.length += 1;
  }

  /** {ms: Float64Array, type: Uint8Array} in arrival order. */
  decode() {
    const ms = new Float64Array(this.length);
    const type = new Uint8Array(this.length);
    let prev = this.baseMs;
    let at = 0;
    for (let i = 0; i < this.length; i += 1) {
      let v = 0;
      let scale = 1;
      for (;;) {
        const b = this.bytes[at++];
        v += (b % 128) * scale;
        if (b < 128) {
          break;
        }
        scale *= 128;
      }
      type[i] = v % 8;
      const zz = Math.floor(v / 8);
      prev += zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
      ms[i] = prev;
    }
    return { ms, type };
  }
}

/**
 * The whole event log of the soak's types, read from `rve=0` up to `ready` (the committed
 * sequence every subscriber is checked against): per event its RVE ms, type code and, for
 * state-like types, the keys of its records.
 */
export class EventLog {
  constructor() {
    this.ms = [];
    this.type = [];
    this.keys = [];
    this.problems = [];
  }

  get length() {
    return this.ms.length;
  }

  /** Index of the first event with RVE ms > `ms` (binary search). */
  after(ms) {
    let lo = 0;
    let hi = this.ms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ms[mid] <= ms) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Reads the log of `port` with `key`; resolves with this once `ready` arrived. */
  read({ port, key, timeoutMs = 600000 }) {
    return new Promise((resolve, reject) => {
      const path = `/eventsource?want=${TYPES.join(',')}&rve=0`;
      const req = http.request(
        { host: '127.0.0.1', port, path, agent: false, headers: { 'X-Api-Key': key } },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`the log read (${path}) answered ${res.statusCode}`));
            req.destroy();
            return;
          }
          res.setEncoding('utf8');
          let lastMs = -1;
          const parser = new SseParser((e) => {
            if (e.event === 'ready') {
              clearTimeout(timer);
              req.destroy();
              resolve(this);
              return;
            }
            const code = TYPE_CODE.get(e.event);
            if (code === undefined) {
              this.problems.push(`the log read got a '${e.event}' event`);
              return;
            }
            const rves = [...new Set(rvesIn(e.data))];
            if (rves.length !== 1) {
              this.problems.push(`a logged ${e.event} packet with ${rves.length} RVEs: ${e.data.slice(0, 200)}`);
            }
            const ms = rveMs(rves[0]);
            if (ms < lastMs) {
              this.problems.push(`the log goes back from ${lastMs} to ${rves[0]}`);
            }
            lastMs = ms;
            this.ms.push(ms);
            this.type.push(code);
            this.keys.push(STATE_LIKE.has(e.event) ? recordsOf(e.event, e.data).map((r) => r.key) : null);
          });
          res.on('data', (chunk) => parser.feed(chunk));
          res.on('close', () => reject(new Error('the log read ended before ready')));
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`the log read did not reach ready within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end();
    });
  }
}

/** A type mask of a list of type names. */
export const maskOf = (types) => types.reduce((m, t) => m | (1 << TYPE_CODE.get(t)), 0);

/**
 * Compares one subscriber's confirmed events (`seq`, types in `mask`) with the log over its
 * span (`fromMs`, `toMs`]. Counts are exact: `lost` = logged events of the span it never
 * confirmed, `duplicates` = confirmed more than once, `outOfOrder` = confirmed with an RVE below
 * the one before, `extra` = confirmed but not in the log's span (a wrong type, an RVE outside the
 * span or not logged at all). `mutate(decoded)` lets the self-test damage the sequence first.
 */
export function compareExact(log, seq, mask, fromMs, toMs, mutate) {
  const got = seq.decode();
  if (mutate) {
    mutate(got);
  }
  let outOfOrder = 0;
  const received = new Set();
  let duplicates = 0;
  let firstProblem;
  for (let i = 0; i < got.ms.length; i += 1) {
    if (i > 0 && got.ms[i] < got.ms[i - 1]) {
      outOfOrder += 1;
      firstProblem ??= `out of order: ${TYPES[got.type[i]]} at ${new Date(got.ms[i]).toISOString()} after ${new Date(got.ms[i - 1]).toISOString()}`;
    }
    const k = got.ms[i] * 8 + got.type[i];
    if (received.has(k)) {
      duplicates += 1;
      firstProblem ??= `duplicate: ${TYPES[got.type[i]]} at ${new Date(got.ms[i]).toISOString()}`;
    }
    received.add(k);
  }
  const expected = new Set();
  let lost = 0;
  for (let i = log.after(fromMs); i < log.length && log.ms[i] <= toMs; i += 1) {
    if ((mask & (1 << log.type[i])) === 0) {
      continue;
    }
    const k = log.ms[i] * 8 + log.type[i];
    expected.add(k);
    if (!received.has(k)) {
      lost += 1;
      firstProblem ??= `lost: ${TYPES[log.type[i]]} at ${new Date(log.ms[i]).toISOString()}`;
    }
  }
  let extra = 0;
  for (const k of received) {
    if (!expected.has(k)) {
      extra += 1;
      firstProblem ??= `not in the log's span: ${TYPES[k % 8]} at ${new Date(Math.floor(k / 8)).toISOString()}`;
    }
  }
  return { expected: expected.size, received: got.ms.length, lost, duplicates, outOfOrder, extra, firstProblem };
}

/**
 * The check of a conflate=1 subscriber's state-like types: for every record of `mask`'s types
 * changed in (`fromMs`, `toMs`], the last value it confirmed must carry the record's newest RVE
 * in that span (`latest`: key -> RVE ms, kept while it ran). `lost`: records it ended without,
 * or behind; `extra`: records whose last value is not the log's (or outside the span).
 */
export function compareLatest(log, latest, mask, fromMs, toMs) {
  const newest = new Map();
  for (let i = log.after(fromMs); i < log.length && log.ms[i] <= toMs; i += 1) {
    if ((mask & (1 << log.type[i])) === 0 || log.keys[i] === null) {
      continue;
    }
    for (const key of log.keys[i]) {
      newest.set(key, log.ms[i]);
    }
  }
  let lost = 0;
  let extra = 0;
  let firstProblem;
  for (const [key, ms] of newest) {
    const got = latest.get(key);
    if (got === undefined || got < ms) {
      lost += 1;
      firstProblem ??= `record ${key}: newest ${new Date(ms).toISOString()}, last confirmed ${got === undefined ? 'none' : new Date(got).toISOString()}`;
    } else if (got > ms) {
      extra += 1;
      firstProblem ??= `record ${key}: confirmed ${new Date(got).toISOString()}, newer than the log's ${new Date(ms).toISOString()}`;
    }
  }
  for (const [key, ms] of latest) {
    if (!newest.has(key)) {
      extra += 1;
      firstProblem ??= `record ${key}: confirmed at ${new Date(ms).toISOString()}, not changed in the span`;
    }
  }
  return { records: newest.size, lost, extra, firstProblem };
}

/**
 * Every subscriber against the log (exact types with compareExact, conflated records with
 * compareLatest) and every acknowledged write (`acked`: [RVE ms, type code, …]) against the log.
 * `selfTest` ('drop', 'dup', 'swap') damages the longest exact record first: the check must fail.
 */
export function verifyAll({ eventLog, chains, acked, selfTest }) {
  const r = {
    subscribers: 0,
    expected: 0,
    confirmed: 0,
    lost: 0,
    duplicates: 0,
    outOfOrder: 0,
    extra: 0,
    records: 0,
    recordsLost: 0,
    recordsExtra: 0,
    subscriberProblems: 0,
    failures: [],
    ackedMissing: 0,
    logProblems: eventLog.problems,
  };
  // The self-test damages the longest exact sequence: the check must then fail.
  let victim;
  if (selfTest) {
    victim = chains.filter((c) => c.seq && c.seq.length >= 3).sort((a, b) => b.seq.length - a.seq.length)[0];
  }
  const mutate = {
    drop: (got) => {
      const i = got.ms.length >> 1;
      got.ms = Float64Array.from([...got.ms.slice(0, i), ...got.ms.slice(i + 1)]);
      got.type = Uint8Array.from([...got.type.slice(0, i), ...got.type.slice(i + 1)]);
    },
    dup: (got) => {
      const i = got.ms.length >> 1;
      got.ms = Float64Array.from([...got.ms.slice(0, i + 1), got.ms[i], ...got.ms.slice(i + 1)]);
      got.type = Uint8Array.from([...got.type.slice(0, i + 1), got.type[i], ...got.type.slice(i + 1)]);
    },
    swap: (got) => {
      for (let i = got.ms.length >> 1; i + 1 < got.ms.length; i += 1) {
        if (got.ms[i] !== got.ms[i + 1]) {
          [got.ms[i], got.ms[i + 1]] = [got.ms[i + 1], got.ms[i]];
          [got.type[i], got.type[i + 1]] = [got.type[i + 1], got.type[i]];
          return;
        }
      }
    },
  }[selfTest];
  for (const c of chains) {
    if (c.seq === undefined) {
      continue; // never got to ready
    }
    r.subscribers += 1;
    const fromMs = rveMs(c.from);
    const toMs = rveMs(c.last);
    const e = compareExact(eventLog, c.seq, c.exactMask, fromMs, toMs, c === victim ? mutate : undefined);
    r.expected += e.expected;
    r.confirmed += e.received;
    r.lost += e.lost;
    r.duplicates += e.duplicates;
    r.outOfOrder += e.outOfOrder + (c.keyRegressions ?? 0);
    r.extra += e.extra;
    let first = e.firstProblem;
    if (c.conflate) {
      const l = compareLatest(eventLog, c.latest, c.stateMask, fromMs, toMs);
      r.records += l.records;
      r.recordsLost += l.lost;
      r.recordsExtra += l.extra;
      first ??= l.firstProblem;
    }
    r.subscriberProblems += c.problemCount;
    if (first || c.problemCount > 0) {
      r.failures.push(`subscriber ${c.id} (${c.profile}, want=${c.wants.join(',')}, ${c.from} .. ${c.last}): ${[first, ...c.problems].filter(Boolean).join('; ')}`);
    }
  }
  const logged = new Set();
  for (let i = 0; i < eventLog.length; i += 1) {
    logged.add(eventLog.ms[i] * 8 + eventLog.type[i]);
  }
  for (let i = 0; i < acked.length; i += 2) {
    if (!logged.has(acked[i] * 8 + acked[i + 1])) {
      r.ackedMissing += 1;
    }
  }
  r.victim = victim?.id;
  return r;
}

/** Least-squares slope of y over x (per unit of x); NaN with fewer than two points. */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) {
    return NaN;
  }
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i += 1) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}
