// The JS client's duplicate rule (clients/js/posfeed.js DuplicateFilter, the rule the C++
// client implements too), RVE comparison and packet parsing, as tables. No server needed.
//
// A step is '|' (a new connection: the resumed stream) or '<+|-><type> <n>[#]': '+' the event
// must be delivered, '-' dropped; <n> stands for the RVE 20240101.00000000<n> (in the packet);
// '#' marks the event that carries `id: <that RVE>` (the last of its transaction group).
// Types ready, reset and debug are not log events.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { compareRve, DuplicateFilter, parsePacket, rveInPacket } from '../../clients/js/posfeed.js';

const rve = (n) => `20240101.${String(n).padStart(9, '0')}`;

const CASES = [
  {
    name: 'complete groups, no connection cut: everything delivered once',
    steps: ['+sales 1', '+levels 1#', '+products 2#', '+sales 3', '+levels 3#'],
    lastId: 3,
  },
  {
    name: 'a cut after the first event of a group: the replayed first event is dropped',
    steps: ['+products 1#', '+sales 2', '|', '-sales 2', '+levels 2#', '+products 3#'],
    lastId: 3,
  },
  {
    name: 'a group of three cut after two events',
    steps: ['+sales 2', '+levels 2', '|', '-sales 2', '-levels 2', '+sale 2#'],
    lastId: 2,
  },
  {
    name: 'cut again inside the replay of the same group: seen counts per connection',
    steps: ['+sales 2', '|', '-sales 2', '|', '-sales 2', '+levels 2', '|', '-sales 2', '-levels 2', '+sale 2#'],
    lastId: 2,
  },
  {
    name: 'duplicates after a reconnect: events at or before lastId are dropped',
    steps: ['+products 1#', '+sales 2', '+levels 2#', '|', '-sales 2', '-levels 2#', '+products 4#'],
    lastId: 4,
  },
  {
    name: 'a dropped event with an id changes nothing: the partial group stays',
    initial: { lastId: 5, partial: { rve: rve(6), delivered: 1 } },
    steps: ['-products 5#', '-sales 6', '+levels 6#'],
    lastId: 6,
  },
  {
    // No conforming server sends an id older than the Last-Event-ID it was given, but a new
    // shared-mode leader that missed messages can: lastId must not move back, or the groups
    // after it would be delivered again.
    name: 'a dropped older id never moves lastId back',
    initial: { lastId: 3 },
    steps: ['-products 2#', '-levels 3#', '+products 4#'],
    lastId: 4,
  },
  {
    name: 'reset cursor_ahead: lastId is forgotten, the lower RVEs of the snapshot are delivered',
    initial: { lastId: 9 },
    steps: ['|', '+reset 0', '+products 3', '+products 4', '+levels 2', '+levels 5#', '+ready 5', '+products 6#'],
    lastId: 6,
  },
  {
    name: 'reset history_expired: the catch-up is delivered even where it repeats the partial group',
    initial: { lastId: 2, partial: { rve: rve(3), delivered: 1 } },
    steps: ['|', '+reset 0', '+sales 3', '+levels 3#', '+ready 3'],
    lastId: 3,
  },
  {
    name: 'a live start: ready becomes the resume point, a cut before the first id loses nothing',
    steps: ['+ready 4', '|', '+products 5#'],
    lastId: 5,
    lastIdAfter: { 0: 4 },
  },
  {
    name: 'snapshot packets: no id but the last one; each packet is its own partial group',
    steps: ['+products 1', '+products 4', '+customers 2', '+levels 3', '+levels 7#', '+ready 7', '+products 8#'],
    lastId: 8,
  },
  {
    name: 'snapshot packets sharing their first RVE are all delivered on one connection',
    steps: ['+products 4', '+products 4', '+products 4', '+levels 6#'],
    lastId: 6,
  },
  {
    name: 'a snapshot cut before its id starts over and is delivered again (it is state, not a change)',
    steps: ['+products 1', '+products 4', '|', '+products 1', '+products 4', '+levels 7#', '+ready 7'],
    lastId: 7,
  },
  {
    name: 'ready, debug and reset are never dropped and never move lastId',
    initial: { lastId: 5 },
    steps: ['+ready 5', '+debug 1', '+debug 9', '-products 5#', '+ready 5'],
    lastId: 5,
  },
  {
    name: 'a resume point from persisted state with a partial group',
    initial: { lastId: 1, partial: { rve: rve(2), delivered: 2 } },
    steps: ['-sales 2', '-levels 2', '+sale 2#', '+products 3#'],
    lastId: 3,
  },
  {
    name: 'the partial group is replaced by the next group when its id never came (an unwanted type held it)',
    steps: ['+sales 2', '+products 3#', '|', '-sales 2', '-products 3#', '+products 4#'],
    lastId: 4,
  },
];

