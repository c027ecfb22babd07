// Helpers for POS sessions: users, logins, calls made as a session (cookie, session= or
// token=), session streams, and the records of session packets.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

import { api, parseKeepingRve } from './api.mjs';
import { binary } from './server.mjs';
import { openStream } from './sse.mjs';

/** The name of the session cookie. */
export const COOKIE = 'posfeed_session';

/** Runs `posfeed user create`, giving the password on standard input. */
export function createUser(srv, { name, password, rmsystem = '1' }) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary(), ['user', 'create', '--db', srv.db, '--rmsystem', rmsystem, '--name', name], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) {
        resolve(out);
      } else {
        reject(new Error(`posfeed user create --name ${name} exited ${code}: ${out}`));
      }
    });
    child.stdin.end(`${password}\n`);
  });
}

/** POST /openapi/login with no other credential; resolves with the raw response. */
export function loginRaw(srv, body) {
  return api(srv, 'POST', 'login', body, { key: null });
}

/**
 * Logs in and asserts success. Resolves with {session, token, rmsystem, cookie, res}: `cookie`
 * is the value of the Set-Cookie header.
 */
export async function login(srv, user, password, extra = {}) {
  const res = await loginRaw(srv, { User: user, Password: password, ...extra });
  assert.equal(res.status, 200, `login of ${user}: ${res.text}`);
  const { Session: session, UrlToken: token, RmSystem: rmsystem } = res.json.data;
  const cookie = [res.headers['set-cookie'] ?? []].flat()[0];
  return { session, token, rmsystem, cookie, res };
}

/** Headers that carry a session id as the cookie. */
export const cookieHeader = (session) => ({ Cookie: `${COOKIE}=${session}` });

/** Appends `name=value` to a path's query. */
export function withParam(path, name, value) {
  return `${path}${path.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;
}

/**
 * An API call as a session. `as`: 'cookie' (default), 'session' (session= in the URL) or
 * 'token' (token= with `who.token`). `who` is a login result.
 */
export function asSession(srv, who, method, path, body, { as = 'cookie' } = {}) {
  const full = path.startsWith('/') ? path : `/openapi/${path}`;
  if (as === 'cookie') {
    return api(srv, method, full, body, { key: null, headers: cookieHeader(who.session) });
  }
  if (as === 'session') {
    return api(srv, method, withParam(full, 'session', who.session), body, { key: null });
  }
  if (as === 'token') {
    return api(srv, method, withParam(full, 'token', who.token), body, { key: null });
  }
  throw new Error(`unknown credential form ${as}`);
}

/**
 * Opens an event stream for a session: `as` 'token' (default), 'session' or 'cookie'. `query`:
 * more parameters (e.g. {want: 'sale,usermessage'}).
 */
export function sessionStream(srv, who, { as = 'token', query = {}, path = '/eventsource' } = {}) {
  if (as === 'token') {
    return openStream(srv, { path, key: null, query: { ...query, token: who.token } });
  }
  if (as === 'session') {
    return openStream(srv, { path, key: null, query: { ...query, session: who.session } });
  }
  if (as === 'cookie') {
    return openStream(srv, { path, key: null, query, headers: cookieHeader(who.session) });
  }
  throw new Error(`unknown credential form ${as}`);
}

/** Opens a stream and waits for its ready event. */
export async function readyStream(stream) {
  await stream.ready();
  return stream;
}

const PACKET_KEY = { sale: 'Sale', usermessage: 'UserMessage', userprompt: 'UserPrompt', barcode: 'Barcode' };

/**
 * The records of every event named `name` of a stream (or of an array of events), in order,
 * with RVEs as strings; each record also gets `_id`, the event's own `id:` (or undefined).
 */
export function recordsNamed(streamOrEvents, name) {
  const events = Array.isArray(streamOrEvents) ? streamOrEvents : streamOrEvents.events;
  const out = [];
  for (const e of events.filter((x) => x.event === name)) {
    const packet = parseKeepingRve(e.data);
    const keys = Object.keys(packet);
    assert.deepEqual(keys, [PACKET_KEY[name]], `a ${name} event holds a ${PACKET_KEY[name]} packet: ${e.data}`);
    assert.ok(Array.isArray(packet[keys[0]]) && packet[keys[0]].length > 0, e.data);
    for (const r of packet[keys[0]]) {
      out.push({ ...r, _id: e.id });
    }
  }
  return out;
}

/** Waits until a stream has received at least `n` records of events named `name`. */
export async function waitRecords(stream, name, n, options = {}) {
  await stream.waitFor((s) => recordsNamed(s, name).length >= n, { what: `${n} ${name} record(s)`, ...options });
  return recordsNamed(stream, name);
}

/** Waits until a stream has received an event with `id:` equal to `rve` (a group's last event). */
export function waitForId(stream, rve, options = {}) {
  return stream.waitFor((s) => s.events.some((e) => e.id === rve), { what: `an event with id ${rve}`, ...options });
}
