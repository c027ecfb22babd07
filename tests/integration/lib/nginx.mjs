// nginx in front of posfeed, as an operator runs it: deploy/nginx.conf rendered with loopback
// ports and temporary paths, a self-signed certificate made with openssl, Debian's nginx as a
// child process, and the real curl as the HTTP/2 client.
//
//   const proxy = await startNginx({ upstreams: [`127.0.0.1:${srv.port}`] });
//   after(() => proxy.cleanup());
//   proxy.url ('https://127.0.0.1:PORT'), proxy.httpUrl (the plain-HTTP redirect server),
//   proxy.cert (the CA file for curl --cacert), proxy.accessLog() (parsed lines)
//   const s = curlStream(proxy, '/eventsource?want=products', { key }); await s.ready();
//   await h2Request(proxy, { method: 'POST', path: '/openapi/Products', key, body })
//
// Rendering: only the lines of deploy/nginx.conf that end in `# render: NAME` change (each is
// replaced whole, or dropped); a marker without a replacement, or a replacement without its
// marker, is an error, so the config that runs here is the shipped one. It is included from a
// small main config of the test's own (pid, temporary paths, error log, and what Debian's
// /etc/nginx/nginx.conf sets around conf.d/, including `gzip on` for event streams too).

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { rvesIn } from './api.mjs';
import { SseParser } from './sse.mjs';

const execFileP = promisify(execFile);

/** The shipped config. */
export const DEPLOY_CONF = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../deploy/nginx.conf');

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const START_TIMEOUT_MS = 10000;
const MARKER = /^(\s*)(.*?)\s*# render: ([a-z_0-9]+)\s*$/;

// Every process this file started is killed when the test process exits, whatever happened:
// nginx by its process group (master and workers), curl by its pid.
const groups = new Set();
const children = new Set();
process.on('exit', () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Renders `text` (deploy/nginx.conf): every line ending in `# render: NAME` is replaced by
 * `values[NAME]`: a string or an array of lines (indented like the original), null to drop it,
 * or a function of the original directive (without the marker) returning one of those. Throws
 * when a marker has no value or a value no marker.
 */
export function renderConfig(text, values) {
  const used = new Set();
  const out = [];
  for (const line of text.split('\n')) {
    const m = MARKER.exec(line);
    if (!m) {
      out.push(line);
      continue;
    }
    const [, indent, directive, name] = m;
    if (!(name in values)) {
      throw new Error(`deploy/nginx.conf: no value to render '# render: ${name}' (${directive})`);
    }
    used.add(name);
    let value = values[name];
    if (typeof value === 'function') {
      value = value(directive);
    }
    if (value === null) {
      continue;
    }
    for (const l of Array.isArray(value) ? value : [value]) {
      out.push(`${indent}${l}`);
    }
  }
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) {
    throw new Error(`deploy/nginx.conf has no '# render:' line for ${unused.join(', ')}`);
  }
  return out.join('\n');
}

/** `directive` with `pattern` replaced; throws when it does not match (the shipped line changed). */
function replaced(directive, pattern, replacement) {
  if (!pattern.test(directive)) {
    throw new Error(`deploy/nginx.conf: '${directive}' does not match ${pattern}`);
  }
  return directive.replace(pattern, replacement);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Makes a self-signed certificate for 127.0.0.1 and localhost in `dir`: {cert, key} paths. */
export async function makeCertificate(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  await execFileP('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '2', '-subj', '/CN=posfeed test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', key, '-out', cert,
  ], { timeout: 30000 });
  return { cert, key };
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Renders deploy/nginx.conf for `upstreams` (HOST:PORT of each posfeed node) and starts nginx
 * with it on free loopback ports. `edit(text)` may change the rendered text (for manual
 * experiments only; the tests run the shipped config).
 */
export async function startNginx({ upstreams, edit = (t) => t } = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'posfeed-nginx-'));
  try {
    const { cert, key } = await makeCertificate(dir);
    const shipped = await fs.readFile(DEPLOY_CONF, 'utf8');
    // A port taken between freePort() and nginx's bind: try others.
    let lastError;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const port = await freePort();
      const httpPort = await freePort();
      const site = edit(
        renderConfig(shipped, {
          upstream: (d) => upstreams.map((u) => replaced(d, /^server \S+/, `server ${u}`)),
          http_listen: (d) => replaced(d, /^listen \S+?(?=[ ;])/, `listen 127.0.0.1:${httpPort}`),
          http_listen_ipv6: null,
          https_listen: (d) => replaced(d, /^listen \S+?(?=[ ;])/, `listen 127.0.0.1:${port}`),
          https_listen_ipv6: null,
          ssl_certificate: (d) => replaced(d, /^ssl_certificate \S+;/, `ssl_certificate ${cert};`),
          ssl_certificate_key: (d) => replaced(d, /^ssl_certificate_key \S+;/, `ssl_certificate_key ${key};`),
          access_log: (d) => replaced(d, /^access_log \S+/, `access_log ${path.join(dir, 'access.log')}`),
        }),
      );
      const proxy = new Nginx({ dir, cert, port, httpPort, site });
      try {
        await proxy.start();
        return proxy;
      } catch (e) {
        lastError = e;
        await proxy.stop();
        if (!/Address already in use/.test(e.message)) {
          throw e;
        }
      }
    }
    throw lastError;
  } catch (e) {
    await fs.rm(dir, { recursive: true, force: true });
    throw e;
  }
}

