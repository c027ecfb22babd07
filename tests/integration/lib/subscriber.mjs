// A subscriber that behaves like a careful integrator, for the tests of many writes: it keeps
// an event only once the `id:` that closes its group has arrived, drops the connection at
// random points and resumes with Last-Event-ID = the last id seen, on the same node or on the
// next one of a cluster.

import { rvesIn, sleep } from './api.mjs';
import { openStream } from './sse.mjs';

/**
 * A subscriber that behaves like a careful integrator: it keeps an event only once the `id:`
 * that closes its group has arrived, drops the connection at random points, and resumes with
 * Last-Event-ID = the last id seen. After `stop` is aborted it makes one last connection, reads
 * up to ready, and resolves with what it has.
 *
 * With `nodes` (the servers of a cluster; `srv` is then the first), each connection goes to a
 * node: with `move`, the next node on every reconnect; without, the same node until it cannot
 * be reached or answers 503, then the next. Connection failures and 503s are retried. `from`
 * is the first resume point (rve=).
 */
export async function subscribe(srv, { key, want, random, stop, slow, nodes, move = false, from = '0' }) {
  const confirmed = []; // {rve, type}
  const problems = [];
  let lastId;
  let connections = 0;
  let refused = 0;
  let unreachable = 0;
  const all = nodes ?? [srv];
  let node = 0;
  const nodesUsed = new Set();
  while (true) {
    const final = stop.aborted;
    const target = all[node % all.length];
    const s = openStream(target, { key, query: `want=${want.join(',')}&rve=${from}`, lastEventId: lastId });
    try {
      await s.response;
    } catch (e) {
      // A node that is gone (killed, restarting): try the next one.
      unreachable += 1;
      node += 1;
      if (unreachable > 200) {
        problems.push(`no node could be reached 200 times: ${e.message}`);
        break;
      }
      await sleep(20);
      continue;
    }
    if (s.status === 503) {
      s.close();
      unreachable += 1;
      node += 1;
      if (unreachable > 500) {
        problems.push('answered 503 more than 500 times');
        break;
      }
      await sleep(50);
      continue;
    }
    if (s.status === 429) {
      refused += 1;
      s.close();
      if (refused > 100) {
        problems.push('refused with 429 more than 100 times');
        break;
      }
      await sleep(50);
      continue;
    }
    if (s.status !== 200) {
      await s.ended;
      problems.push(`status ${s.status}: ${s.raw}`);
      break;
    }
    connections += 1;
    nodesUsed.add(target.port);
    if (move) {
      node += 1;
    }
    let tentative = []; // events of a group whose id has not arrived yet
    let handled = 0;
    let ready = false;
    const handle = () => {
      for (; handled < s.events.length; handled += 1) {
        const e = s.events[handled];
        if (e.event === 'ready') {
          ready = true;
          if (tentative.length > 0) {
            problems.push(`ready inside a group: ${JSON.stringify(tentative)}`);
          }
          continue;
        }
        if (!want.includes(e.event)) {
          problems.push(`unwanted event ${e.event}`);
          continue;
        }
        const rves = [...new Set(rvesIn(e.data))];
        if (rves.length !== 1) {
          problems.push(`packet without exactly one RVE: ${e.data}`);
          continue;
        }
        tentative.push({ rve: rves[0], type: e.event });
        if (e.id !== undefined) {
          if (tentative.some((t) => t.rve !== e.id)) {
            problems.push(`id ${e.id} closes events of another group: ${JSON.stringify(tentative)}`);
          }
          confirmed.push(...tentative);
          tentative = [];
          lastId = e.id;
        }
      }
    };
    if (final) {
      try {
        await s.waitFor(() => (handle(), ready), { what: 'the final ready', timeoutMs: 30000 });
      } catch (e) {
        problems.push(e.message);
      }
      s.close();
      break;
    }
    const dropAfterEvents = slow ? random.int(200, 2000) : random.int(1, 400);
    // Short enough that every subscriber drops several times while the writes run (about a
    // second on a fast machine).
    const timer = setTimeout(() => s.close(), slow ? random.int(100, 500) : random.int(5, 400));
    if (slow) {
      // A slow consumer: stops reading for a while, so unsent bytes pile up on the server.
      setTimeout(
        () => {
          s.res?.pause();
          setTimeout(() => s.res?.resume(), random.int(50, 400));
        },
        random.int(0, 100),
      );
    }
    try {
      await s.waitFor(() => (handle(), handled >= dropAfterEvents), {
        what: `${dropAfterEvents} events`,
        timeoutMs: 60000,
      });
    } catch {
      // closed by the timer
    }
    clearTimeout(timer);
    s.close();
    handle();
    // What came after the last id is replayed on the next connection.
  }
  return { want, confirmed, problems, connections, refused, nodes: nodesUsed.size };
}

