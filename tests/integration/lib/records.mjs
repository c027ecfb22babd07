// Helpers for the records API and state-like feeds: error checks, paging through lists,
// folding packets into a state keyed by record, a raw-socket SSE reader that stops at an exact
// event, and a writer that also deletes.

import assert from 'node:assert/strict';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';

import { api, parseKeepingRve, rvesIn, sleep } from './api.mjs';
import { SseParser } from './sse.mjs';
import { rng } from './workload.mjs';

/** Asserts an error response: status, exact shape, code, and words in the message; returns it. */
export function assertError(res, status, code, words = []) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json\b/);
  const body = JSON.parse(res.text);
  assert.deepEqual(Object.keys(body), ['error'], res.text);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message'], res.text);
  assert.equal(body.error.code, code, res.text);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 10, `a message that says what was wrong: ${res.text}`);
  for (const w of words) {
    assert.ok(body.error.message.includes(w), `the message should contain ${JSON.stringify(w)}: ${body.error.message}`);
  }
  return body.error.message;
}

/** Resolves once `predicate()` holds (it may be async), polling; rejects after `timeoutMs`. */
export async function until(predicate, what, { timeoutMs = 15000, everyMs = 20 } = {}) {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(everyMs);
  }
}

/** The data of a write or GET response with RVEs kept as strings. */
export const dataOf = (res) => parseKeepingRve(res.text).data;

/**
 * Every record of a list, following `next` until it is null. `query`: extra parameters.
 * Returns {records, pages}; records have their RVE as a string.
 */
export async function listAll(srv, resource, query = {}, { limit = 1000 } = {}) {
  const records = [];
  let pages = 0;
  let after;
  while (true) {
    const qs = new URLSearchParams({ ...query, limit: String(limit), ...(after ? { after } : {}) });
    const res = await api(srv, 'GET', `${resource}?${qs}`);
    assert.equal(res.status, 200, `GET ${resource}?${qs}: ${res.text}`);
    const page = parseKeepingRve(res.text);
    assert.deepEqual(Object.keys(page).sort(), ['data', 'next'], res.text.slice(0, 300));
    pages += 1;
    records.push(...page.data);
    if (page.next === null) {
      return { records, pages };
    }
    assert.equal(typeof page.next, 'string');
    after = page.next;
    assert.ok(pages < 10000, 'paging ends');
  }
}

/** The key of a record of a packet: P<Pid>, C<Cid>, L<Pid>@<Location>, S<Sid>. */
export function keyOf(packetKey, r) {
  switch (packetKey) {
    case 'Products':
      return `P${r.Pid}`;
    case 'Customers':
      return `C${r.Cid}`;
    case 'Levels':
      return `L${r.Pid}@${r.Location}`;
    case 'Sales':
      return `S${r.Sid}`;
    default:
      throw new Error(`no key for packet ${packetKey}`);
  }
}

const PACKET_KEY = { products: 'Products', customers: 'Customers', levels: 'Levels', sales: 'Sales' };

/** The records of a JSON packet event: {packetKey, records} (RVEs as strings). */
export function recordsOf(event) {
  const packet = parseKeepingRve(event.data);
  const keys = Object.keys(packet);
  assert.equal(keys.length, 1, `one key per packet: ${event.data.slice(0, 200)}`);
  assert.equal(keys[0], PACKET_KEY[event.event], `a ${event.event} event holds a ${PACKET_KEY[event.event]} packet`);
  assert.ok(Array.isArray(packet[keys[0]]) && packet[keys[0]].length > 0, event.data.slice(0, 200));
  return { packetKey: keys[0], records: packet[keys[0]] };
}

/**
 * Folds state-like packet events into `state` (a Map key -> record, tombstones included): a
 * record replaces the one held unless that one has a later RVE. Non-record events are skipped.
 */
