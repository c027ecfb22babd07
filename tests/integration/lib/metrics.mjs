// The server's Prometheus text at /metrics.

import assert from 'node:assert/strict';

import { request } from './api.mjs';

/** A value of a Prometheus text, e.g. metric(text, 'posfeed_streams'). */
export function metric(text, name) {
  const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
  assert.ok(m, `no ${name} in /metrics:\n${text}`);
  return Number(m[1]);
}

/** GET /metrics: the text. */
export async function metrics(srv) {
  const res = await request(srv, { path: '/metrics' });
  assert.equal(res.status, 200, res.text);
  return res.text;
}
