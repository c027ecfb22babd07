// Plain HTTP requests and the JSON API, over node:http.

import http from 'node:http';

/** An RVE as written in JSON and in `id:` lines: 8 digits, a dot, 9 digits. */
export const RVE_TEXT = /^\d{8}\.\d{9}$/;

/**
 * The RVE literals of a JSON text, in order, as strings. RVEs are number literals that a double
 * cannot hold, so they are read from the text, never through JSON.parse.
 */
export function rvesIn(text) {
  return [...text.matchAll(/"RVE":(-?[0-9][0-9.eE+-]*)/g)].map((m) => m[1]);
}

/** JSON.parse with every `"RVE": <number>` turned into the string of its literal first. */
export function parseKeepingRve(text) {
  return JSON.parse(text.replace(/"RVE":(-?[0-9][0-9.eE+-]*)/g, '"RVE":"$1"'));
}

/**
 * One HTTP request. Resolves with {status, headers, text, json} (json undefined when the body
 * is not JSON). `body`: a string is sent as is, anything else as JSON.
 */
export function request(server, { method = 'GET', path, headers = {}, body, agent = false, timeoutMs = 20000 }) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const hs = { ...headers };
    if (payload !== undefined) {
      hs['Content-Type'] ??= 'application/json';
      hs['Content-Length'] = Buffer.byteLength(payload);
    }
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers: hs, agent }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => {
        clearTimeout(timer);
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`${method} ${path}: no response within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (payload !== undefined) {
      req.write(payload);
    }
    req.end();
  });
}

/**
 * A JSON API call with the server's key (or `key`; null sends none). Adds `rve`: the first RVE
 * literal of the body as a string, e.g. the RVE of the record a write returns.
 */
export async function api(server, method, path, body, { key = server.key, headers = {} } = {}) {
  const hs = { ...headers };
  if (key !== null) {
    hs['X-Api-Key'] = key;
  }
  const res = await request(server, {
    method,
    path: path.startsWith('/') ? path : `/openapi/${path}`,
    headers: hs,
    body,
    agent: server.httpAgent(),
  });
  res.rve = rvesIn(res.text)[0];
  return res;
}

/** Like `api`, but throws unless the status is 2xx and the body holds an RVE with 9 decimals. */
export async function write(server, method, path, body, options) {
  const res = await api(server, method, path, body, options);
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${method} ${path} ${JSON.stringify(body)} answered ${res.status}: ${res.text}`);
  }
  if (!res.rve || !RVE_TEXT.test(res.rve)) {
    throw new Error(`${method} ${path} returned no RVE with 9 decimals: ${res.text}`);
  }
  return res;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
