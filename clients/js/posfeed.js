// posfeed.js: the JavaScript client of posfeed's Server-Sent-Events change feed.
//
// One ES module, no dependencies, no build step: it runs as-is in browsers (also served by the
// server at /js/posfeed.js) and in Node 20. See clients/js/README.md and docs/protocol.md.
//
//   import { PosFeed } from './posfeed.js';
//   const feed = new PosFeed('/eventsource', { want: ['products'], headers: { 'X-Api-Key': key } });
//   feed.on('products', (ev) => console.log(ev.rve, ev.packet.Products));
//   feed.start();

/** Event types that are not from the log: they carry no id and are never suppressed. */
const NOT_LOGGED = new Set(['ready', 'reset', 'debug']);

/** Every event type a posfeed stream sends (docs/protocol.md), plus `message` (no `event:`). */
const EVENT_TYPES = [
  'products',
  'customers',
  'levels',
  'sales',
  'sale',
  'usermessage',
  'userprompt',
  'barcode',
  'ready',
  'reset',
  'debug',
  'message',
];

/** Statuses that end a feed for good: retrying would get the same answer. */
const FATAL_STATUSES = new Set([400, 401, 403, 404, 405]);

const DEFAULT_BACKOFF = { initialMs: 1000, maxMs: 30000 };
const DEFAULT_IDLE_TIMEOUT_MS = 45000;
const ERROR_BODY_LIMIT = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Event-stream parsing
// ---------------------------------------------------------------------------------------------

/**
 * An incremental parser of a `text/event-stream` body, following the WHATWG HTML standard's
 * "Event stream interpretation" exactly: UTF-8 decoding (invalid bytes become U+FFFD, also when
 * a sequence is split across chunks), one byte order mark stripped at the start, CR, LF and
 * CRLF line ends (a CRLF split across chunks counts once), comments, the field/value split at
 * the first colon with one leading space stripped, `data` appending its value and a LF,
 * `event`, `id` (ignored when it contains NUL; it persists to later events), `retry` (ASCII
 * digits only), dispatch on a blank line only, no event for an empty data buffer (the type is
 * still reset), the type `message` by default, the final LF of the data removed, and an
 * incomplete last event discarded.
 *
 * Feed either bytes or strings to one parser, not both.
 */
export class SseParser {
  #onEvent;
  #onRetry;
  #onComment;
  #decoder = null;
  #pending = ''; // text of the current line not yet ended
  #bomChecked = false;
  #crPending = false; // the last text ended with CR: a LF starting the next text belongs to it
  #data = '';
  #type = '';
  #idBuffer;
  #hasId = false;
  #lastEventId;

  /**
   * @param {object} handlers
   * @param {(ev: {type: string, data: string, lastEventId: string, hasId: boolean}) => void} [handlers.onEvent]
   *   called for every dispatched event; `lastEventId` is the stream's last event id after the
   *   event's block (WHATWG), `hasId` whether the block itself had an (accepted) `id` field.
   * @param {(ms: number) => void} [handlers.onRetry] called with every accepted `retry` value.
   * @param {(text: string) => void} [handlers.onComment] called with the text after the colon
   *   of each comment line (one leading space stripped), e.g. `keepalive`.
   * @param {string} [handlers.lastEventId] the initial last event id (e.g. the resume point a
   *   reconnection sent), '' by default.
   */
  constructor({ onEvent, onRetry, onComment, lastEventId = '' } = {}) {
    this.#onEvent = onEvent;
    this.#onRetry = onRetry;
    this.#onComment = onComment;
    this.#idBuffer = lastEventId;
    this.#lastEventId = lastEventId;
  }

  /** The stream's last event id as of the last dispatched (or empty) block. */
  get lastEventId() {
    return this.#lastEventId;
  }

  /**
   * Parses the next piece of the stream.
   * @param {Uint8Array | ArrayBuffer | string} chunk bytes (UTF-8) or already decoded text
   */
  feed(chunk) {
    if (typeof chunk === 'string') {
      this.#text(chunk);
      return;
    }
    // ignoreBOM: the BOM is stripped below, once, for bytes and strings alike.
    this.#decoder ??= new TextDecoder('utf-8', { ignoreBOM: true });
    this.#text(this.#decoder.decode(chunk, { stream: true }));
  }

  /**
   * Ends the stream: an incomplete trailing sequence decodes to U+FFFD, and an event without
   * its blank line is discarded. The parser can then read a new stream (a reconnection); the
   * last event id is kept.
   */
  end() {
    if (this.#decoder) {
      this.#text(this.#decoder.decode());
    }
    this.#decoder = null;
    this.#pending = '';
    this.#bomChecked = false;
    this.#crPending = false;
    this.#data = '';
    this.#type = '';
    this.#hasId = false;
  }

