// Test harness: runs the real posfeed binary on a free loopback port against a SQLite
// database in a temporary data directory, and runs its admin commands.
//
//   const srv = await startServer({ config: '[feed]\nkeepalive_ms = 200\n' });
//   after(() => srv.cleanup());
//   srv.url, srv.port, srv.key ('*' scopes on RmSystem 1), srv.logs
//   await srv.stop()     -> exit code (SIGTERM)
//   await srv.restart()  -> exit code of the stop; same port, same data
//   await srv.kill()     -> SIGKILL
//   await srv.createRmSystem('2'); await srv.createKey({ rmsystem: '2', scopes: 'products' })

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** The posfeed binary under test (CTest sets POSFEED_BIN). */
export function binary() {
  const bin = process.env.POSFEED_BIN;
  if (!bin) {
    throw new Error('POSFEED_BIN is not set: run with POSFEED_BIN=/path/to/build/release/src/posfeed');
  }
  return bin;
}

const LISTENING = /^posfeed listening on http:\/\/127\.0\.0\.1:(\d+)$/;
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 15000;

// Every child still running when the test process exits is killed, whatever happened.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Runs `posfeed <args>` to completion and returns its stdout; throws with stderr on failure. */
export async function admin(args) {
  try {
    const { stdout } = await execFileP(binary(), args, { timeout: 30000 });
    return stdout;
  } catch (e) {
    throw new Error(`posfeed ${args.join(' ')} failed (${e.code ?? e.signal}): ${e.stderr ?? e.message}`);
  }
}

/**
 * Starts a server. On a new data directory, creates RmSystem `rmsystem` (1) first; then a '*'
 * API key for it (`key`).
 * @param {{dataDir?: string, db?: string, key?: string, port?: number, config?: string, rmsystem?: string, launcher?: string[]}} options
 *   `db`: a database URL (e.g. a PostgreSQL one shared by several nodes) instead of a SQLite
 *   file in the data directory; the RmSystem must exist (lib/cluster.mjs makes it).
 *   `key`: use this API key instead of creating one.
 *   `launcher`: a command line the server runs under, e.g. ['prlimit', '--nofile=64:64', '--'].
 *   `env`: extra environment variables of the server process.
 */
export async function startServer({ dataDir, db, key, port = 0, config, rmsystem = '1', launcher = [], env = {} } = {}) {
  const ownsDir = !dataDir;
  const dir = dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'posfeed-it-')));
  const url = db ?? `sqlite:${path.join(dir, 'p.db')}`;
  const server = new Server({ dir, ownsDir, db: url, port, launcher, env });
  try {
    if (!db) {
      let fresh = true;
      try {
        await fs.access(path.join(dir, 'p.db'));
        fresh = false;
      } catch {
        // a new data directory
      }
      if (fresh) {
        await server.createRmSystem(rmsystem);
      }
    }
    // On existing data, a new '*' key: keys are shown only once.
    server.key = key ?? (await server.createKey({ rmsystem, scopes: '*' }));
    if (config !== undefined) {
      await server.setConfig(config);
    }
    await server.start();
  } catch (e) {
    await server.cleanup();
    throw e;
  }
  return server;
}

