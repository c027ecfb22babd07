// posfeed under systemd (issue 14 item 2): deploy/posfeed.service is a unit systemd-analyze
// accepts, and the real binary, given a NOTIFY_SOCKET the test listens on, sends READY=1 once it
// listens, WATCHDOG=1 while it runs (only when the watchdog is asked for), and STOPPING=1 when
// it shuts down.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { sleep } from './lib/api.mjs';
import { binary, startServer } from './lib/server.mjs';

const execFileP = promisify(execFile);

/** The notification socket stand-in (tests/integration/tools/notify_listener.cpp). */
async function listenForNotifications(dir) {
  const bin = process.env.POSFEED_NOTIFY_LISTENER_BIN;
  assert.ok(bin, 'POSFEED_NOTIFY_LISTENER_BIN is set by CTest');
  const socket = path.join(dir, 'notify.sock');
  const child = spawn(bin, [socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop();
    for (const p of parts) {
      lines.push({ text: p, at: Date.now() });
    }
  });
  while (!lines.some((l) => l.text === 'listening')) {
    await sleep(10);
  }
  return { socket, lines, messages: () => lines.filter((l) => l.text !== 'listening'), stop: () => child.kill() };
}

describe('systemd', () => {
  const cleanups = [];
  after(async () => {
    for (const c of cleanups.reverse()) {
      await c();
    }
  });

  test('systemd-analyze verify accepts deploy/posfeed.service', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'posfeed-unit-'));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const unit = await fs.readFile(path.join(process.env.POSFEED_SOURCE_DIR ?? '../..', 'deploy/posfeed.service'), 'utf8');
    assert.match(unit, /^Type=notify$/m);
    assert.match(unit, /^WatchdogSec=\d+/m);
    assert.match(unit, /^NoNewPrivileges=yes$/m);
    assert.match(unit, /^ProtectSystem=strict$/m);
    assert.match(unit, /^LimitNOFILE=\d+/m);
    assert.match(unit, /^StateDirectory=posfeed$/m);
    // verify checks that ExecStart's program exists: point it at the binary under test.
    const copy = path.join(dir, 'posfeed.service');
    await fs.writeFile(copy, unit.replace(/\/usr\/bin\/posfeed/g, binary()));
    const { stdout, stderr } = await execFileP('systemd-analyze', ['verify', copy]);
    assert.equal(`${stdout}${stderr}`.trim(), '', 'no warnings');
  });

  test('READY=1 once it listens, WATCHDOG=1 while every worker runs, STOPPING=1 at shutdown', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'posfeed-notify-'));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const n = await listenForNotifications(dir);
    cleanups.push(() => n.stop());
    const srv = await startServer({ env: { NOTIFY_SOCKET: n.socket, WATCHDOG_USEC: '400000' } });
    cleanups.push(() => srv.cleanup());
    while (!n.messages().some((m) => m.text.startsWith('READY=1'))) {
      await sleep(10);
    }
    const ready = n.messages().find((m) => m.text.startsWith('READY=1'));
    assert.equal(ready.text, `READY=1|STATUS=listening on 127.0.0.1:${srv.port}`);
    // It listens by then: a connection is accepted.
    await new Promise((resolve, reject) => {
      const c = net.connect(srv.port, '127.0.0.1', () => {
        c.end();
        resolve();
      });
      c.on('error', reject);
    });
    await sleep(1200); // a watchdog interval of 400 ms: pings every 100 ms
    const pings = n.messages().filter((m) => m.text === 'WATCHDOG=1');
    assert.ok(pings.length >= 4, `WATCHDOG=1 repeatedly while it runs: ${pings.length}`);
    assert.ok(pings[0].at >= ready.at, 'pings come after READY');
    assert.equal(await srv.stop(), 0);
    const stopping = n.messages().findIndex((m) => m.text.startsWith('STOPPING=1'));
    assert.ok(stopping >= 0, `STOPPING=1 at shutdown: ${n.messages().map((m) => m.text).join(', ')}`);
    assert.ok(
      n.messages().slice(stopping).every((m) => !m.text.startsWith('READY')),
      'nothing claims readiness after STOPPING',
    );
  });

  test('no watchdog pings unless the service manager asks for them', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'posfeed-notify-'));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const n = await listenForNotifications(dir);
    cleanups.push(() => n.stop());
    const srv = await startServer({ env: { NOTIFY_SOCKET: n.socket } });
    cleanups.push(() => srv.cleanup());
    await sleep(800);
    assert.ok(n.messages().some((m) => m.text.startsWith('READY=1')));
    assert.equal(n.messages().filter((m) => m.text === 'WATCHDOG=1').length, 0);
    await srv.stop();
  });
});