  #text(text) {
    if (!this.#bomChecked) {
      if (text.length === 0) {
        return;
      }
      this.#bomChecked = true;
      if (text.charCodeAt(0) === 0xfeff) {
        text = text.slice(1);
      }
    }
    let start = 0;
    if (this.#crPending && text.length > 0) {
      this.#crPending = false;
      if (text.charCodeAt(0) === 10) {
        start = 1;
      }
    }
    const n = text.length;
    for (let i = start; i < n; i += 1) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) {
        continue;
      }
      const line = this.#pending + text.slice(start, i);
      this.#pending = '';
      if (c === 13) {
        if (i + 1 < n) {
          if (text.charCodeAt(i + 1) === 10) {
            i += 1;
          }
        } else {
          this.#crPending = true;
        }
      }
      start = i + 1;
      this.#line(line);
    }
    if (start < n) {
      this.#pending += text.slice(start);
    }
  }

  #line(line) {
    if (line === '') {
      this.#dispatch();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) {
      this.#onComment?.(line.charCodeAt(1) === 32 ? line.slice(2) : line.slice(1));
      return;
    }
    let field = line;
    let value = '';
    if (colon > 0) {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'event':
        this.#type = value;
        break;
      case 'data':
        this.#data += `${value}\n`;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.#idBuffer = value;
          this.#hasId = true;
        }
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) {
          this.#onRetry?.(parseInt(value, 10));
        }
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  #dispatch() {
    this.#lastEventId = this.#idBuffer;
    const hasId = this.#hasId;
    this.#hasId = false;
    if (this.#data === '') {
      this.#type = '';
      return;
    }
    const data = this.#data.endsWith('\n') ? this.#data.slice(0, -1) : this.#data;
    const type = this.#type === '' ? 'message' : this.#type;
    this.#data = '';
    this.#type = '';
    this.#onEvent?.({ type, data, lastEventId: this.#lastEventId, hasId });
  }
}

// ---------------------------------------------------------------------------------------------
// RVEs and packets
// ---------------------------------------------------------------------------------------------

function splitRve(rve) {
  const text = String(rve).trim();
  const dot = text.indexOf('.');
  const int = (dot < 0 ? text : text.slice(0, dot)).replace(/^0+(?=.)/, '');
  const frac = dot < 0 ? '' : text.slice(dot + 1);
  return [int, frac];
}

/**
 * Compares two RVEs (`20210727.091105994`, `0`, or a number literal that dropped trailing
 * zeros, `20210727.09110599`) numerically without going through a double: the integer part,
 * then the fraction.
 * @param {string} a
 * @param {string} b
 * @returns {number} -1, 0 or 1
 */
