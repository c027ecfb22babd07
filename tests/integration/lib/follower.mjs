// A lean resuming subscriber, for thousands of them in one Node process: it parses the event
// stream as it arrives and keeps no text, only the (rve, type) of each confirmed event as an
// interned number. Like lib/subscriber.mjs it keeps an event only once the `id:` that closes its
// group has arrived, and it reconnects with Last-Event-ID = the last id seen, as the JS client
// does: after the stream ends or the connection fails (backoff with full jitter), after 503 and
// 429 (after their Retry-After). Unlike it, it never drops a connection on purpose.
//
//   const names = new Interner();
//   const f = new Follower(srv, { key, want: ['products'], names, random: rng(1) });
//   f.start(); ... f.live, f.lastId, f.connections ... f.stop();
//   names.decode(f.confirmed) -> [{rve, type}]

import http from 'node:http';

const RVE_IN_DATA = /"RVE":(-?[0-9][0-9.eE+-]*)/;
const NOT_LOGGED = new Set(['ready', 'debug']);

/** Numbers for "rve type" strings, shared by many followers so each keeps only numbers. */
export class Interner {
  constructor() {
    this.ids = new Map();
    this.names = [];
  }

  id(rve, type) {
    const name = `${rve} ${type}`;
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  /** The numbers of a sequence of {rve, type}. */
  encode(list) {
    return list.map(({ rve, type }) => this.id(rve, type));
  }

  /** The {rve, type} of numbers. */
  decode(ids) {
    return ids.map((id) => {
      const [rve, type] = this.names[id].split(' ');
      return { rve, type };
    });
  }
}

export class Follower {
  /**
   * `want`: event types; `from`: the first resume point (rve=), before any id was seen;
   * `maxBackoffMs`: the cap of the backoff after failed connections; `random`: a PRNG (lib/workload.mjs rng).
   */
  constructor(srv, { key, want, names, random, from = '0', maxBackoffMs = 2000 }) {
    this.srv = srv;
    this.key = key;
    this.want = want;
    this.wanted = new Set(want);
    this.names = names;
    this.random = random;
    this.from = from;
    this.maxBackoffMs = maxBackoffMs;
    this.confirmed = []; // interned (rve, type) of events whose group id arrived, in order
    this.lastId = undefined;
    this.live = false; // connected and past `ready`
    this.connections = 0; // streams answered 200
    this.resumedWith = []; // the Last-Event-ID each of those streams was opened with (undefined: none)
    this.refused = 0; // 503 and 429 answers
    this.failed = 0; // connections that could not be made or broke before an answer
    this.problems = [];
    this.stopped = false;
    this.failures = 0; // failed attempts in a row, for the backoff
    this.req = undefined;
    this.timer = undefined;
  }

  start() {
    this.#connect();
    return this;
  }

  /** Closes the stream and stops reconnecting. */
  stop() {
    this.stopped = true;
    this.live = false;
    clearTimeout(this.timer);
    this.req?.destroy();
  }

  #retry(delayMs) {
    this.live = false;
    this.req = undefined;
    if (this.stopped) {
      return;
    }
    this.timer = setTimeout(() => this.#connect(), delayMs);
  }

  #backoffMs() {
    this.failures += 1;
    return this.random() * Math.min(this.maxBackoffMs, 50 * 2 ** Math.min(this.failures, 10));
  }

  #connect() {
    if (this.stopped) {
      return;
    }
    const headers = { Accept: 'text/event-stream', 'X-Api-Key': this.key };
    const resumeFrom = this.lastId;
    if (resumeFrom !== undefined) {
      headers['Last-Event-ID'] = resumeFrom;
    }
    const path = `/eventsource?want=${this.want.join(',')}&rve=${this.from}`;
    let settled = false;
    const settle = (delayMs) => {
      if (!settled) {
        settled = true;
        this.#retry(delayMs);
      }
    };
    const req = http.request({ host: '127.0.0.1', port: this.srv.port, path, headers, agent: false });
    this.req = req;
    req.on('error', () => {
      // Refused, reset, or cut mid-stream (a server killed or restarting).
      if (!this.live) {
        this.failed += 1;
      }
      settle(this.#backoffMs());
    });
    req.on('response', (res) => {
      if (res.statusCode === 503 || res.statusCode === 429) {
        this.refused += 1;
        this.failures += 1;
        res.resume();
        const after = Number(res.headers['retry-after']);
        const delay = Number.isFinite(after) && after > 0 ? after * 1000 + this.random() * 500 : this.#backoffMs();
        res.on('end', () => settle(delay));
        res.on('close', () => settle(delay));
        return;
      }
      if (res.statusCode !== 200) {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => {
          this.problems.push(`status ${res.statusCode}: ${text}`);
          this.stop();
        });
        return;
      }
      this.connections += 1;
      this.resumedWith.push(resumeFrom);
      this.failures = 0;
      const stream = new StreamState(this);
      res.setEncoding('utf8');
      res.on('data', (chunk) => stream.feed(chunk));
      // The server ended the stream (shutdown) or the connection broke: what came after the
      // last id is replayed on the next connection. A short random pause, as the clients do.
      const again = () => settle(this.random() * 250);
      res.on('end', again);
      res.on('close', again);
      res.on('error', again);
    });
    req.end();
  }

  /** Called by the stream parser for each dispatched event. */
  onEvent(stream, event, data, id) {
    if (event === 'ready') {
      this.live = true;
      if (stream.tentative.length > 0) {
        this.problems.push(`ready inside a group: ${stream.tentative.map((t) => t.rve)}`);
      }
      return;
    }
    if (NOT_LOGGED.has(event) || !this.wanted.has(event)) {
      this.problems.push(`unexpected event ${event}: ${data.slice(0, 200)}`);
      return;
    }
    const rve = RVE_IN_DATA.exec(data)?.[1];
    if (rve === undefined) {
      this.problems.push(`a ${event} packet without an RVE: ${data.slice(0, 200)}`);
      return;
    }
    stream.tentative.push({ rve, n: this.names.id(rve, event) });
    if (id !== undefined) {
      if (stream.tentative.some((t) => t.rve !== id)) {
        this.problems.push(`id ${id} closes events of another group: ${stream.tentative.map((t) => t.rve)}`);
      }
      for (const t of stream.tentative) {
        this.confirmed.push(t.n);
      }
      stream.tentative = [];
      this.lastId = id;
    }
  }
}

/** The parse state of one stream (WHATWG event-stream rules, for the fields posfeed sends). */
class StreamState {
  constructor(follower) {
    this.follower = follower;
    this.pending = '';
    this.event = '';
    this.data = undefined;
    this.id = undefined;
    this.tentative = []; // {rve, n} of the current group, until its id arrives
  }

  feed(chunk) {
    this.pending += chunk;
    let start = 0;
    while (true) {
      const nl = this.pending.indexOf('\n', start);
      if (nl < 0) {
        break;
      }
      const end = nl > start && this.pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.#line(this.pending.slice(start, end));
      start = nl + 1;
    }
    this.pending = this.pending.slice(start);
  }

  #line(line) {
    if (line === '') {
      if (this.data !== undefined) {
        this.follower.onEvent(this, this.event || 'message', this.data, this.id);
      }
      this.event = '';
      this.data = undefined;
      this.id = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58) {
      return; // a comment (keepalive)
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) {
      value = value.slice(1);
    }
    if (field === 'data') {
      this.data = this.data === undefined ? value : `${this.data}\n${value}`;
    } else if (field === 'event') {
      this.event = value;
    } else if (field === 'id' && !value.includes('\0')) {
      this.id = value;
    }
  }
}
