// A raw Server-Sent Events reader over node:http: keeps the exact bytes of the body and parses
// them as the WHATWG event-stream rules say, keeping for each event whether its own block had
// an `id:` line.

import http from 'node:http';

/**
 * Parses an event stream incrementally. `events` holds dispatched events:
 * {event, data, id, lastEventId}: `event` is the type ('message' when none was named), `id` the
 * value of an `id:` field in the event's own block (undefined when it had none), `lastEventId`
 * the stream's last event id after the block. `comments` holds comment texts (without ': ').
 */
export class SseParser {
  constructor() {
    this.events = [];
    this.comments = [];
    this.retries = [];
    this.lastEventId = '';
    this.pending = '';
    this.block = { event: '', data: [], id: undefined };
  }

  feed(text) {
    this.pending += text;
    while (true) {
      const m = /\r\n|\r|\n/.exec(this.pending);
      if (!m) {
        break;
      }
      // A lone '\r' at the end could be the first half of '\r\n': wait for more.
      if (m[0] === '\r' && m.index === this.pending.length - 1) {
        break;
      }
      const line = this.pending.slice(0, m.index);
      this.pending = this.pending.slice(m.index + m[0].length);
      this.#line(line);
    }
  }

  #line(line) {
    if (line === '') {
      const b = this.block;
      this.block = { event: '', data: [], id: undefined };
      if (b.data.length > 0) {
        this.events.push({
          event: b.event || 'message',
          data: b.data.join('\n'),
          id: b.id,
          lastEventId: this.lastEventId,
        });
      }
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).replace(/^ /, ''));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') {
      this.block.event = value;
    } else if (field === 'data') {
      this.block.data.push(value);
    } else if (field === 'id') {
      if (!value.includes('\0')) {
        this.block.id = value;
        this.lastEventId = value;
      }
    } else if (field === 'retry') {
      if (/^\d+$/.test(value)) {
        this.retries.push(Number(value));
      }
    }
  }
}

/**
 * Opens `GET path` on the server and reads it as an event stream.
 * Options: path (default '/eventsource'), query (object or string), key (default the server's;
 * null sends none), headers, lastEventId (sent as Last-Event-ID).
 */
export function openStream(server, { path = '/eventsource', query, key = server.key, headers = {}, lastEventId } = {}) {
  const qs = query === undefined ? '' : typeof query === 'string' ? query : new URLSearchParams(query).toString();
  const target = qs ? `${path}?${qs}` : path;
  const hs = { Accept: 'text/event-stream', ...headers };
  if (key !== null) {
    hs['X-Api-Key'] = key;
  }
  if (lastEventId !== undefined) {
    hs['Last-Event-ID'] = lastEventId;
  }
  return new SseStream(server, target, hs);
}

export class SseStream {
  constructor(server, target, headers) {
    this.target = target;
    this.raw = '';
    this.parser = new SseParser();
    this.status = undefined;
    this.headers = undefined;
    this.done = false;
    this.complete = false; // the response ended properly (last chunk received)
    this.error = undefined;
    this.waiters = new Set();
    this.req = http.request({ host: '127.0.0.1', port: server.port, path: target, headers, agent: false });
    this.response = new Promise((resolve, reject) => {
      this.req.on('response', (res) => {
        this.res = res;
        this.status = res.statusCode;
        this.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          this.raw += chunk;
          this.parser.feed(chunk);
          this.#check();
        });
        res.on('end', () => {
          this.complete = res.complete;
          this.#finish();
        });
        res.on('close', () => this.#finish());
        res.on('error', (e) => {
          this.error ??= e;
          this.#finish();
        });
        resolve(this);
      });
      this.req.on('error', (e) => {
        this.error ??= e;
        this.#finish();
        reject(e);
      });
    });
    this.response.catch(() => {}); // observed through `error` when nobody awaits it
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    this.req.end();
  }

  get events() {
    return this.parser.events;
  }

  get comments() {
    return this.parser.comments;
  }

  get lastEventId() {
    return this.parser.lastEventId;
  }

  /** The body parsed as JSON (for error responses). */
  get json() {
    return JSON.parse(this.raw);
  }

  /** Events named `name`. */
  named(name) {
    return this.events.filter((e) => e.event === name);
  }

  #finish() {
    if (this.done) {
      return;
    }
    this.done = true;
    this.resolveEnded({ complete: this.complete, error: this.error });
    this.#check();
  }

  #check() {
    for (const w of [...this.waiters]) {
      w();
    }
  }

  /**
   * Resolves once `predicate(this)` holds (checked on every chunk); rejects after `timeoutMs`,
   * or when the stream ends first.
   */
  waitFor(predicate, { timeoutMs = 10000, what = 'the condition' } = {}) {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        let ok = false;
        try {
          ok = predicate(this);
        } catch (e) {
          this.waiters.delete(check);
          clearTimeout(timer);
          reject(e);
          return;
        }
        if (ok) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(this);
        } else if (this.done) {
          this.waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`${this.target}: the stream ended before ${what}; received:\n${this.raw.slice(-2000)}`));
        }
      };
      timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.target}: no ${what} within ${timeoutMs} ms; received:\n${this.raw.slice(-2000)}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for the first event named `name` and resolves with it. */
  async waitForEvent(name, options = {}) {
    await this.waitFor((s) => s.events.some((e) => e.event === name), { what: `an '${name}' event`, ...options });
    return this.events.find((e) => e.event === name);
  }

  /** Waits for the `ready` event. */
  ready(options = {}) {
    return this.waitForEvent('ready', options);
  }

  /** Closes the connection from the client side. */
  close() {
    this.req.destroy();
    this.res?.destroy();
    this.#finish();
  }
}