function parseStep(step) {
  const m = /^([+-])(\w+) (\d+)(#?)$/.exec(step);
  assert.ok(m, `a step: ${step}`);
  return { deliver: m[1] === '+', type: m[2], rve: rve(Number(m[3])), id: m[4] ? rve(Number(m[3])) : '' };
}

describe('DuplicateFilter: the RVE duplicate rule', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const initial = c.initial
        ? { lastId: c.initial.lastId === undefined ? null : rve(c.initial.lastId), partial: c.initial.partial ?? null }
        : {};
      const filter = new DuplicateFilter(initial);
      let source = filter.source();
      c.steps.forEach((step, i) => {
        if (step === '|') {
          source = filter.source();
          return;
        }
        const e = parseStep(step);
        // As the feed does it: the id when the event has one, else the RVE of its packet.
        const packet = `{"X":[{"RVE":${e.rve}}]}`;
        const eventRve = e.id || rveInPacket(packet);
        const got = filter.accept(source, e.type, e.id, eventRve);
        assert.equal(got, e.deliver, `step ${i} '${step}': ${e.deliver ? 'delivered' : 'dropped'} expected`);
        if (c.lastIdAfter?.[i] !== undefined) {
          assert.equal(filter.lastId, rve(c.lastIdAfter[i]), `lastId after step ${i}`);
        }
      });
      assert.equal(filter.lastId, rve(c.lastId), 'lastId at the end');
    });
  }

  test('a reset keeps the resume point until the next id (a cut during the snapshot gets the reset again)', () => {
    const f = new DuplicateFilter({ lastId: rve(9) });
    let s = f.source();
    assert.equal(f.accept(s, 'reset', '', null), true);
    assert.equal(f.accept(s, 'products', '', rve(3)), true);
    assert.equal(f.lastId, rve(9), 'still the resume point');
    assert.equal(f.dropUpTo, null, 'but nothing is compared with it');
    s = f.source(); // cut: the resumed stream resets again and sends the snapshot again
    assert.equal(f.accept(s, 'reset', '', null), true);
    assert.equal(f.accept(s, 'products', '', rve(3)), true, 'a snapshot packet is state: delivered again');
    assert.equal(f.accept(s, 'products', rve(5), rve(5)), true);
    assert.equal(f.lastId, rve(5));
    assert.equal(f.accept(s, 'products', rve(4), rve(4)), false, 'compared with the new sequence');
  });

  test('the state round-trips through JSON (persist)', () => {
    const f = new DuplicateFilter({ lastId: rve(1) });
    const s = f.source();
    f.accept(s, 'sales', '', rve(2));
    const copy = new DuplicateFilter(JSON.parse(JSON.stringify(f)));
    assert.deepEqual(copy.toJSON(), { lastId: rve(1), partial: { rve: rve(2), delivered: 1 } });
    const t = copy.source();
    assert.equal(copy.accept(t, 'sales', '', rve(2)), false);
    assert.equal(copy.accept(t, 'levels', rve(2), rve(2)), true);
  });
});

describe('compareRve', () => {
  const table = [
    ['20210727.091105994', '20210727.091105994', 0],
    ['20210727.091105994', '20210727.091105995', -1],
    ['20210727.091105995', '20210727.091105994', 1],
    ['20210727.091105990', '20210727.09110599', 0],
    ['20210727.09110599', '20210727.091105991', -1],
    ['0', '20210727.091105994', -1],
    ['20210727.091105994', '0', 1],
    ['0', '0', 0],
    ['20210728.000000000', '20210727.999999999', 1],
    ['99991231.235959999', '100000101.000000000', -1],
  ];
  for (const [a, b, want] of table) {
    test(`${a} vs ${b} is ${want}`, () => {
      assert.equal(compareRve(a, b), want);
      assert.equal(compareRve(b, a), -want || 0);
    });
  }
});

describe('packets', () => {
  test('parsePacket keeps every RVE (and a reset From) exact as a string; other numbers stay numbers', () => {
    const p = parsePacket(
      '{"Products":[{"Pid":6017,"Description":"say \\"RVE\\":1 here","Price":12.5,"RVE":20210727.091105994},{"Pid":1,"RVE":20210727.091105990}]}',
    );
    assert.deepEqual(p.Products[0], { Pid: 6017, Description: 'say "RVE":1 here', Price: 12.5, RVE: '20210727.091105994' });
    assert.equal(p.Products[1].RVE, '20210727.091105990');
    assert.deepEqual(parsePacket('{"Reset":[{"Reason":"cursor_ahead","From":20991231.235959999}]}').Reset[0], {
      Reason: 'cursor_ahead',
      From: '20991231.235959999',
    });
    assert.deepEqual(parsePacket('{"Ready":[{"RVE":0,"Want":["products"]}]}').Ready[0], { RVE: '0', Want: ['products'] });
  });

  test('a member name ending in RVE inside an escaped string does not fool the parser', () => {
    const p = parsePacket('{"Products":[{"Description":"a\\\\","RVE":20210727.091105994,"x\\"RVE":5}]}');
    assert.equal(p.Products[0].RVE, '20210727.091105994');
    assert.equal(p.Products[0]['x"RVE'], 5);
  });

  test('XML packets are not parsed; their RVE is found', () => {
    const xml = '<Products><Product><Pid>6017</Pid><RVE>20210727.091105994</RVE></Product></Products>';
    assert.equal(parsePacket(xml), null);
    assert.equal(rveInPacket(xml), '20210727.091105994');
    assert.equal(rveInPacket('{"Sales":[{"Sid":1,"RVE":20210727.091105994}]}'), '20210727.091105994');
    assert.equal(rveInPacket('{"Reset":[{"Reason":"x"}]}'), null);
    // By format: text inside a JSON value never counts as the RVE.
    assert.equal(rveInPacket('{"Products":[{"Description":"<RVE>1</RVE>","RVE":20210727.091105994}]}'), '20210727.091105994');
    assert.equal(rveInPacket('<Products><Product><Description>"RVE":1</Description><RVE>20210727.091105994</RVE></Product></Products>'), '20210727.091105994');
  });
});
