// Backup and restore (SPEC 8, 10): `posfeed backup` copies the database while the server serves
// and writes; the copy is of one point in time (its log is a prefix of the live one); a server
// restored from it meets a subscriber that is ahead with `reset` cursor_ahead and a snapshot of
// the restored state, and one resuming from an older id with exactly the restored history.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { parseKeepingRve } from './lib/api.mjs';
import { assertSameSequence, logEventsOf } from './lib/check.mjs';
import { applyEvents, listAll, liveState, MixedWriter, stateOfList } from './lib/records.mjs';
import { admin, startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';
import { logOf } from './lib/truth.mjs';

const execFileP = promisify(execFile);
const WANT = ['products', 'levels'];

/** Opens a stream, waits for ready; returns {events (before ready), ready (parsed)}. */
async function upToReady(srv, options) {
  const s = openStream(srv, options);
  try {
    const ready = await s.ready({ timeoutMs: 60000 });
    return { events: s.events.slice(0, s.events.indexOf(ready)), ready: parseKeepingRve(ready.data).Ready[0] };
  } finally {
    s.close();
  }
}

async function sqlite(file, sql) {
  const { stdout } = await execFileP('sqlite3', [file, sql]);
  return stdout.trim();
}

describe('backup and restore', () => {
  let srv;
  let dbFile;
  let copy;
  let before_; // the live log before the restore
  let restored; // the log of the restored database
  const writer = { busy: undefined };

  before(async () => {
    srv = await startServer();
    dbFile = path.join(srv.dataDir, 'p.db');
    copy = path.join(srv.dataDir, 'copy.db');
    const w = new MixedWriter(srv, { seed: 7 });
    for (let i = 0; i < 40; i += 1) {
      await w.op();
    }
    // Writers keep going while the backup runs.
    let stop = false;
    const writers = Array.from({ length: 4 }, async () => {
      while (!stop) {
        await w.op();
      }
    });
    writer.busy = w;
    const out = await admin(['backup', '--db', srv.db, copy]);
    assert.match(out, /^backed up the database to .*copy\.db$/m);
    // And some more after it.
    const done = w.committed.length;
    while (w.committed.length < done + 60) {
      await new Promise((r) => setTimeout(r, 20));
    }
    stop = true;
    await Promise.all(writers);
    before_ = await logOf(srv, { want: WANT });
  });

  after(async () => srv?.cleanup());

  test('the copy is a complete database of its own: integrity ok, no -wal beside it, not in WAL mode', async () => {
    assert.equal(await sqlite(copy, 'PRAGMA integrity_check'), 'ok');
    assert.equal(await sqlite(copy, 'PRAGMA journal_mode'), 'delete');
    await assert.rejects(fs.access(`${copy}-wal`));
    await assert.rejects(fs.access(`${copy}.tmp`));
  });

  test('restored: the log is a prefix of the live one, cut at one point in time, with writes after it', async () => {
    await srv.stop();
    for (const suffix of ['', '-wal', '-shm']) {
      await fs.rm(`${dbFile}${suffix}`, { force: true });
    }
    await fs.copyFile(copy, dbFile);
    // The key of this run is newer than the backup: make one the restored database knows.
    srv.key = await srv.createKey({ rmsystem: '1', scopes: '*' });
    await srv.start();
    restored = await logOf(srv, { want: WANT });
    assert.ok(restored.length >= 40, `the copy holds the writes made before it (${restored.length} events)`);
    assert.ok(restored.length < before_.length, 'writes after the backup are not in it');
    assertSameSequence(restored, before_.slice(0, restored.length), 'restored log against the live one');
    // Every write acknowledged at or before the copy's newest RVE is in it.
    const newest = restored.at(-1).rve;
    const acknowledged = writer.busy.committed.filter((c) => c.rve <= newest);
    const inCopy = new Set(restored.map((e) => e.rve));
    assert.deepEqual(
      acknowledged.filter((c) => !inCopy.has(c.rve)),
      [],
      'every write acknowledged before the copy point is in the copy',
    );
  });

  test('a subscriber ahead of the restored database gets reset cursor_ahead and a snapshot of the restored state', async () => {
    const ahead = before_.at(-1).rve;
    assert.ok(ahead > restored.at(-1).rve);
    const { events, ready } = await upToReady(srv, { query: `want=${WANT.join(',')}`, lastEventId: ahead });
    assert.equal(events[0].event, 'reset');
    assert.equal(events[0].data, `{"Reset":[{"Reason":"cursor_ahead","From":${ahead}}]}`);
    const state = applyEvents(new Map(), events.slice(1));
    const products = (await listAll(srv, 'Products')).records;
    const levels = (await listAll(srv, 'StockLevels')).records;
    assert.deepEqual(liveState(state), { ...stateOfList('Products', products), ...stateOfList('Levels', levels) });
    assert.equal(ready.RVE, restored.at(-1).rve, 'ready names the restored database newest RVE');
  });

  test('a subscriber resuming from an older id gets exactly the restored history after it', async () => {
    const from = restored[Math.floor(restored.length / 2)].rve;
    const { events } = await upToReady(srv, { query: `want=${WANT.join(',')}`, lastEventId: from });
    assert.ok(!events.some((e) => e.event === 'reset'), 'no reset: the id is inside the restored history');
    assertSameSequence(
      logEventsOf(events),
      restored.filter((e) => e.rve > from),
      'resumed from an older id',
    );
  });

  test('backup refuses to overwrite the database itself, and names the file', async () => {
    await assert.rejects(admin(['backup', '--db', srv.db, dbFile]), /is the database itself/);
  });
});