const ACCESS_LINE =
  /^(\S+) \[(\S+)\] "(\S+) (\S+) (\S+)" (\d+) (\d+) (\S+) conn=(\d+) req=(\d+) upstream=(.*) "(.*)"$/;

class Nginx {
  constructor({ dir, cert, port, httpPort, site }) {
    this.dir = dir;
    this.cert = cert;
    this.port = port;
    this.httpPort = httpPort;
    this.site = site;
    this.child = undefined;
    this.exited = undefined;
    this.output = '';
    this.session = undefined;
  }

  get url() {
    return `https://127.0.0.1:${this.port}`;
  }

  get httpUrl() {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get errorLog() {
    return path.join(this.dir, 'error.log');
  }

  /** The main config: what a Debian host around conf.d/ would have, with temporary paths. */
  mainConfig() {
    const d = this.dir;
    return [
      '# tests/integration/lib/nginx.mjs: a main config around the rendered deploy/nginx.conf',
      // As root, workers would run as nobody and could not use the temporary directory.
      process.getuid?.() === 0 ? 'user root;' : '',
      'worker_processes 1;',
      'daemon off;',
      `pid ${d}/nginx.pid;`,
      `error_log ${d}/error.log info;`,
      'events { worker_connections 1024; }',
      'http {',
      '    include /etc/nginx/mime.types;',
      '    default_type application/octet-stream;',
      '    sendfile on;',
      '    tcp_nopush on;',
      // Debian turns gzip on at the http level; here it would compress event streams too, so
      // the stream location has to turn it off (the streams are read with --compressed).
      '    gzip on;',
      '    gzip_types text/event-stream application/json;',
      `    client_body_temp_path ${d}/body;`,
      `    proxy_temp_path ${d}/proxy;`,
      `    fastcgi_temp_path ${d}/fastcgi;`,
      `    uwsgi_temp_path ${d}/uwsgi;`,
      `    scgi_temp_path ${d}/scgi;`,
      `    include ${d}/posfeed.conf;`,
      '}',
      '',
    ].join('\n');
  }

  async start() {
    await fs.writeFile(path.join(this.dir, 'posfeed.conf'), this.site);
    const conf = path.join(this.dir, 'nginx.conf');
    await fs.writeFile(conf, this.mainConfig());
    const args = ['-p', this.dir, '-c', conf, '-e', this.errorLog];
    try {
      await execFileP(NGINX, [...args, '-t', '-q'], { timeout: 30000 });
    } catch (e) {
      throw new Error(`nginx -t refused the rendered deploy/nginx.conf:\n${e.stderr ?? e.message}\n${this.site}`);
    }
    // Its own process group: master and workers are killed together.
    const child = spawn(NGINX, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    groups.add(child.pid);
    for (const stream of ['stdout', 'stderr']) {
      child[stream].setEncoding('utf8');
      child[stream].on('data', (c) => {
        this.output += c;
      });
    }
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
        }
        resolve({ code, signal });
      });
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await canConnect(this.port))) {
      if (!this.child) {
        throw new Error(`nginx exited before listening:\n${this.output}\n${await this.errors()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`nginx did not listen on ${this.port} within ${START_TIMEOUT_MS} ms:\n${await this.errors()}`);
      }
      await sleep(50);
    }
  }

  /** nginx's error log so far. */
  async errors() {
    return fs.readFile(this.errorLog, 'utf8').catch(() => '');
  }

  /**
   * The access log (deploy/nginx.conf's `posfeed` format), parsed: {method, uri, protocol,
   * status, requestTime, connection, requests, upstream (the last node tried), agent}. nginx writes a
   * line when a request ends; for a stream, when it closes.
   */
  async accessLog() {
    const text = await fs.readFile(path.join(this.dir, 'access.log'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((line) => {
        const m = ACCESS_LINE.exec(line);
        if (!m) {
          throw new Error(`an access log line not in the posfeed format: ${line}`);
        }
        return {
          line,
          method: m[3],
          uri: m[4],
          protocol: m[5],
          status: Number(m[6]),
          requestTime: Number(m[8]),
          connection: m[9],
          requests: Number(m[10]),
          upstream: m[11].split(/[,:]\s/).at(-1).trim(),
          agent: m[12],
        };
      });
  }

  /** Waits until the access log holds `count` lines matching `filter`; resolves with them. */
  async waitForAccess(filter, count, { timeoutMs = 10000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const lines = (await this.accessLog()).filter(filter);
      if (lines.length >= count) {
        return lines;
      }
      if (Date.now() > deadline) {
        const all = await this.accessLog();
        throw new Error(`${lines.length} of ${count} access log lines after ${timeoutMs} ms:\n${all.map((l) => l.line).join('\n')}`);
      }
      await sleep(50);
    }
  }

  /** One HTTP/2 session to the proxy for API calls (node:http2, TLS with the test's CA). */
  async h2Session() {
    if (this.session && !this.session.closed && !this.session.destroyed) {
      return this.session;
    }
    const ca = await fs.readFile(this.cert);
    const session = http2.connect(this.url, { ca });
    session.on('error', () => {}); // reported through the request that fails
    await new Promise((resolve, reject) => {
      session.once('connect', resolve);
      session.once('error', reject);
    });
    this.session = session;
    return session;
  }

  async stop() {
    this.session?.close();
    this.session = undefined;
    const child = this.child;
    if (!child) {
      return;
    }
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), 5000);
    });
    await Promise.race([this.exited, late]);
    clearTimeout(timer);
    try {
      process.kill(-child.pid, 'SIGKILL'); // workers that outlived the master, if any
    } catch {
      // all gone
    }
    groups.delete(child.pid);
    await this.exited;
  }

  async cleanup() {
    await this.stop();
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * One request through the proxy over HTTP/2 (node:http2). Resolves with {status, headers,
 * text, json, rve (the first RVE literal of the body), at (performance.now() when the response
 * had been read), agent (its User-Agent, unique: its access log line has it)}. `body`: sent as
 * JSON.
 */
export async function h2Request(proxy, { method = 'GET', path: target, key, headers = {}, body, timeoutMs = 20000 }) {
  const session = await proxy.h2Session();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const agent = uniqueAgent();
  const hs = { ':method': method, ':path': target, 'user-agent': agent, ...headers };
  if (key) {
    hs['x-api-key'] = key;
  }
  if (payload !== undefined) {
    hs['content-type'] = 'application/json';
    hs['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = session.request(hs);
    const timer = setTimeout(() => req.close(http2.constants.NGHTTP2_CANCEL), timeoutMs);
    let headersIn;
    let text = '';
    req.setEncoding('utf8');
    req.on('response', (h) => {
      headersIn = h;
    });
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      const at = performance.now();
      clearTimeout(timer);
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: headersIn?.[':status'], headers: headersIn, text, json, rve: rvesIn(text)[0], at, agent });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on('close', () => {
      clearTimeout(timer);
      if (headersIn === undefined) {
        reject(new Error(`${method} ${target}: the stream closed without a response (${req.rstCode})`));
      }
    });
    req.end(payload);
  });
}

/** Common curl arguments: HTTP/2 over TLS, the test's CA, no progress meter. */
export function curlArgs(proxy) {
  return ['-sS', '--no-progress-meter', '--http2', '--cacert', proxy.cert];
}

let agents = 0;

/** A User-Agent of its own, to find a request's line in the access log. */
export function uniqueAgent() {
  agents += 1;
  return `posfeed-proxy-test/${process.pid}.${agents}`;
}

/** Runs curl to completion: {stdout, stderr}; throws when curl fails. */
export async function curl(args, { timeoutMs = 20000 } = {}) {
  try {
    return await execFileP('curl', args, { timeout: timeoutMs });
  } catch (e) {
    throw new Error(`curl ${args.join(' ')} failed (${e.code ?? e.signal}): ${e.stderr ?? e.message}`);
  }
}

/** Starts curl with `args`, tracked so that it is killed at exit; resolves when it has exited. */
export function spawnCurl(args) {
  const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stderrText = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => {
    child.stderrText += c;
  });
  child.done = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (e) => {
      children.delete(child);
      resolve({ code: -1, signal: null, error: e });
    });
  });
  return child;
}

/**
 * An event stream read by `curl -N --http2 --compressed -i` through the proxy. `status`,
 * `httpVersion` and `headers` (lower-case names) once the head has arrived; `events` as in
 * lib/sse.mjs, each with `at`: performance.now() when its last byte arrived. `agent`: its
 * User-Agent, unique to it (`await s.logged()` waits for its access log line).
 */
export function curlStream(proxy, target, { key, headers = {}, lastEventId } = {}) {
  return new CurlStream(proxy, target, { key, headers, lastEventId });
}

class CurlStream {
  constructor(proxy, target, { key, headers, lastEventId }) {
    this.target = target;
    this.parser = new SseParser();
    this.head = '';
    this.raw = '';
    this.status = undefined;
    this.httpVersion = undefined;
    this.headers = undefined;
    this.done = false;
    this.waiters = new Set();
    this.proxy = proxy;
    this.agent = uniqueAgent();
    const hs = { Accept: 'text/event-stream', ...headers };
    if (key) {
      hs['X-Api-Key'] = key;
    }
    if (lastEventId !== undefined) {
      hs['Last-Event-ID'] = lastEventId;
    }
    const args = [...curlArgs(proxy), '-N', '--compressed', '-i', '-A', this.agent];
    for (const [k, v] of Object.entries(hs)) {
      args.push('-H', `${k}: ${v}`);
    }
    args.push(`${proxy.url}${target}`);
    this.child = spawnCurl(args);
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => this.#data(chunk, performance.now()));
    this.child.done.then(() => {
      this.done = true;
      this.#check();
    });
  }

  #data(chunk, at) {
    if (this.headers === undefined) {
      this.head += chunk;
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) {
        return;
      }
      const lines = this.head.slice(0, end).split('\r\n');
      const m = /^HTTP\/(\S+) (\d+)/.exec(lines[0]);
      this.httpVersion = m?.[1];
      this.status = m ? Number(m[2]) : undefined;
      this.headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        this.headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      chunk = this.head.slice(end + 4);
    }
    this.raw += chunk;
    const before = this.parser.events.length;
    this.parser.feed(chunk);
    for (const e of this.parser.events.slice(before)) {
      e.at = at;
    }
    this.#check();
  }

  get events() {
    return this.parser.events;
  }

  get comments() {
    return this.parser.comments;
  }

  #check() {
    for (const w of [...this.waiters]) {
      w();
    }
  }

  /** What arrived so far (the head, the end of the body) and curl's errors, for failure messages. */
  #received() {
    return `${this.head.slice(0, 500)}${this.raw.slice(-2000)}\n${this.child.stderrText}`;
  }

  /** Resolves once `predicate(this)` holds; rejects after `timeoutMs` or when curl ends first. */
  waitFor(predicate, { timeoutMs = 10000, what = 'the condition' } = {}) {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        if (predicate(this)) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(this);
        } else if (this.done) {
          this.waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`${this.target}: curl ended before ${what}:\n${this.#received()}`));
        }
      };
      timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.target}: ${what} did not arrive within ${timeoutMs} ms; received:\n${this.#received()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for the `ready` event and resolves with it. */
  async ready(options = {}) {
    await this.waitFor((s) => s.events.some((e) => e.event === 'ready'), { what: "the 'ready' event", ...options });
    return this.events.find((e) => e.event === 'ready');
  }

  /** Its access log line (nginx writes it once the stream has ended). */
  async logged() {
    const [line] = await this.proxy.waitForAccess((l) => l.agent === this.agent, 1);
    return line;
  }

  /** Ends curl (the client goes away, as a closed browser tab does) and waits for it. */
  async close() {
    if (!this.done) {
      this.child.kill('SIGTERM');
    }
    await this.child.done;
  }
}
