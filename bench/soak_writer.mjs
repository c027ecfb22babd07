// The soak's writer (bench/soak.mjs): a steady, paced mix of durable writes through the JSON API
// (SPEC 5), remembering the RVE of every acknowledged write. Node built-ins only.

import http from 'node:http';
import { performance } from 'node:perf_hooks';

import { RVE_TEXT, TYPE_CODE, rveMs, rvesIn } from './soak_check.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** mulberry32: a seeded PRNG, so a run's choices can be replayed with its --seed. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  next.pick = (list) => list[Math.floor(next() * list.length)];
  return next;
}

/**
 * A keep-alive JSON client of the server: `call(method, path, body?, timeoutMs?)` resolves with
 * {status, text}; `destroy()` closes its connections.
 */
export function apiClient({ port, key, maxSockets }) {
  // A timeout of its own, or Node's agent ignores the server's Keep-Alive hint and races the
  // server's close of an idle connection with its next request (docs/operations.md).
  const agent = new http.Agent({ keepAlive: true, maxSockets, timeout: 60000 });
  const call = (method, path, body, timeoutMs = 30000) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = { 'X-Api-Key': key };
      if (payload !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = Buffer.byteLength(payload);
      }
      const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode, text });
        });
        res.on('error', reject);
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(payload);
    });
  return { call, destroy: () => agent.destroy() };
}

/**
 * Writes a steady mix through the JSON API (product creates and edits, customers, stock
 * adjustments, sales; now and then a large sale) and keeps every acknowledged write's events.
 */
export class Writer {
  constructor({ opt, random, call, isStopping }) {
    this.opt = opt;
    this.random = random;
    this.call = call;
    this.isStopping = isStopping;
    this.pids = [];
    this.cids = [];
    this.n = 0;
    this.ok = 0;
    this.errors = 0;
    this.errorSamples = [];
    this.skipped = 0; // writes not sent because the writer was more than a second behind
    this.byOp = {};
    this.acked = []; // [RVE ms, type code]: every acknowledged write's events
    this.recent = []; // {at, rve}: recent acknowledged RVEs, the resume points of replaying subscribers
    this.pad = '.'.repeat(opt.pad);
  }

  async #write(op, method, path, body, types) {
    try {
      const res = await this.call(method, `/openapi/${path}`, body);
      if (res.status < 200 || res.status > 299) {
        throw new Error(`answered ${res.status}: ${res.text.slice(0, 200)}`);
      }
      const rve = rvesIn(res.text)[0];
      if (!rve || !RVE_TEXT.test(rve)) {
        throw new Error(`no RVE in the answer: ${res.text.slice(0, 200)}`);
      }
      this.ok += 1;
      this.byOp[op] = (this.byOp[op] ?? 0) + 1;
      const ms = rveMs(rve);
      for (const t of types) {
        this.acked.push(ms, TYPE_CODE.get(t));
      }
      this.recent.push({ at: performance.now(), rve });
      if (this.recent.length > 4096) {
        this.recent.splice(0, 2048);
      }
      return JSON.parse(res.text.replace(/"RVE":([0-9.]+)/g, '"RVE":"$1"')).data;
    } catch (e) {
      this.errors += 1;
      if (this.errorSamples.length < 10) {
        this.errorSamples.push(`${method} ${path}: ${e.message}`);
      }
      return undefined;
    }
  }

  async createProduct() {
    const n = ++this.n;
    const body = { Description: `soak product ${n} ${this.pad}`, Price: this.random.int(1, 99999) / 100, Colour: this.random.pick(['Red', 'Green', 'Blue']) };
    const d = await this.#write('product create', 'POST', 'Products', body, ['products']);
    if (d) {
      this.pids.push(d.Pid);
    }
  }

  async patchProduct() {
    // A new description every time: an edit that changes nothing fires nothing.
    const n = ++this.n;
    const pid = this.random.pick(this.pids);
    await this.#write('product patch', 'PATCH', `Products/${pid}`, { Description: `soak edit ${n} ${this.pad}`, Price: this.random.int(1, 99999) / 100 }, ['products']);
  }

  async createCustomer() {
    const n = ++this.n;
    const d = await this.#write('customer create', 'POST', 'Customers', { Name: `soak customer ${n}`, Email: `c${n}@example.com` }, ['customers']);
    if (d) {
      this.cids.push(d.Cid);
    }
  }

  async adjustStock() {
    const body = { Pid: this.random.pick(this.pids), Location: this.random.int(1, 3), Delta: this.random.pick([-3, -2, -1, 1, 2, 5, 10]), Reason: 'soak' };
    await this.#write('stock adjustment', 'POST', 'StockAdjustments', body, ['levels']);
  }

  async sale() {
    // Now and then a large sale (one big group: a big `sales` packet and many `levels`).
    const lines = this.random() < 0.02 ? this.random.int(20, 60) : this.random.int(1, 4);
    const body = {
      Location: this.random.int(1, 3),
      Lines: Array.from({ length: lines }, () => ({ Pid: this.random.pick(this.pids), Qty: this.random.int(1, 3) })),
    };
    if (this.cids.length > 0 && this.random() < 0.5) {
      body.Cid = this.random.pick(this.cids);
    }
    await this.#write(lines > 4 ? 'sale (large)' : 'sale', 'POST', 'Sales', body, ['sales', 'levels']);
  }

  async randomOp() {
    const r = this.random();
    if (this.pids.length < 20 || r < 0.1) {
      return this.createProduct();
    }
    if (r < 0.4) {
      return this.patchProduct();
    }
    if (r < 0.45) {
      return this.createCustomer();
    }
    if (r < 0.75) {
      return this.adjustStock();
    }
    return this.sale();
  }

  /** A recent acknowledged RVE, about `agoMs` old (the oldest one kept when none is that old). */
  rveAgo(agoMs) {
    const at = performance.now() - agoMs;
    let pick = this.recent[0];
    for (const r of this.recent) {
      if (r.at > at) {
        break;
      }
      pick = r;
    }
    return pick?.rve;
  }

  /** Writes at `this.opt.rate` per second with at most `this.opt.writers` in flight, until the stop. */
  async run() {
    const start = performance.now();
    let issued = 0;
    const inflight = new Set();
    while (!this.isStopping()) {
      const due = Math.floor(((performance.now() - start) / 1000) * this.opt.rate);
      if (due - issued > this.opt.rate) {
        this.skipped += due - issued - this.opt.rate;
        issued = due - this.opt.rate;
      }
      while (issued < due && inflight.size < this.opt.writers) {
        issued += 1;
        const p = this.randomOp().finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await sleep(5);
    }
    await Promise.all(inflight);
  }
}

