// Several posfeed nodes on one PostgreSQL: a scratch PostgreSQL server of the test's own
// (scripts/pg-scratch: initdb in a temporary directory, a free loopback port, removed
// afterwards) and nodes started with --db pointing at it.
//
//   const pg = await startPostgres(); after(() => pg.cleanup());
//   const cluster = await startCluster(pg, { nodes: 3 }); after(() => cluster.cleanup());
//   cluster.nodes[i] is a Server of lib/server.mjs (same key on every node: cluster.key)
//   await pg.restart()   -> PostgreSQL stopped (fast) and started again on the same port

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { admin, startServer } from './server.mjs';

const execFileP = promisify(execFile);
const SCRATCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/pg-scratch');

async function scratch(...args) {
  try {
    const { stdout } = await execFileP('bash', [SCRATCH, ...args], { timeout: 60000 });
    return stdout.trim();
  } catch (e) {
    throw new Error(`pg-scratch ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

/** A scratch PostgreSQL server; `url` names its `postgres` database. */
export async function startPostgres(settings = []) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'posfeed-pg-'));
  const url = await scratch('start', dir, ...settings);
  let running = true;
  return {
    url,
    dir,
    async stop() {
      await scratch('stop', dir);
      running = false;
    },
    async start() {
      await scratch('start', dir, ...settings);
      running = true;
    },
    async restart() {
      await scratch('restart', dir, ...settings);
      running = true;
    },
    async cleanup() {
      if (running) {
        await scratch('stop', dir).catch(() => {});
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `nodes` posfeed servers on `pg` (RmSystem `rmsystem` and one '*' key, created once through the
 * admin commands against the shared database).
 */
export async function startCluster(pg, { nodes = 3, config, rmsystem = '1' } = {}) {
  await admin(['rmsystem', 'create', rmsystem, '--db', pg.url]).catch((e) => {
    if (!/already exists/.test(e.message)) {
      throw e;
    }
  });
  const out = await admin(['apikey', 'create', '--db', pg.url, '--rmsystem', rmsystem, '--scopes', '*']);
  const key = out.trim().split('\n').at(-1).trim();
  const started = [];
  try {
    for (let i = 0; i < nodes; i += 1) {
      started.push(await startServer({ db: pg.url, key, config, rmsystem }));
    }
  } catch (e) {
    await Promise.all(started.map((s) => s.cleanup()));
    throw e;
  }
  return {
    nodes: started,
    key,
    async cleanup() {
      await Promise.all(started.map((s) => s.cleanup()));
    },
  };
}
