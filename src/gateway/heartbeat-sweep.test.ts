import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../util/clock.ts';
import { HeartbeatSweep, SWEEP_EVERY_MS } from './heartbeat-sweep.ts';

interface Member {
  readonly id: number;
  alive: boolean;
  /** Answers each ping (the pong arrives before the next sweep run). */
  readonly answers: boolean;
  pings: number[];
  deadAt?: number;
}

function setUp(intervalMs: number, count: number, answers: (id: number) => boolean) {
  const clock = new ManualClock(0);
  const members: Member[] = [];
  /** How many members each sweep run pinged, by run time. */
  const perRun = new Map<number, number>();
  const sweep = new HeartbeatSweep<Member>(clock, intervalMs, {
    ping: (m) => {
      m.pings.push(clock.now());
      perRun.set(clock.now(), (perRun.get(clock.now()) ?? 0) + 1);
      // A pong: the connection marks itself alive again.
      if (m.answers) m.alive = true;
    },
    dead: (m) => {
      m.deadAt = clock.now();
    },
  });
  for (let id = 1; id <= count; id++) {
    const m: Member = { id, alive: true, answers: answers(id), pings: [] };
    members.push(m);
    sweep.add(m);
  }
  return { clock, members, perRun, sweep };
}

describe('HeartbeatSweep', () => {
  it('pings every member once per interval, a slice of them per run, never all in one turn', () => {
    const { clock, members, perRun } = setUp(30_000, 10_000, () => true);
    clock.advance(30_000);
    for (const m of members) assert.equal(m.pings.length, 1, `member ${m.id} pinged once`);
    assert.equal(perRun.size, 30_000 / SWEEP_EVERY_MS, 'a run every 100 ms');
    assert.ok(Math.max(...perRun.values()) <= Math.ceil(10_000 / 300), 'a run pings a 300th of them');
    clock.advance(60_000);
    for (const m of members) {
      assert.equal(m.pings.length, 3);
      assert.deepEqual(
        [m.pings[1]! - m.pings[0]!, m.pings[2]! - m.pings[1]!],
        [30_000, 30_000],
        'each member at its own phase, one interval apart',
      );
      assert.equal(m.deadAt, undefined);
    }
  });

  it('cuts off a member that did not answer its previous ping, one interval after it', () => {
    const { clock, members } = setUp(1000, 25, (id) => id % 5 !== 0);
    clock.advance(1000);
    for (const m of members) assert.equal(m.pings.length, 1);
    clock.advance(1000);
    for (const m of members) {
      if (m.answers) {
        assert.equal(m.deadAt, undefined);
        assert.equal(m.pings.length, 2);
      } else {
        assert.equal(m.deadAt, m.pings[0]! + 1000, `member ${m.id} dead at its next visit`);
        assert.equal(m.pings.length, 1);
      }
    }
    // A dead member is out of the sweep: it is neither pinged nor reported again.
    clock.advance(3000);
    for (const m of members) assert.equal(m.pings.length, m.answers ? 5 : 1);
  });

  it('forgets a member that left, and stops', () => {
    const { clock, members, sweep } = setUp(1000, 10, () => true);
    sweep.delete(members[0]!);
    clock.advance(1000);
    assert.deepEqual(members[0]!.pings, []);
    assert.equal(clock.pending, 1, 'one timer for the whole sweep');
    sweep.stop();
    assert.equal(clock.pending, 0);
    clock.advance(5000);
    assert.equal(members[1]!.pings.length, 1);
  });

  it('an interval shorter than a run is one slot: everyone at once, as before', () => {
    const { clock, members } = setUp(100, 3, (id) => id !== 2);
    clock.advance(100);
    clock.advance(100);
    assert.deepEqual(
      members.map((m) => m.deadAt),
      [undefined, 200, undefined],
    );
  });
});
