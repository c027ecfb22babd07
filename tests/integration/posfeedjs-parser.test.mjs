// The JS client's event-stream parser (clients/js/posfeed.js SseParser) against the shared
// WHATWG conformance cases of clients/conformance/sse-cases.json, which the C++ client runs too.
// Every case is fed three ways: in its chunks, whole, and one byte at a time; the dispatched
// events and the accepted retry values must be the same each way. No server needed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';

import { SseParser } from '../../clients/js/posfeed.js';

const CASES = JSON.parse(
  fs.readFileSync(new URL('../../clients/conformance/sse-cases.json', import.meta.url), 'utf8'),
).cases;

const utf8 = new TextEncoder();

/** The bytes of a case, as the chunks it gives (strings are sent UTF-8 encoded). */
function chunksOf(c) {
  if (c.hex !== undefined) {
    return [Buffer.from(c.hex, 'hex')];
  }
  if (c.hexChunks !== undefined) {
    return c.hexChunks.map((h) => Buffer.from(h, 'hex'));
  }
  return c.chunks.map((s) => utf8.encode(s));
}

function concat(chunks) {
  return new Uint8Array(Buffer.concat(chunks.map((b) => Buffer.from(b))));
}

/** Runs a parser over `pieces` (Uint8Arrays) and returns {events, retry}. */
function parse(pieces) {
  const events = [];
  const retry = [];
  const parser = new SseParser({
    onEvent: ({ type, data, lastEventId }) => events.push({ type, data, lastEventId }),
    onRetry: (ms) => retry.push(ms),
  });
  for (const p of pieces) {
    parser.feed(p);
  }
  parser.end();
  return { events, retry };
}

const WAYS = {
  'as given': (c) => chunksOf(c),
  whole: (c) => [concat(chunksOf(c))],
  'byte by byte': (c) => [...concat(chunksOf(c))].map((b) => Uint8Array.of(b)),
};

describe('SseParser: shared conformance cases', () => {
  assert.ok(CASES.length > 0, 'the conformance file has cases');
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');

  for (const c of CASES) {
    test(c.name, () => {
      for (const [way, pieces] of Object.entries(WAYS)) {
        const got = parse(pieces(c));
        assert.deepEqual(got.events, c.events, `${c.name} (${way}): events`);
        if (c.retry !== undefined) {
          assert.deepEqual(got.retry, c.retry, `${c.name} (${way}): retry values`);
        }
      }
    });
  }
});

describe('SseParser: beyond the shared cases', () => {
  test('strings can be fed as well as bytes, with a CRLF split between two strings', () => {
    const { events } = parse([]);
    assert.deepEqual(events, []);
    const got = [];
    const p = new SseParser({ onEvent: (e) => got.push(e) });
    p.feed('\ufeffid: 1\r');
    p.feed('\ndata: a\r');
    p.feed('\n\r');
    p.feed('\n');
    assert.deepEqual(got, [{ type: 'message', data: 'a', lastEventId: '1', hasId: true }]);
  });

  test('hasId says whether the block itself had an id; lastEventId persists', () => {
    const got = [];
    const p = new SseParser({ onEvent: (e) => got.push(e), lastEventId: '5' });
    p.feed('event: sales\ndata: s\n\nid: 6\nevent: levels\ndata: l\n\nevent: debug\ndata: d\n\nid: 7\0x\ndata: n\n\n');
    assert.deepEqual(got, [
      { type: 'sales', data: 's', lastEventId: '5', hasId: false },
      { type: 'levels', data: 'l', lastEventId: '6', hasId: true },
      { type: 'debug', data: 'd', lastEventId: '6', hasId: false },
      { type: 'message', data: 'n', lastEventId: '6', hasId: false },
    ]);
    assert.equal(p.lastEventId, '6');
  });

  test('comments are reported with one leading space stripped', () => {
    const comments = [];
    const p = new SseParser({ onComment: (t) => comments.push(t) });
    p.feed(': keepalive\n:x\n:\n\n');
    assert.deepEqual(comments, ['keepalive', 'x', '']);
  });

  test('end() discards the incomplete event, turns a cut UTF-8 sequence into U+FFFD, and a new stream may follow', () => {
    const got = [];
    const p = new SseParser({ onEvent: (e) => got.push(e.data) });
    p.feed(Uint8Array.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0x61, 0x0a, 0x0a, 0x64, 0x61, 0x74, 0x61, 0x3a, 0xe2, 0x82]));
    p.end();
    p.feed(utf8.encode('\ufeffdata: b\n\n'));
    assert.deepEqual(got, ['a', 'b'], 'a BOM at the start of the next stream is stripped again');
  });
});
