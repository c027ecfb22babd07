// Helpers for the tests of the JS client (clients/js/posfeed.js): a recorder of a feed's
// events, states and errors; a scripted fetch whose responses a test writes by hand; an
// in-process LockManager (Node has no navigator.locks); and a TCP proxy that cuts connections
// at a chosen point of the stream.

import net from 'node:net';

import { rvesIn } from './api.mjs';
import { logEventsOf } from './check.mjs';
import { until } from './records.mjs';
import { openStream } from './sse.mjs';

/**
 * Records what a PosFeed reports: `events` (every delivered event), `states`, `errors`,
 * `timeline` (events and {state} changes in the order they came), and `log`: the delivered log
 * events as {rve, type} (the first RVE of each packet).
 */
export function record(feed) {
  const r = { events: [], states: [], errors: [], timeline: [] };
  feed.on('event', (e) => {
    r.events.push(e);
    r.timeline.push(e);
  });
  feed.on('state', (s) => {
    r.states.push(s);
    r.timeline.push({ state: s.state });
  });
  feed.on('error', (e) => r.errors.push(e));
  Object.defineProperty(r, 'log', {
    get: () =>
      r.events.filter((e) => !['ready', 'reset', 'debug'].includes(e.type)).map((e) => ({ rve: rvesIn(e.data)[0], type: e.type })),
  });
  return r;
}

/**
 * The log of `want` as a fresh subscriber reads it from rve=0 up to ready: {rve, type} in order,
 * the sequence a feed started from '0' must have delivered exactly.
 */
export async function logFromStart(srv, want) {
  const s = openStream(srv, { query: `want=${want.join(',')}&rve=0` });
  try {
    const ready = await s.ready({ timeoutMs: 20000 });
    return logEventsOf(s.events.slice(0, s.events.indexOf(ready)));
  } finally {
    s.close();
  }
}

/** Resolves once the feed is in `state` (checked by polling); rejects after `timeoutMs`. */
export function stateIs(feed, state, { timeoutMs = 20000 } = {}) {
  return until(() => feed.state === state, `the feed to be ${state} (it is ${feed.state})`, { timeoutMs });
}

/** Resolves once the feed's lastEventId is `rve` or later. */
export function reaches(feed, rve, { timeoutMs = 20000 } = {}) {
  return until(() => feed.lastEventId >= rve, `the feed to reach ${rve} (it is at '${feed.lastEventId}')`, {
    timeoutMs,
  });
}

function abortError() {
  return new DOMException('This operation was aborted', 'AbortError');
}

/**
 * A fetch whose answers the test gives: `fetch` records each call as {url, headers, signal} and
 * waits; `next()` resolves with the next call, on which the test calls `respond(status, headers,
 * body)` or `stream()` (200 text/event-stream; returns {send(text), end(), error()}).
 */
export function scriptedFetch() {
  const calls = [];
  const waiting = [];
  let taken = 0;
  const fetch = (url, init = {}) =>
    new Promise((resolve, reject) => {
      const call = { url: String(url), headers: { ...init.headers }, signal: init.signal, init };
      let controller;
      call.respond = (status, headers = {}, body = '') => resolve(new Response(body, { status, headers }));
      call.stream = (headers = { 'Content-Type': 'text/event-stream' }) => {
        const body = new ReadableStream({
          start(c) {
            controller = c;
          },
        });
        resolve(new Response(body, { status: 200, headers }));
        const enc = new TextEncoder();
        return {
          send: (text) => controller.enqueue(enc.encode(text)),
          end: () => controller.close(),
          error: (e = new TypeError('terminated')) => controller.error(e),
        };
      };
      init.signal?.addEventListener('abort', () => {
        reject(abortError());
        try {
          controller?.error(abortError());
        } catch {
          // already closed
        }
      });
      call.aborted = () => init.signal?.aborted === true;
      calls.push(call);
      waiting.shift()?.();
    });
  const next = async ({ timeoutMs = 10000 } = {}) => {
    if (taken >= calls.length) {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no fetch call #${taken + 1} within ${timeoutMs} ms`)), timeoutMs);
        waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return calls[taken++];
  };
  return { fetch, calls, next };
}

/**
 * A LockManager for one process, enough for PosFeed's `shared` mode: `request(name, {signal},
 * callback)` grants locks in request order and holds each until the callback's promise settles;
 * aborting `signal` withdraws a request not yet granted.
 */
export class LocalLocks {
  #queues = new Map();

  request(name, options, callback) {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = [];
      this.#queues.set(name, queue);
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: async () => {
          try {
            resolve(await callback({ name, mode: 'exclusive' }));
          } catch (e) {
            reject(e);
          } finally {
            queue.shift();
            queue[0]?.grant();
          }
        },
      };
      options.signal?.addEventListener('abort', () => {
        const i = queue.indexOf(entry);
        if (i > 0) {
          queue.splice(i, 1);
          reject(abortError());
        }
      });
      queue.push(entry);
      if (queue.length === 1) {
        entry.grant();
      }
    });
  }
}

/** A Storage-like object over a Map (getItem/setItem/removeItem). */
export function mapStorage(map = new Map()) {
  return {
    map,
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => map.set(k, String(v)),
    removeItem: (k) => map.delete(k),
  };
}

/**
 * A TCP proxy on 127.0.0.1 in front of `targetPort`. For each connection, `cutAt(index, text)`
 * is asked with everything the server sent on it so far (latin1) and returns the number of
 * bytes to forward before cutting both sides, or -1 to go on. `connections` counts
 * connections, `cuts` the cuts made.
 */
export async function cuttingProxy(targetPort, cutAt) {
  const proxy = { connections: 0, cuts: 0, sockets: new Set() };
  const server = net.createServer((client) => {
    const index = proxy.connections;
    proxy.connections += 1;
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    proxy.sockets.add(client);
    proxy.sockets.add(upstream);
    let seen = '';
    let forwarded = 0;
    let cut = false;
    const close = () => {
      client.destroy();
      upstream.destroy();
      proxy.sockets.delete(client);
      proxy.sockets.delete(upstream);
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (cut) {
        return;
      }
      seen += d.toString('latin1');
      const at = cutAt(index, seen);
      if (at >= 0) {
        cut = true;
        proxy.cuts += 1;
        const keep = Math.max(0, at - forwarded);
        client.write(d.subarray(0, keep), close);
        return;
      }
      forwarded += d.length;
      client.write(d);
    });
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = server.address().port;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      for (const s of proxy.sockets) {
        s.destroy();
      }
      server.close(() => resolve());
    });
  return proxy;
}