export function compareRve(a, b) {
  const [ai, af] = splitRve(a);
  const [bi, bf] = splitRve(b);
  if (ai.length !== bi.length) {
    return ai.length < bi.length ? -1 : 1;
  }
  if (ai !== bi) {
    return ai < bi ? -1 : 1;
  }
  const width = Math.max(af.length, bf.length);
  const x = af.padEnd(width, '0');
  const y = bf.padEnd(width, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

const RVE_IN_JSON = /"RVE"\s*:\s*(-?[0-9][0-9.eE+-]*)/;
const RVE_IN_XML = /<RVE>\s*([0-9][0-9.]*)\s*<\/RVE>/;

/**
 * The first RVE written in a packet, as the text of its literal: `"RVE":20210727.091105994`
 * in a JSON packet (one that starts with `{`), `<RVE>20210727.091105994</RVE>` in an XML one;
 * null when there is none.
 * @param {string} data
 * @returns {string | null}
 */
export function rveInPacket(data) {
  // By format, so that text inside a value (a Description holding "<RVE>1</RVE>") never matches.
  const m = (/^\s*\{/.test(data) ? RVE_IN_JSON : RVE_IN_XML).exec(data);
  return m ? m[1] : null;
}

/** Members whose number literal is an RVE: turned into strings so that no digit is lost. */
const RVE_MEMBERS = new Set(['RVE', 'From']);

/**
 * Returns `text` (JSON) with the number value of every `RVE` and `From` member written as a
 * string, by a scan that skips over string literals (so text inside a string never matches).
 */
function quoteRveLiterals(text) {
  let out = '';
  let copied = 0;
  let lastString = null; // content of the last string literal
  let memberName = null; // set between a member name and its value
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      let j = i + 1;
      while (j < n && text.charCodeAt(j) !== 34) {
        j += text.charCodeAt(j) === 92 /* \ */ ? 2 : 1;
      }
      lastString = text.slice(i + 1, j);
      memberName = null;
      i = j + 1;
      continue;
    }
    if (c === 58 /* : */) {
      memberName = lastString;
      i += 1;
      continue;
    }
    if ((c === 45 || (c >= 48 && c <= 57)) && memberName !== null && RVE_MEMBERS.has(memberName)) {
      let j = i + 1;
      while (j < n && /[0-9.eE+-]/.test(text[j])) {
        j += 1;
      }
      out += `${text.slice(copied, i)}"${text.slice(i, j)}"`;
      copied = j;
      memberName = null;
      i = j;
      continue;
    }
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) {
      memberName = null;
    }
    i += 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Parses a JSON packet keeping RVEs exact: every `RVE` (and a reset's `From`) becomes the string
 * of its literal, e.g. `{"Products":[{"Pid":1,…,"RVE":"20210727.091105994"}]}`. Returns null for
 * XML packets and for text that is not JSON.
 * @param {string} data
 * @returns {object | null}
 */
export function parsePacket(data) {
  const first = data.trimStart()[0];
  if (first !== '{' && first !== '[') {
    return null;
  }
  try {
    return JSON.parse(quoteRveLiterals(data));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Duplicate suppression
// ---------------------------------------------------------------------------------------------

/**
 * Drops the events a resumed stream sends again, by RVE. The server puts `id: <RVE>` only on the
 * last event of a transaction group, so a connection cut inside a group resumes before it and
 * replays the whole group. The C++ client (clients/cpp) implements the same rule.
 *
 * State: `lastId`, the RVE of the last complete group (the resume point), and `partial`
 * `{rve, delivered}`, a group delivered in part. Each connection (or other source of events)
 * has its own counter `seen` of the partial group's events it has sent.
 *
 * For a log event (every type but ready, reset and debug) with RVE `rve` (its id, else the
 * first RVE in its packet): when `lastId` is set and `rve <= lastId` it is dropped; else when
 * `partial.rve === rve` and `seen < partial.delivered` it is dropped (and counted in `seen`);
 * else it is delivered (a new `partial` is started when `partial.rve !== rve`, with `seen` 0;
 * then `delivered` and `seen` count it). A delivered event with an id sets `lastId` to it and
 * clears `partial`; a dropped one changes nothing (it never moves `lastId` back). An event whose RVE is unknown is delivered.
 *
 * A `ready` that arrives while there is no resume point at all makes its RVE the resume point
 * (a live start cut before its first id then resumes without a gap).
 *
 * A `reset` clears `partial` and the `lastId` the comparison above uses (`dropUpTo`): the server
 * starts a fresh sequence, and after `cursor_ahead` its RVEs are lower than ours. The resume
 * point (`lastId`) is kept until the next id, so that a connection cut during the snapshot or
 * catch-up that follows the reset resumes from the old point and gets the reset again, instead
 * of starting live without the snapshot (the C++ client does the same).
 */
export class DuplicateFilter {
  /**
   * @param {{lastId?: string | null, partial?: {rve: string, delivered: number} | null}} [state]
   */
  constructor({ lastId = null, partial = null } = {}) {
    /** The resume point: the RVE of the last complete group, or null. @type {string | null} */
    this.lastId = lastId || null;
    /** Log events at or before this RVE are dropped; null after a reset. @type {string | null} */
    this.dropUpTo = this.lastId;
    /** A group delivered in part. @type {{rve: string, delivered: number} | null} */
    this.partial = partial && typeof partial.rve === 'string' ? { rve: partial.rve, delivered: partial.delivered | 0 } : null;
  }

  /** A new source of events (a connection): its own `seen` counter. */
  source() {
    return { seen: 0 };
  }

  /**
   * Applies the rule to one event and says whether to deliver it.
   * @param {{seen: number}} source what `source()` returned for the event's connection
   * @param {string} type the event type
   * @param {string} id the event's own id, '' when it has none
   * @param {string | null} rve the event's RVE: its id, else the first RVE of its packet
   * @returns {boolean}
   */
  accept(source, type, id, rve) {
    if (type === 'reset') {
      this.dropUpTo = null;
      this.partial = null;
      return true;
    }
    if (type === 'ready' && this.lastId === null && rve) {
      // A stream that started live, with no resume point at all: the ready RVE becomes it, so a
      // cut before the first id resumes from here instead of starting live again with a gap.
      this.lastId = rve;
      this.dropUpTo = rve;
      return true;
    }
    if (NOT_LOGGED.has(type)) {
      return true;
    }
    let deliver;
    if (rve === null || rve === undefined || rve === '') {
      deliver = true;
    } else if (this.dropUpTo !== null && compareRve(rve, this.dropUpTo) <= 0) {
      deliver = false;
    } else if (this.partial !== null && this.partial.rve === rve && source.seen < this.partial.delivered) {
      source.seen += 1;
      deliver = false;
    } else {
      if (this.partial === null || this.partial.rve !== rve) {
        this.partial = { rve, delivered: 0 };
        source.seen = 0;
      }
      this.partial.delivered += 1;
      source.seen += 1;
      deliver = true;
    }
    if (id !== '' && deliver) {
      // A dropped event is at or before what was already delivered: it never moves the resume
      // point back (a new shared-mode leader that missed messages could otherwise do so).
      this.lastId = id;
      this.dropUpTo = id;
      this.partial = null;
    }
    return deliver;
  }

  /** The state to keep across page loads: `{lastId, partial}`. */
  toJSON() {
    return { lastId: this.lastId, partial: this.partial ? { ...this.partial } : null };
  }
}

// ---------------------------------------------------------------------------------------------
// The feed
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {object} PosFeedEvent
 * @property {string} type event type (`products`, `levels`, `ready`, …)
 * @property {string} data the packet text
 * @property {string} id the `id` field of this event itself, '' when it has none (posfeed puts
 *   it on the last event of a transaction group only)
 * @property {string} lastEventId the stream's last event id after this event (WHATWG)
 * @property {string | null} rve the event's RVE: its id, else the first RVE in its packet
 * @property {object | null} packet the parsed JSON packet with every `RVE` (and a reset's
 *   `From`) as a string, so no digit is lost; null for `format=xml`
 */

/**
 * @typedef {object} PosFeedError
 * @property {number} [status] the HTTP status, when the server answered
 * @property {string} [code] the server's error code (`unauthenticated`, …), or one of
 *   `network_error`, `stream_ended`, `idle_timeout`, `not_event_stream`, `eventsource_error`
 * @property {string} message what went wrong (the server's message when it sent one)
 * @property {boolean} fatal true when the feed has stopped for good (state `closed`)
 * @property {number} [retryInMs] when the next attempt starts (not fatal errors)
 */

/**
 * @typedef {object} PosFeedState
 * @property {'connecting'|'open'|'live'|'reconnecting'|'closed'} state
 * @property {number} reconnects reconnection attempts so far
 * @property {boolean} [leader] with `shared`: whether this instance runs the connection
 */

/**
 * A posfeed event feed: connects, parses, resumes with Last-Event-ID, reconnects with backoff
 * (also after 429 and 5xx, honouring Retry-After), drops duplicates by RVE, and optionally shares
 * one connection among the tabs of an origin.
 *
 * Listen with `on(type, fn)`: a posfeed event type (`products`, `ready`, …), `event` (every
 * delivered event), `state` ({@link PosFeedState}) or `error` ({@link PosFeedError}).
 */
export class PosFeed {
  #url;
  #mode;
  #headers;
  #credentials;
  #persistKey = null;
  #shared;
  #backoff;
  #idleTimeoutMs;
  #fetch;
  #EventSource;
  #storage;
  #BroadcastChannel;
  #locks;
  #initialLastId;

  #listeners = new Map();
  #filter = new DuplicateFilter();
  #state = 'closed';
  #stateKey = '';
  #reconnects = 0;
  #leader = false;
  #serverRetryMs = null;
  #failures = 0; // consecutive failed attempts since the feed was last live

  #run = null; // the current start()…close() span: {stopped, …}
  #conn = null; // the current connection: {seen, abort?, es?, key}
  #connections = 0;
  #channel = null;
  #channelSources = new Map(); // connection key -> source of the leader's events
  #instanceId = Math.random().toString(36).slice(2);

  /**
   * @param {string | URL} url the event source URL, absolute or relative to `location`
   * @param {object} [options]
   * @param {string[] | string} [options.want] event types, set as `want=` (optional when the URL has it)
   * @param {Record<string, string | number | undefined>} [options.query] more query parameters
   *   (`format`, `location`, `token`, `session`, `snapshot`, …); undefined values are skipped
   * @param {'fetch' | 'eventsource'} [options.mode] `fetch` (default: streaming fetch, can send
   *   headers) or `eventsource` (the browser's EventSource)
   * @param {Record<string, string>} [options.headers] extra request headers (fetch mode only),
   *   e.g. `{'X-Api-Key': key}`
   * @param {'omit' | 'same-origin' | 'include'} [options.credentials] fetch credentials
   *   (default `same-origin`); in eventsource mode `include` opens it `withCredentials`
   * @param {string} [options.lastEventId] the RVE to resume after
   * @param {boolean | string} [options.persist] keep the resume point in `storage`
   *   (localStorage) under `posfeed:<key>`; `true` uses the URL as the key
   * @param {boolean} [options.shared] one connection for all tabs of the origin (browsers:
   *   needs BroadcastChannel and navigator.locks)
   * @param {{initialMs?: number, maxMs?: number}} [options.backoff] exponential backoff with
   *   full jitter; the server's `retry:` replaces `initialMs` once received
   * @param {number} [options.idleTimeoutMs] reconnect when nothing arrived for this long (fetch
   *   mode; the server sends a keepalive every 15 s); 0 turns it off
   * @param {typeof fetch} [options.fetch] implementations to use instead of the globals
   * @param {typeof EventSource} [options.EventSource]
   * @param {{getItem(k: string): string | null, setItem(k: string, v: string): void}} [options.storage]
   * @param {typeof BroadcastChannel} [options.BroadcastChannel]
   * @param {{request: Function}} [options.locks] a LockManager (navigator.locks)
   */
  constructor(url, options = {}) {
    const {
      want,
      query = {},
      mode = 'fetch',
      headers = {},
      credentials = 'same-origin',
      lastEventId,
      persist = false,
      shared = false,
      backoff = {},
      idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS,
    } = options;
    if (mode !== 'fetch' && mode !== 'eventsource') {
      throw new TypeError(`posfeed: mode must be 'fetch' or 'eventsource', not ${JSON.stringify(mode)}`);
    }
    if (mode === 'eventsource' && Object.keys(headers).length > 0) {
      throw new TypeError("posfeed: headers need mode 'fetch' (EventSource cannot send headers; use token= or a cookie)");
    }
    this.#url = buildUrl(url, want, query);
    this.#mode = mode;
    this.#headers = { ...headers };
    this.#credentials = credentials;
    this.#backoff = { ...DEFAULT_BACKOFF, ...backoff };
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#shared = Boolean(shared);

    const fetchImpl = options.fetch ?? globalThis.fetch;
    // Called through globalThis: a browser's fetch throws when called as a method of another object.
    this.#fetch = fetchImpl ? (input, init) => fetchImpl.call(globalThis, input, init) : null;
    this.#EventSource = options.EventSource ?? globalThis.EventSource;
    this.#BroadcastChannel = options.BroadcastChannel ?? globalThis.BroadcastChannel;
    this.#locks = options.locks ?? globalThis.navigator?.locks;
    if (mode === 'fetch' && !this.#fetch) {
      throw new TypeError("posfeed: mode 'fetch' needs fetch (pass options.fetch)");
    }
    if (mode === 'eventsource' && !this.#EventSource) {
      throw new TypeError("posfeed: mode 'eventsource' needs EventSource (pass options.EventSource)");
    }
    if (this.#shared && (!this.#BroadcastChannel || !this.#locks)) {
      throw new TypeError(
        'posfeed: shared needs BroadcastChannel and navigator.locks (a browser; or pass options.BroadcastChannel and options.locks)',
      );
    }

    if (persist) {
      this.#persistKey = `posfeed:${persist === true ? this.#url : String(persist)}`;
      this.#storage = options.storage ?? defaultStorage();
      if (!this.#storage) {
        throw new TypeError('posfeed: persist needs localStorage (pass options.storage)');
      }
    }
    this.#initialLastId = lastEventId || null;
  }

  /** The RVE the feed resumes after (the last complete transaction group), '' when none. */
  get lastEventId() {
    return this.#filter.lastId ?? '';
  }

  /** `connecting`, `open` (HTTP 200), `live` (after `ready`), `reconnecting` or `closed`. */
  get state() {
    return this.#state;
  }

  /** Reconnection attempts so far. */
  get reconnects() {
    return this.#reconnects;
  }

  /** The full event source URL, with `want` and the query parameters. */
  get url() {
    return this.#url;
  }

  /**
   * Adds a listener.
   * @param {string} type an event type, `event` (every delivered event), `state` or `error`
   * @param {(arg: any) => void} fn
   * @returns {() => void} a function that removes the listener
   */
  on(type, fn) {
    if (typeof fn !== 'function') {
      throw new TypeError('posfeed: on(type, fn) needs a function');
    }
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    const entry = { fn };
    set.add(entry);
    return () => set.delete(entry);
  }

  /**
   * Starts the feed: connects (or, shared, joins the tabs' connection). Does nothing when it
   * runs already; after `close()` it starts again from `lastEventId`.
   * @returns {this}
   */
  start() {
    if (this.#run) {
      return this;
    }
    const run = { stopped: false, wake: null, timer: null };
    this.#run = run;
    this.#failures = 0;
    this.#loadResumePoint();
    if (this.#shared) {
      this.#startShared(run);
    } else {
      this.#connectLoop(run);
    }
    return this;
  }

  /** Stops the feed: closes the connection, cancels any retry, releases a shared lead. */
  close() {
    const run = this.#run;
    if (!run) {
      return;
    }
    this.#run = null;
    this.#stopRun(run);
    if (this.#channel) {
      this.#channel.close();
      this.#channel = null;
    }
    this.#leader = false;
    this.#setState('closed');
  }

  // --- listeners ------------------------------------------------------------------------------

  #emit(type, arg) {
    const set = this.#listeners.get(type);
    if (!set) {
      return;
    }
    for (const { fn } of [...set]) {
      try {
        fn(arg);
      } catch (e) {
        reportListenerError(e);
      }
    }
  }

  #setState(state) {
    const key = `${state} ${this.#reconnects} ${this.#leader}`;
    if (key === this.#stateKey) {
      return;
    }
    this.#stateKey = key;
    this.#state = state;
    const s = { state, reconnects: this.#reconnects };
    if (this.#shared) {
      s.leader = this.#leader;
    }
    if (this.#leader) {
      this.#post({ kind: 'state', state, reconnects: this.#reconnects });
    }
    this.#emit('state', s);
  }

  #error(err) {
    if (this.#leader) {
      this.#post({ kind: 'error', error: err });
    }
    this.#emit('error', err);
  }

  // --- resume point ---------------------------------------------------------------------------

  #loadResumePoint() {
    if (this.#initialLastId) {
      this.#filter = new DuplicateFilter({ lastId: this.#initialLastId });
      this.#initialLastId = null;
      return;
    }
    if (this.#persistKey && this.#filter.lastId === null && this.#filter.partial === null) {
      try {
        const text = this.#storage.getItem(this.#persistKey);
        if (text) {
          this.#filter = new DuplicateFilter(JSON.parse(text));
        }
      } catch {
        // unreadable or unavailable storage: start without a resume point
      }
    }
  }

  #save() {
    if (!this.#persistKey) {
      return;
    }
    try {
      this.#storage.setItem(this.#persistKey, JSON.stringify(this.#filter));
    } catch {
      // storage full or denied: the feed goes on, only the resume point is not kept
    }
  }

  // --- events ---------------------------------------------------------------------------------

  /**
   * One event as parsed from a connection (or broadcast by the leader): applies the duplicate
   * rule and delivers it. `raw`: {type, data, lastEventId, hasId}.
   */
  #receive(source, raw) {
    const id = raw.hasId ? raw.lastEventId : '';
    const rve = id !== '' && !NOT_LOGGED.has(raw.type) ? id : rveInPacket(raw.data);
    const resumeBefore = this.#filter.lastId;
    const deliver = this.#filter.accept(source, raw.type, id, rve);
    if (id !== '' || raw.type === 'reset' || resumeBefore !== this.#filter.lastId || (deliver && !NOT_LOGGED.has(raw.type))) {
      this.#save(); // the resume point or the partial group changed
    }
    if (!deliver) {
      return;
    }
    const ev = {
      type: raw.type,
      data: raw.data,
      id,
      lastEventId: raw.lastEventId,
      rve,
      packet: parsePacket(raw.data),
    };
    this.#emit(ev.type, ev);
    this.#emit('event', ev);
  }

  /** An event from this instance's own connection. */
  #onWireEvent(conn, raw) {
    if (conn !== this.#conn) {
      return; // from a connection closed since (e.g. by a listener of an earlier event)
    }
    if (this.#leader) {
      this.#post({ kind: 'event', conn: conn.key, raw });
    }
    this.#receive(conn, raw);
    if (raw.type === 'ready' && conn === this.#conn) {
      this.#failures = 0;
      this.#setState('live');
    }
  }

  #newConnection() {
    this.#connections += 1;
    const conn = { ...this.#filter.source(), key: `${this.#instanceId}:${this.#connections}` };
    this.#conn = conn;
    if (this.#leader) {
      this.#post({ kind: 'connection', conn: conn.key });
    }
    return conn;
  }

  // --- retry ----------------------------------------------------------------------------------

  /** The next backoff delay: full jitter over min(maxMs, base * 2^failures). */
  #backoffMs() {
    const base = this.#serverRetryMs ?? this.#backoff.initialMs;
    const cap = Math.min(this.#backoff.maxMs, base * 2 ** Math.min(this.#failures, 30));
    this.#failures += 1;
    return Math.floor(Math.random() * cap);
  }

  /** Resolves after `ms`, or at once when the run is stopped. */
  #sleep(run, ms) {
    return new Promise((resolve) => {
      if (run.stopped) {
        resolve();
        return;
      }
      run.wake = resolve;
      run.timer = setTimeout(() => {
        run.timer = null;
        run.wake = null;
        resolve();
      }, ms);
    });
  }

  #stopRun(run) {
    run.stopped = true;
    if (run.timer) {
      clearTimeout(run.timer);
      run.timer = null;
    }
    run.wake?.();
    run.wake = null;
    run.releaseLock?.();
    run.lockAbort?.abort();
    this.#closeConnection();
  }

  #closeConnection() {
    const conn = this.#conn;
    this.#conn = null;
    if (!conn) {
      return;
    }
    conn.closed = true;
    if (conn.idleTimer) {
      clearTimeout(conn.idleTimer);
    }
    conn.abort?.abort();
    conn.es?.close();
  }

  #fatal(run, err) {
    this.#error({ ...err, fatal: true });
    if (this.#run === run) {
      this.close();
    }
  }

  // --- connections ----------------------------------------------------------------------------

  #connectLoop(run) {
    if (this.#mode === 'fetch') {
      this.#fetchLoop(run);
    } else {
      this.#eventSourceLoop(run);
    }
  }

  async #fetchLoop(run) {
    let first = true;
    while (!run.stopped) {
      if (first) {
        this.#setState('connecting');
      } else {
        this.#reconnects += 1;
        this.#setState('reconnecting');
      }
      first = false;
      const outcome = await this.#fetchOnce(run);
      if (run.stopped) {
        return;
      }
      if (outcome.fatal) {
        this.#fatal(run, outcome.error);
        return;
      }
      const retryInMs = outcome.retryAfterMs ?? this.#backoffMs();
      if (outcome.retryAfterMs !== undefined) {
        this.#failures += 1;
      }
      this.#error({ ...outcome.error, fatal: false, retryInMs });
      await this.#sleep(run, retryInMs);
    }
  }

  /** One connection, from the request to the end of the stream: {fatal?, error, retryAfterMs?}. */
  async #fetchOnce(run) {
    const conn = this.#newConnection();
    const abort = new AbortController();
    conn.abort = abort;
    let idle = false;
    const armIdle = () => {
      if (conn.idleTimer) {
        clearTimeout(conn.idleTimer);
      }
      if (this.#idleTimeoutMs > 0 && !conn.closed) {
        conn.idleTimer = setTimeout(() => {
          idle = true;
          abort.abort();
        }, this.#idleTimeoutMs);
      }
    };
    const headers = { Accept: 'text/event-stream', ...this.#headers };
    if (this.#filter.lastId) {
      headers['Last-Event-ID'] = this.#filter.lastId;
    }
    try {
      armIdle();
      const res = await this.#fetch(this.#url, {
        headers,
        credentials: this.#credentials,
        signal: abort.signal,
      });
      if (run.stopped || conn.closed) {
        abort.abort();
        return {};
      }
      if (res.status !== 200) {
        const body = await readErrorBody(res, abort.signal);
        abort.abort();
        const error = { status: res.status, ...body };
        if (isRetryableStatus(res.status)) {
          return { error, retryAfterMs: retryAfterMs(res.headers.get('Retry-After')) };
        }
        return { fatal: true, error };
      }
      const type = res.headers.get('Content-Type') ?? '';
      if (!/^text\/event-stream\s*(;|$)/i.test(type)) {
        abort.abort();
        return {
          fatal: true,
          error: {
            status: 200,
            code: 'not_event_stream',
            message: `the server answered with Content-Type '${type}', not text/event-stream`,
          },
        };
      }
      this.#setState('open');
      const parser = new SseParser({
        onEvent: (raw) => this.#onWireEvent(conn, raw),
        onRetry: (ms) => {
          this.#serverRetryMs = ms;
        },
        lastEventId: this.#filter.lastId ?? '',
      });
      const reader = res.body.getReader();
      while (!conn.closed) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        armIdle();
        parser.feed(value);
      }
      abort.abort();
      return { error: { code: 'stream_ended', message: 'the stream ended' } };
    } catch (e) {
      if (idle) {
        return { error: { code: 'idle_timeout', message: `nothing received for ${this.#idleTimeoutMs} ms` } };
      }
      return { error: { code: 'network_error', message: e?.message ?? String(e) } };
    } finally {
      if (conn.idleTimer) {
        clearTimeout(conn.idleTimer);
      }
      if (this.#conn === conn) {
        this.#conn = null;
      }
      conn.closed = true;
    }
  }

  async #eventSourceLoop(run) {
    let first = true;
    while (!run.stopped) {
      if (first) {
        this.#setState('connecting');
      } else {
        this.#reconnects += 1;
        this.#setState('reconnecting');
      }
      first = false;
      const url = this.#resumeUrl();
      const gaveUp = await this.#eventSourceOnce(run, url);
      if (run.stopped) {
        return;
      }
      // EventSource gave up (an HTTP error or a wrong Content-Type): ask the server why.
      const outcome = await this.#probe(run, url, gaveUp);
      if (run.stopped) {
        return;
      }
      if (outcome.fatal) {
        this.#fatal(run, outcome.error);
        return;
      }
      const retryInMs = outcome.retryAfterMs ?? this.#backoffMs();
      if (outcome.retryAfterMs !== undefined) {
        this.#failures += 1;
      }
      this.#error({ ...outcome.error, fatal: false, retryInMs });
      await this.#sleep(run, retryInMs);
    }
  }

  /** The URL with `rve=<lastId>`: a new EventSource cannot send Last-Event-ID. */
  #resumeUrl() {
    if (!this.#filter.lastId) {
      return this.#url;
    }
    const u = new URL(this.#url);
    u.searchParams.set('rve', this.#filter.lastId);
    return u.href;
  }

  /** Runs one EventSource until it gives up (readyState CLOSED); resolves with its error event. */
  #eventSourceOnce(run, url) {
    return new Promise((resolve) => {
      const conn = this.#newConnection();
      let es;
      try {
        es = new this.#EventSource(url, { withCredentials: this.#credentials === 'include' });
      } catch (e) {
        this.#conn = null;
        resolve({ message: e?.message ?? String(e) });
        return;
      }
      conn.es = es;
      // EventSource's lastEventId is the stream's (WHATWG) in browsers but the event's own id in
      // some implementations; an event has an id of its own when it shows a new non-empty one.
      conn.lastEventId = this.#filter.lastId ?? '';
      const onEvent = (e) => {
        const lid = e.lastEventId ?? '';
        const hasId = lid !== '' && lid !== conn.lastEventId;
        if (hasId) {
          conn.lastEventId = lid;
        }
        const raw = { type: e.type, data: String(e.data ?? ''), lastEventId: conn.lastEventId, hasId };
        this.#onWireEvent(conn, raw);
      };
      for (const type of EVENT_TYPES) {
        es.addEventListener(type, onEvent);
      }
      es.addEventListener('open', () => {
        if (conn !== this.#conn) {
          return;
        }
        conn.seen = 0; // a new connection: the partial group's events count again
        this.#setState('open');
      });
      es.addEventListener('error', (e) => {
        if (conn !== this.#conn) {
          return;
        }
        if (es.readyState === 2 /* CLOSED */) {
          es.close();
          this.#conn = null;
          conn.closed = true;
          resolve(e);
          return;
        }
        // EventSource reconnects by itself (sending Last-Event-ID).
        this.#reconnects += 1;
        this.#error({
          status: typeof e?.code === 'number' ? e.code : undefined,
          code: 'eventsource_error',
          message: e?.message || 'the EventSource lost its connection and reconnects',
          fatal: false,
        });
        this.#setState('reconnecting');
      });
      const stop = () => {
        if (conn.closed || this.#conn !== conn) {
          es.close();
          resolve(undefined);
          return true;
        }
        return false;
      };
      conn.abort = { abort: () => stop() };
      if (run.stopped) {
        stop();
      }
    });
  }

  /**
   * Finds out why an EventSource gave up: a fetch of the same URL, aborted once the headers
   * arrive (or the small error body is read). Returns {fatal?, error, retryAfterMs?}.
   */
  async #probe(run, url, esError) {
    if (!this.#fetch) {
      return { error: { code: 'eventsource_error', message: esError?.message || 'the EventSource failed' } };
    }
    const abort = new AbortController();
    const stopProbe = { abort: () => abort.abort() };
    this.#conn = stopProbe; // close() aborts the probe too
    try {
      const res = await this.#fetch(url, {
        headers: { Accept: 'text/event-stream' },
        credentials: this.#credentials === 'include' ? 'include' : 'same-origin',
        signal: abort.signal,
      });
      if (res.status === 200) {
        abort.abort();
        const type = res.headers.get('Content-Type') ?? '';
        if (!/^text\/event-stream\s*(;|$)/i.test(type)) {
          return {
            fatal: true,
            error: { status: 200, code: 'not_event_stream', message: `the server answered with Content-Type '${type}'` },
          };
        }
        return { error: { code: 'eventsource_error', message: esError?.message || 'the EventSource failed' } };
      }
      const error = { status: res.status, ...(await readErrorBody(res, abort.signal)) };
      abort.abort();
      if (isRetryableStatus(res.status)) {
        return { error, retryAfterMs: retryAfterMs(res.headers.get('Retry-After')) };
      }
      return { fatal: true, error };
    } catch (e) {
      return { error: { code: 'network_error', message: e?.message ?? String(e) } };
    } finally {
      if (this.#conn === stopProbe) {
        this.#conn = null;
      }
    }
  }

  // --- shared connection ----------------------------------------------------------------------

  #post(message) {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // a closed channel: nobody to tell
    }
  }

  #startShared(run) {
    const name = `posfeed:${this.#url}`;
    this.#channel = new this.#BroadcastChannel(name);
    this.#channel.onmessage = (m) => this.#onChannel(m.data);
    this.#leader = false;
    this.#setState('connecting');
    this.#post({ kind: 'hello' });
    const lockAbort = new AbortController();
    run.lockAbort = lockAbort;
    const granted = this.#locks.request(name, { signal: lockAbort.signal }, () => {
      if (run.stopped) {
        return undefined;
      }
      return new Promise((release) => {
        run.releaseLock = release;
        this.#leader = true;
        this.#failures = 0;
        this.#connectLoop(run);
      });
    });
    Promise.resolve(granted).catch(() => {
      // aborted by close() before the lock was granted
    });
  }

  #onChannel(message) {
    if (!message || typeof message !== 'object' || !this.#run) {
      return;
    }
    switch (message.kind) {
      case 'hello':
        if (this.#leader) {
          this.#post({ kind: 'state', state: this.#state, reconnects: this.#reconnects });
        }
        break;
      case 'connection':
        this.#channelSource(message.conn);
        break;
      case 'event':
        // The leader's events as it received them: this instance applies the duplicate rule
        // itself, with one `seen` counter per connection of the leader, so that nothing is
        // delivered twice across a handover.
        this.#receive(this.#channelSource(message.conn), message.raw);
        break;
      case 'state':
        if (!this.#leader) {
          this.#reconnects = message.reconnects;
          this.#setState(message.state);
        }
        break;
      case 'error':
        // A fatal answer ends every tab's feed, also one that took the lead in the meantime:
        // they share the URL, so they would get the same answer.
        if (!this.#leader || message.error?.fatal) {
          this.#emit('error', message.error);
          if (message.error?.fatal) {
            this.close();
          }
        }
        break;
      default:
        break;
    }
  }

  #channelSource(key) {
    let source = this.#channelSources.get(key);
    if (!source) {
      source = this.#filter.source();
      this.#channelSources.set(key, source);
      if (this.#channelSources.size > 8) {
        this.#channelSources.delete(this.#channelSources.keys().next().value);
      }
    }
    return source;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function buildUrl(url, want, query) {
  let u;
  try {
    u = new URL(String(url), globalThis.location?.href);
  } catch {
    throw new TypeError(`posfeed: ${JSON.stringify(String(url))} is not an absolute URL (and there is no location to resolve it against)`);
  }
  if (want !== undefined && want !== null) {
    u.searchParams.set('want', Array.isArray(want) ? want.join(',') : String(want));
  }
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null) {
      u.searchParams.set(k, String(v));
    }
  }
  // URLSearchParams writes ',' as %2C; the commas of want= read better as they are.
  return u.href.replace(/([?&]want=[^&#]*)/, (m) => m.replace(/%2C/gi, ','));
}

/**
 * 429 and 5xx (and 408) are worth retrying; every other answer but 200 is final: 400, 401, 403,
 * 404 and 405 name a mistake in the request or its credential, and so do other 4xx.
 */
function isRetryableStatus(status) {
  return !FATAL_STATUSES.has(status) && (status === 408 || status === 429 || status >= 500);
}

/** Retry-After in milliseconds (delay-seconds or an HTTP date); undefined when absent or bad. */
function retryAfterMs(value) {
  if (value === null || value === undefined) {
    return undefined;
  }
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) {
    return Number(text) * 1000;
  }
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** {code, message} of an error answer `{"error":{"code","message"}}`, read up to 64 KiB. */
async function readErrorBody(res, signal) {
  let text = '';
  try {
    if (res.body?.getReader) {
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      while (text.length < ERROR_BODY_LIMIT && !signal?.aborted) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        text += decoder.decode(value, { stream: true });
      }
      reader.cancel().catch(() => {});
    } else if (typeof res.text === 'function') {
      text = await res.text();
    }
  } catch {
    // the body could not be read: the status alone will do
  }
  try {
    const body = JSON.parse(text);
    if (body?.error && typeof body.error.message === 'string') {
      return { code: String(body.error.code ?? ''), message: body.error.message };
    }
  } catch {
    // not JSON
  }
  return { message: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}` };
}

function defaultStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // access denied (e.g. a sandboxed frame)
  }
}

function reportListenerError(e) {
  if (typeof globalThis.reportError === 'function') {
    globalThis.reportError(e);
  } else {
    setTimeout(() => {
      throw e;
    }, 0);
  }
}
