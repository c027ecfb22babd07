// What a database's event log holds: read from the start (rve=0) up to `ready` on one node,
// as {rve, type} in RVE order, the sequence every subscriber of the same wants must end with.

import { logEventsOf } from './check.mjs';
import { openStream } from './sse.mjs';

export async function logOf(node, { key = node.key, want }) {
  const s = openStream(node, { key, query: `want=${want.join(',')}&rve=0` });
  try {
    const ready = await s.ready({ timeoutMs: 60000 });
    return logEventsOf(s.events.slice(0, s.events.indexOf(ready)));
  } finally {
    s.close();
  }
}