export function applyEvents(state, events) {
  for (const e of events) {
    if (!(e.event in PACKET_KEY)) {
      continue;
    }
    const { packetKey, records } = recordsOf(e);
    for (const r of records) {
      const key = keyOf(packetKey, r);
      const held = state.get(key);
      if (!held || held.RVE <= r.RVE) {
        state.set(key, r);
      }
    }
  }
  return state;
}

/** The records of a state map that are not deleted, as an object sorted by key, for deepEqual. */
export function liveState(state) {
  return Object.fromEntries(
    [...state.entries()].filter(([, r]) => r.Deleted !== 1).sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

/** The records of a list as a sorted object keyed like `keyOf`. */
export function stateOfList(packetKey, records) {
  return Object.fromEntries(records.map((r) => [keyOf(packetKey, r), r]).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The single RVE of a packet (asserting there is exactly one). */
export function rveOfPacket(e) {
  const rves = [...new Set(rvesIn(e.data))];
  assert.equal(rves.length, 1, `one RVE per packet: ${e.event} ${e.data.slice(0, 300)}`);
  return rves[0];
}

/**
 * A stream read over a plain TCP socket: the HTTP head and the chunked body are decoded by hand
 * and the body is fed to an SseParser one line at a time, so that reading can stop right after
 * a chosen event, as if the connection had been cut there. Bytes after that point are never
 * parsed.
 */
export class RawSseReader {
  constructor(srv, target, headers = {}) {
    this.parser = new SseParser();
    this.status = undefined;
    this.stopped = false;
    this.ended = false;
    this.lines = ''; // decoded body text not yet fed
    this.decoder = new StringDecoder('utf8');
    this.buf = Buffer.alloc(0);
    this.head = undefined;
    this.waiters = new Set();
    this.stopWhen = () => false;
    const hs = { Host: `127.0.0.1:${srv.port}`, Accept: 'text/event-stream', 'X-Api-Key': srv.key, ...headers };
    const request = `GET ${target} HTTP/1.1\r\n${Object.entries(hs)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`;
    this.socket = net.connect({ host: '127.0.0.1', port: srv.port }, () => this.socket.write(request));
    this.socket.on('data', (d) => this.#onData(d));
    this.socket.on('close', () => {
      this.ended = true;
      this.#wake();
    });
    this.socket.on('error', () => {});
  }

  get events() {
    return this.parser.events;
  }

  #onData(d) {
    if (this.stopped) {
      return;
    }
    this.buf = Buffer.concat([this.buf, d]);
    if (this.head === undefined) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) {
        return;
      }
      this.head = this.buf.subarray(0, end).toString('latin1');
      this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(this.head)?.[1]);
      this.buf = this.buf.subarray(end + 4);
      if (!/\r\ntransfer-encoding: chunked/i.test(this.head)) {
        this.error = new Error(`not a chunked stream:\n${this.head}\n${this.buf.toString()}`);
        this.stop();
        return;
      }
    }
    // Chunks: <hex size>\r\n<data>\r\n
    while (true) {
      const eol = this.buf.indexOf('\r\n');
      if (eol < 0) {
        break;
      }
      const size = parseInt(this.buf.subarray(0, eol).toString('latin1'), 16);
      if (this.buf.length < eol + 2 + size + 2) {
        break;
      }
      this.lines += this.decoder.write(this.buf.subarray(eol + 2, eol + 2 + size));
      this.buf = this.buf.subarray(eol + 2 + size + 2);
      if (size === 0) {
        break;
      }
    }
    this.#feedLines();
    this.#wake();
  }

  #feedLines() {
    while (!this.stopped) {
      const nl = this.lines.indexOf('\n');
      if (nl < 0) {
        return;
      }
      this.parser.feed(this.lines.slice(0, nl + 1));
      this.lines = this.lines.slice(nl + 1);
      if (this.stopWhen(this.parser.events)) {
        this.stop();
      }
    }
  }

  /** Stops reading (and closes the socket) as soon as `predicate(events)` holds; resolves then. */
  cutAfter(predicate, { timeoutMs = 10000 } = {}) {
    this.stopWhen = predicate;
    this.#feedLines();
    return this.#until(() => this.stopped, 'the cut point', timeoutMs);
  }

  /** Resolves once `predicate(events)` holds, reading on. */
  waitUntil(predicate, { timeoutMs = 10000, what = 'the condition' } = {}) {
    return this.#until(() => predicate(this.events), what, timeoutMs);
  }

  #until(done, what, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${what} was not reached within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}`));
      }, timeoutMs);
      const check = () => {
        if (this.error) {
          clearTimeout(timer);
          this.waiters.delete(check);
          reject(this.error);
        } else if (done()) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(this);
        } else if (this.ended || this.stopped) {
          clearTimeout(timer);
          this.waiters.delete(check);
          reject(new Error(`the stream ended before ${what}; events: ${JSON.stringify(this.events)}`));
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  stop() {
    this.stopped = true;
    this.socket.destroy();
    this.#wake();
  }

  #wake() {
    for (const w of [...this.waiters]) {
      w();
    }
  }
}

