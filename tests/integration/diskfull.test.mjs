// The disk fills (SPEC 8, issue 14): a real file-size limit on the running server process
// (prlimit --fsize, the soft limit only, so it can be lifted again) makes SQLite's writes fail
// with EFBIG, as a full disk fails them with ENOSPC. Writes answer 503 with a clear message, the
// process does not die of SIGXFSZ, open streams keep serving, reads keep working, and once the
// limit is lifted writes succeed again by themselves; nothing acknowledged is lost, nothing
// refused is published.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { api, request } from './lib/api.mjs';
import { assertSameSequence, logEventsOf } from './lib/check.mjs';
import { assertError, listAll } from './lib/records.mjs';
import { startServer } from './lib/server.mjs';
import { openStream } from './lib/sse.mjs';
import { logOf } from './lib/truth.mjs';

const execFileP = promisify(execFile);

async function fileSize(file) {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

/** Sets the soft RLIMIT_FSIZE of `pid` (bytes, or 'unlimited'), keeping the hard limit. */
async function setFileSizeLimit(pid, soft) {
  await execFileP('prlimit', ['--pid', String(pid), `--fsize=${soft}:unlimited`]);
}

describe('a full disk', () => {
  let srv;
  let stream;
  const acknowledged = []; // {rve, type}
  let refused = 0;
  let refusal;
  let readDuringFault;
  let healthDuringFault;

  const product = (n) => ({ Description: `disk ${n} ${'x'.repeat(900)}`, Price: n });
  async function create(n) {
    const res = await api(srv, 'POST', 'Products', product(n));
    if (res.status === 201) {
      acknowledged.push({ rve: res.rve, type: 'products' });
    }
    return res;
  }

  before(async () => {
    srv = await startServer();
    stream = openStream(srv, { query: 'want=products&rve=0' });
    await stream.ready();
    for (let n = 0; n < 5; n += 1) {
      assert.equal((await create(n)).status, 201);
    }
    // A limit a little above what the database files hold now: the WAL reaches it within a
    // few commits of ~1 KiB records.
    const db = path.join(srv.dataDir, 'p.db');
    const limit = Math.max(await fileSize(db), await fileSize(`${db}-wal`)) + 16384;
    await setFileSizeLimit(srv.child.pid, limit);
    for (let n = 5; n < 400 && refused < 5; n += 1) {
      const res = await create(n);
      if (res.status === 503) {
        refused += 1;
        refusal ??= res;
      } else {
        assert.equal(res.status, 201, `a write answers 201 or 503 while the disk is full: ${res.status} ${res.text}`);
      }
    }
    readDuringFault = await listAll(srv, 'Products');
    healthDuringFault = await request(srv, { path: '/healthz' });
  });

  after(async () => {
    stream?.close();
    await srv?.cleanup();
  });

  test('writes answer 503 with a message that names the disk, and the server stays up', () => {
    assert.ok(refused >= 5, `the file-size limit refused writes (${refused} refused)`);
    assertError(refusal, 503, 'unavailable', ['cannot be written', 'disk is full', 'nothing of this write was saved']);
    assert.ok(srv.running, 'the process did not die of SIGXFSZ');
    assert.match(srv.logs, /group commit of \d+ writes failed: sqlite: .*(disk I\/O error|database or disk is full)/);
  });

  test('reads and the health check keep working while writes fail', () => {
    assert.equal(readDuringFault.records.length, acknowledged.length, 'the list holds exactly the acknowledged writes');
    assert.equal(healthDuringFault.status, 200, healthDuringFault.text);
  });

  test('once the limit is lifted writes succeed by themselves; the open stream got exactly the acknowledged writes', async () => {
    await setFileSizeLimit(srv.child.pid, 'unlimited');
    const res = await create(1000);
    assert.equal(res.status, 201, `the first write after the disk has room again: ${res.status} ${res.text}`);
    for (let n = 1001; n < 1005; n += 1) {
      assert.equal((await create(n)).status, 201);
    }
    const last = acknowledged.at(-1).rve;
    await stream.waitFor((s) => s.lastEventId === last, { timeoutMs: 20000, what: `the stream reaches ${last}` });
    const ready = stream.named('ready')[0];
    const live = logEventsOf(stream.events.slice(stream.events.indexOf(ready) + 1));
    assertSameSequence(live, acknowledged, 'the stream opened before the disk filled');
    assert.ok(!stream.done, 'the stream stayed open throughout');
  });

  test('after a restart the log holds every acknowledged write, nothing refused, and the database is intact', async () => {
    stream.close();
    assert.equal(await srv.stop(), 0);
    const { stdout } = await execFileP('sqlite3', [path.join(srv.dataDir, 'p.db'), 'PRAGMA integrity_check']);
    assert.equal(stdout.trim(), 'ok');
    await srv.start();
    assertSameSequence(await logOf(srv, { want: ['products'] }), acknowledged, 'the log after a restart');
  });
});
