// Checks shared by the feed tests: log events of a stream, and sequence comparison with a short
// report of the first difference.

import assert from 'node:assert/strict';

import { rvesIn } from './api.mjs';

const NOT_LOGGED = new Set(['ready', 'reset', 'debug']);

/**
 * The log events among parsed SSE events, as {rve, type}, checking on the way that every record
 * of a packet carries the same RVE and that `id:` is on exactly the last event of each
 * transaction group (`complete`: the events end on a group boundary).
 */
export function logEventsOf(events, { complete = true } = {}) {
  const out = [];
  for (const e of events) {
    if (NOT_LOGGED.has(e.event)) {
      continue;
    }
    const rves = [...new Set(rvesIn(e.data))];
    assert.equal(rves.length, 1, `one RVE per packet: ${e.event} ${e.data}`);
    out.push({ rve: rves[0], type: e.event, id: e.id });
  }
  out.forEach((e, i) => {
    const next = out[i + 1];
    if (next === undefined && !complete) {
      return;
    }
    const last = next === undefined || next.rve !== e.rve;
    if (last) {
      assert.equal(e.id, e.rve, `the last event of group ${e.rve} carries id: ${e.rve}`);
    } else {
      assert.equal(e.id, undefined, `only the last event of group ${e.rve} carries an id`);
    }
  });
  return out.map(({ rve, type }) => ({ rve, type }));
}

/** Asserts two sequences of {rve, type} are equal, reporting the first difference briefly. */
export function assertSameSequence(actual, expected, label = 'events') {
  const key = (e) => (e ? `${e.rve} ${e.type}` : '(none)');
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i += 1) {
    if (key(actual[i]) !== key(expected[i])) {
      const around = (list) =>
        list
          .slice(Math.max(0, i - 3), i + 4)
          .map(key)
          .join('\n    ');
      const seen = new Map();
      const dups = actual.filter((e) => seen.set(key(e), (seen.get(key(e)) ?? 0) + 1).get(key(e)) === 2).length;
      const got = new Set(actual.map(key));
      const missing = expected.filter((e) => !got.has(key(e))).length;
      assert.fail(
        `${label}: first difference at index ${i} of ${expected.length} expected (${actual.length} received; ` +
          `${missing} missing, ${dups} duplicated)\n  received:\n    ${around(actual)}\n  expected:\n    ${around(expected)}`,
      );
    }
  }
}

/** {rve, type} of workload entries. */
export const rveType = (list) => list.map(({ rve, type }) => ({ rve, type }));