class Server {
  constructor({ dir, ownsDir, db, port, launcher = [], env = {} }) {
    this.dataDir = dir;
    this.launcher = launcher;
    this.env = env;
    this.db = db;
    this.port = port;
    this.key = undefined;
    this.configFile = undefined;
    this.child = undefined;
    this.exited = undefined; // promise of {code, signal} for the running child
    this.agent = undefined;
    this.ownsDir = ownsDir;
    this.logLines = [];
    this.starts = 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything the server printed so far (stdout and stderr, every run), one string. */
  get logs() {
    return this.logLines.join('\n');
  }

  /** The last `n` log lines, for failure messages. */
  tail(n = 30) {
    return this.logLines.slice(-n).join('\n');
  }

  get running() {
    return this.child !== undefined;
  }

  /** Writes a TOML config file used by this and every later start. */
  async setConfig(text) {
    this.configFile = path.join(this.dataDir, 'posfeed.toml');
    await fs.writeFile(this.configFile, text);
  }

  async createRmSystem(id) {
    return admin(['rmsystem', 'create', id, '--db', this.db]);
  }

  /** Creates an API key and returns it (the last line the command prints). */
  async createKey({ rmsystem = '1', scopes = '*' } = {}) {
    const out = await admin(['apikey', 'create', '--db', this.db, '--rmsystem', rmsystem, '--scopes', scopes]);
    const key = out.trim().split('\n').at(-1).trim();
    if (!/^pfk_[0-9a-f]{16}_[0-9a-f]{64}$/.test(key)) {
      throw new Error(`apikey create printed no key on its last line:\n${out}`);
    }
    return key;
  }

  async revokeKey(key) {
    return admin(['apikey', 'revoke', '--db', this.db, key]);
  }

  /** A keep-alive agent for API calls to the current run (replaced at every start). */
  httpAgent() {
    // With a timeout of its own the agent honours the server's Keep-Alive hint (without one
    // Node ignores it and may reuse a connection just as the server closes it).
    this.agent ??= new http.Agent({ keepAlive: true, maxSockets: 16, timeout: 60000 });
    return this.agent;
  }

  async start() {
    if (this.child) {
      throw new Error('the server is already running');
    }
    const args = ['serve', '--listen', `127.0.0.1:${this.port}`, '--db', this.db];
    if (this.configFile) {
      args.push('--config', this.configFile);
    }
    this.starts += 1;
    const run = this.starts;
    const [command, ...prefix] = [...this.launcher, binary()];
    const child = spawn(command, [...prefix, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env },
    });
    this.child = child;
    live.add(child);
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        live.delete(child);
        if (this.child === child) {
          this.child = undefined;
        }
        this.logLines.push(`[run ${run}] exited code=${code} signal=${signal}`);
        resolve({ code, signal });
      });
    });
    const listening = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`posfeed did not print its listening line within ${START_TIMEOUT_MS} ms:\n${this.tail()}`)),
        START_TIMEOUT_MS,
      );
      const onLine = (stream) => {
        let partial = '';
        child[stream].setEncoding('utf8');
        child[stream].on('data', (chunk) => {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop();
          for (const line of lines) {
            this.logLines.push(`[run ${run} ${stream}] ${line}`);
            const m = stream === 'stdout' ? LISTENING.exec(line) : null;
            if (m) {
              clearTimeout(timer);
              resolve(Number(m[1]));
            }
          }
        });
      };
      onLine('stdout');
      onLine('stderr');
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`posfeed exited before listening (code ${code}, signal ${signal}):\n${this.tail()}`));
      });
    });
    try {
      const port = await listening;
      if (this.port !== 0 && port !== this.port) {
        throw new Error(`posfeed listens on ${port}, asked for ${this.port}`);
      }
      this.port = port;
    } catch (e) {
      await this.kill();
      throw e;
    }
    return this;
  }

  #dropAgent() {
    this.agent?.destroy();
    this.agent = undefined;
  }

  /** Sends `signal` (SIGTERM by default) and resolves with the exit code once it has exited. */
  async stop(signal = 'SIGTERM') {
    const child = this.child;
    if (!child) {
      return undefined;
    }
    this.#dropAgent();
    child.kill(signal);
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
    });
    const done = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (done === 'timeout') {
      child.kill('SIGKILL');
      await this.exited;
      throw new Error(`posfeed did not exit within ${STOP_TIMEOUT_MS} ms of ${signal}; killed it:\n${this.tail()}`);
    }
    return done.code;
  }

  /** Stops (SIGTERM) and starts again on the same port and data; resolves with the stop's exit code. */
  async restart() {
    const code = await this.stop();
    await this.start();
    return code;
  }

  /** SIGKILL, no grace. */
  async kill() {
    const child = this.child;
    if (!child) {
      return;
    }
    this.#dropAgent();
    child.kill('SIGKILL');
    await this.exited;
  }

  /** Kills the server if it runs and removes the data directory if this harness made it. */
  async cleanup() {
    await this.kill();
    this.#dropAgent();
    if (this.ownsDir) {
      await fs.rm(this.dataDir, { recursive: true, force: true });
    }
  }
}