/**
 * A writer of products and stock levels that also deletes products: creates, patches, deletes
 * and stock adjustments with several requests in flight. Ops that race with a delete of their
 * product (404 or 400 naming the Pid) are dropped: they committed nothing.
 */
export class MixedWriter {
  constructor(srv, { seed = 1 } = {}) {
    this.srv = srv;
    this.random = rng(seed);
    this.pids = [];
    this.n = 0;
    this.counts = { create: 0, patch: 0, delete: 0, adjust: 0, raced: 0 };
    this.committed = []; // {rve, type} of every acknowledged write
    this.newest = '0';
  }

  #note(res, kind) {
    const rve = rvesIn(res.text)[0];
    this.committed.push({ rve, type: kind === 'adjust' ? 'levels' : 'products' });
    if (rve > this.newest) {
      this.newest = rve;
    }
  }

  /** The acknowledged writes after `rve`, in RVE order. */
  committedAfter(rve) {
    return this.committed.filter((c) => c.rve > rve).sort((x, y) => (x.rve < y.rve ? -1 : 1));
  }

  async #call(method, path, body, kind) {
    const res = await api(this.srv, method, path, body);
    if (res.status === 200 || res.status === 201) {
      this.counts[kind] += 1;
      this.#note(res, kind);
      return res;
    }
    if (res.status === 404 || (res.status === 400 && /unknown Pid/.test(res.text))) {
      this.counts.raced += 1;
      return undefined;
    }
    throw new Error(`${method} ${path} ${JSON.stringify(body)} answered ${res.status}: ${res.text}`);
  }

  async create() {
    const n = ++this.n;
    const res = await this.#call(
      'POST',
      'Products',
      { Description: `mixed ${n}`, Price: this.random.int(1, 9999) / 100, Colour: this.random.pick(['Red', 'Blue']) },
      'create',
    );
    this.pids.push(res.json.data.Pid);
    return res;
  }

  async op() {
    const r = this.random();
    if (this.pids.length < 5 || r < 0.2) {
      return this.create();
    }
    const pid = this.random.pick(this.pids);
    if (r < 0.45) {
      return this.#call('PATCH', `Products/${pid}`, { Description: `edit ${++this.n}` }, 'patch');
    }
    if (r < 0.55) {
      this.pids.splice(this.pids.indexOf(pid), 1);
      return this.#call('DELETE', `Products/${pid}`, undefined, 'delete');
    }
    const delta = this.random.pick([-2, -1, 1, 3]);
    return this.#call('POST', 'StockAdjustments', { Pid: pid, Location: this.random.int(1, 3), Delta: delta }, 'adjust');
  }

  /** Runs ops with `concurrency` in flight until `signal` is aborted (or `count` ops ran). */
  async run({ signal, count = Infinity, concurrency = 4 } = {}) {
    let left = count;
    const worker = async () => {
      while (left > 0 && !signal?.aborted) {
        left -= 1;
        await this.op();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
}
