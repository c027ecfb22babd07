// A writer that commits changes through the JSON API and remembers, from the responses, which
// event each acknowledged write committed: the sequence every subscriber must receive.

import { write } from './api.mjs';

/** A small seeded PRNG (mulberry32), so that a failing run can be replayed with its seed. */
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

export function seedFromEnv() {
  const s = process.env.POSFEED_TEST_SEED;
  return s ? Number(s) : Math.floor(Math.random() * 2 ** 31);
}

export class Workload {
  /**
   * `padding`: extra characters in every product description, for bigger packets.
   * `servers`: the nodes of a cluster, written to in turn (`server` is then the first).
   * `retry`: a write refused with 503 or whose connection fails is sent again (to the next
   * node) until it succeeds; it may then have committed twice, or once unacknowledged, so
   * `committed` is a subset of the log rather than all of it. `retried` counts the retries.
   */
  constructor(server, { seed = 1, padding = 0, servers, retry = false } = {}) {
    this.server = server;
    this.servers = servers ?? [server];
    this.next = 0;
    this.retry = retry;
    this.retried = 0;
    this.padding = '.'.repeat(padding);
    this.random = rng(seed);
    this.committed = []; // {rve, type, key}: one per acknowledged write (each emits one event)
    this.pids = [];
    this.n = 0;
  }

  /** One write to the next node, retried while refused (`retry`). */
  async #write(method, path, body) {
    for (let attempt = 0; ; attempt += 1) {
      const srv = this.servers[this.next++ % this.servers.length];
      try {
        return await write(srv, method, path, body);
      } catch (e) {
        const refused = /answered 503|ECONNREFUSED|ECONNRESET|socket hang up|timed out/.test(e.message);
        if (!this.retry || !refused || attempt > 600) {
          throw e;
        }
        this.retried += 1;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  #record(res, type, key) {
    this.committed.push({ rve: res.rve, type, key });
    return res;
  }

  async createProduct(fields = {}) {
    const n = ++this.n;
    const res = await this.#write('POST', 'Products', {
      Description: `product ${n}${this.padding}`,
      Price: this.random.int(1, 99999) / 100,
      Colour: this.random.pick(['Red', 'Green', 'Blue']),
      ...fields,
    });
    const pid = res.json.data.Pid;
    this.pids.push(pid);
    return this.#record(res, 'products', `P${pid}`);
  }

  async patchProduct(pid = this.random.pick(this.pids)) {
    // A new description every time: an edit that changes nothing fires nothing.
    const n = ++this.n;
    const res = await this.#write('PATCH', `Products/${pid}`, { Description: `edit ${n}${this.padding}` });
    return this.#record(res, 'products', `P${pid}`);
  }

  async createCustomer() {
    const n = ++this.n;
    const res = await this.#write('POST', 'Customers', { Name: `customer ${n}`, Email: `c${n}@example.com` });
    return this.#record(res, 'customers', `C${res.json.data.Cid}`);
  }

  async adjustStock(pid = this.random.pick(this.pids), location = this.random.int(1, 3)) {
    // Never 0: a change that changes nothing fires nothing.
    const delta = this.random.pick([-3, -2, -1, 1, 2, 5]);
    const res = await this.#write('POST', 'StockAdjustments', { Pid: pid, Location: location, Delta: delta });
    return this.#record(res, 'levels', `L${pid}@${location}`);
  }

  /** One random change: product creates and patches, customer creates, stock adjustments. */
  async randomOp() {
    const r = this.random();
    if (this.pids.length < 3 || r < 0.2) {
      return this.createProduct();
    }
    if (r < 0.45) {
      return this.patchProduct();
    }
    if (r < 0.6) {
      return this.createCustomer();
    }
    return this.adjustStock();
  }

  /**
   * Runs `count` random changes with `concurrency` requests in flight, or, with `signal`, until
   * it is aborted. `pauseMs` waits between a worker's requests.
   */
  async run({ count = Infinity, concurrency = 4, signal, pauseMs = 0 } = {}) {
    let left = count;
    const worker = async () => {
      while (left > 0 && !signal?.aborted) {
        left -= 1;
        await this.randomOp();
        if (pauseMs > 0) {
          await new Promise((r) => setTimeout(r, pauseMs));
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /** The committed events of `types`, in RVE order (RVEs have a fixed width: text order is time order). */
  expected(types) {
    const want = new Set(types);
    return this.committed.filter((c) => want.has(c.type)).sort((a, b) => (a.rve < b.rve ? -1 : a.rve > b.rve ? 1 : 0));
  }

  /** The newest committed RVE. */
  newest() {
    return this.committed.reduce((m, c) => (c.rve > m ? c.rve : m), '0');
  }
}
