// posfeed-tail under test: runs the binary (POSFEED_TAIL_BIN), collects the JSON lines it prints
// and its stderr, and turns the lines into {rve, type} sequences for assertSameSequence.

import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { rvesIn } from './api.mjs';

/** The posfeed-tail binary under test (CTest sets POSFEED_TAIL_BIN). */
export function tailBinary() {
  const bin = process.env.POSFEED_TAIL_BIN;
  if (!bin) {
    throw new Error('POSFEED_TAIL_BIN is not set: run with POSFEED_TAIL_BIN=/path/to/build/clients/cpp/posfeed-tail');
  }
  return bin;
}

const EXIT_TIMEOUT_MS = 15000;

// Every posfeed-tail still running when the test process exits is killed.
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

/**
 * A running posfeed-tail. `lines` holds every stdout line as {text, json} (json parsed with
 * JSON.parse: use `text` and `rvesIn` for RVEs), `stderr` everything it wrote there.
 */
export class Tail {
  constructor(args, { env } = {}) {
    this.args = args;
    this.lines = [];
    this.stderr = '';
    this.waiters = new Set();
    this.child = spawn(tailBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    live.add(this.child);
    let partial = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop();
      for (const text of parts) {
        this.lines.push({ text, json: JSON.parse(text) });
      }
      this.#wake();
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk) => {
      this.stderr += chunk;
      this.#wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        live.delete(this.child);
        this.code = code;
        this.signal = signal;
        // stdout may still hold lines: wait for it to end before resolving.
        const done = () => resolve({ code, signal, lines: this.lines, stderr: this.stderr });
        if (this.child.stdout.readableEnded) {
          done();
        } else {
          this.child.stdout.on('end', done);
          this.child.stdout.on('close', done);
        }
        this.#wake();
      });
    });
  }

  #wake() {
    for (const w of [...this.waiters]) {
      w();
    }
  }

  /** Resolves once `predicate(this)` holds; rejects after `timeoutMs` or when the process exits first. */
  waitFor(predicate, { what = 'the condition', timeoutMs = 20000 } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(this)) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(this);
        } else if (this.code !== undefined || this.signal) {
          this.waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`posfeed-tail exited (${this.code ?? this.signal}) before ${what}; stderr:\n${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms; ${this.lines.length} lines; stderr:\n${this.stderr}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves once a printed line carries `id` (the id closing a group). */
  waitForId(id, options = {}) {
    return this.waitFor((t) => t.lines.some((l) => l.json.id === id), { what: `id ${id}`, ...options });
  }

  /** Sends `signal` and resolves with {code, signal, lines, stderr} once it exited (SIGKILL after 15 s). */
  async stop(signal = 'SIGTERM') {
    if (this.code === undefined && !this.signal) {
      this.child.kill(signal);
    }
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), EXIT_TIMEOUT_MS);
    });
    const done = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (done === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`posfeed-tail did not exit within ${EXIT_TIMEOUT_MS} ms of ${signal}; stderr:\n${this.stderr}`);
    }
    return done;
  }

  /** Waits for the process to exit on its own (SIGKILL after `timeoutMs`). */
  async finished({ timeoutMs = 30000 } = {}) {
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const done = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (done === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`posfeed-tail did not exit within ${timeoutMs} ms; stderr:\n${this.stderr}`);
    }
    return done;
  }
}

/** Runs posfeed-tail to completion: {code, signal, lines, stderr}. */
export function runTail(args, options = {}) {
  return new Tail(args, options).finished(options);
}

/** The RVE of a printed line's packet: from the JSON text, or from `<RVE>` of an XML string. */
export function rveOfLine(line) {
  if (typeof line.json.data === 'string') {
    return /<RVE>([0-9.]+)<\/RVE>/.exec(line.json.data)?.[1];
  }
  return rvesIn(line.text)[0];
}

const NOT_LOGGED = new Set(['ready', 'reset', 'debug']);

/** {rve, type} of the log events among printed lines, in order. */
export function logSequence(lines) {
  return lines.filter((l) => !NOT_LOGGED.has(l.json.event)).map((l) => ({ rve: rveOfLine(l), type: l.json.event }));
}

/** A new temporary directory (for state files); remove it with `fs.rm(dir, {recursive: true})`. */
export function tempDir() {
  return fs.mkdtemp(path.join(os.tmpdir(), 'posfeed-tail-it-'));
}
