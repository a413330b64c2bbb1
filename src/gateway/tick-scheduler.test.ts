import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickScheduler, type Tickable } from './tick-scheduler.ts';
import { ManualClock, type Clock, type Timer } from '../util/clock.ts';

interface Item extends Tickable {
  name: string;
  work: number;
}

function item(name: string): Item {
  return {
    name,
    work: 0,
    dueAt: null,
    paidUntil: Number.NEGATIVE_INFINITY,
    lastTickAt: Number.NEGATIVE_INFINITY,
  };
}

/** A clock whose timers all fire `lateMs` after they are due, as on a busy event loop. */
function lateClock(manual: ManualClock, lateMs: number): Clock {
  return {
    now: manual.now,
    setTimeout: (fn: () => void, ms: number): Timer => manual.setTimeout(fn, ms + lateMs),
    setInterval: (fn: () => void, ms: number): Timer => manual.setInterval(fn, ms),
    clearTimer: (t: Timer | undefined): void => manual.clearTimer(t),
  };
}

function setup(period = 1000, lateMs = 0) {
  const clock = new ManualClock();
  const runs: { at: number; names: string[] }[] = [];
  const scheduler = new TickScheduler<Item>(
    period,
    (items, now) => {
      runs.push({ at: now, names: items.map((i) => i.name) });
      for (const i of items) i.work--;
    },
    (i) => i.work > 0,
    lateMs === 0 ? clock : lateClock(clock, lateMs),
  );
  return { clock, runs, scheduler };
}

/** Gives each item one unit of work at each of `times` and runs the clock to `until`. */
function feed(
  clock: ManualClock,
  scheduler: TickScheduler<Item>,
  items: readonly Item[],
  times: Iterable<number>,
  until: number,
): void {
  for (const t of times) {
    clock.advanceTo(t);
    for (const i of items) {
      i.work = 1;
      scheduler.schedule(i);
    }
  }
  clock.advanceTo(until);
}

describe('TickScheduler', () => {
  it('ticks an idle item in the turn its work arrives (leading edge)', () => {
    const { clock, runs, scheduler } = setup();
    const a = item('a');
    a.work = 1;
    scheduler.schedule(a);
    scheduler.schedule(a);
    assert.equal(runs.length, 0, 'not inside the call: the batch of this turn runs on a zero-delay timer');
    clock.advanceTo(0);
    assert.deepEqual(runs, [{ at: 0, names: ['a'] }]);
    assert.equal(clock.pending, 0);
  });

  it('sends work arriving once a period each at once, none merged, with jitter in both directions', () => {
    const { clock, runs, scheduler } = setup();
    const a = item('a');
    // Arrivals one period apart, each up to 240 ms early or late (consecutive ones at least half a period apart) against the schedule.
    const jitter = [0, 240, -200, 240, -240, 0, 240, -200, 100, -240];
    const times = jitter.map((j, n) => 1000 + n * 1000 + j);
    feed(clock, scheduler, [a], times, 20_000);
    assert.deepEqual(
      runs.map((r) => r.at),
      times,
    );
  });

  it('a late tick costs no later one: after a 900 ms stall the next on-time work still leaves at once', () => {
    const { clock, runs, scheduler } = setup();
    const a = item('a');
    feed(clock, scheduler, [a], [0, 1000, 2900, 3000, 4000, 5000, 5950, 7000], 10_000);
    assert.deepEqual(
      runs.map((r) => r.at),
      [0, 1000, 2900, 3400, 4000, 5000, 5950, 7000],
      'only the one within half a period of the stalled tick waits',
    );
  });

  it('work arriving faster than once a period leaves once a period, newest state each time', () => {
    const { clock, runs, scheduler } = setup();
    const a = item('a');
    const times = Array.from({ length: 100 }, (_, i) => i * 100); // 10 a period for 10 periods
    feed(clock, scheduler, [a], times, 20_000);
    // The first at once, the second after half a period (the tolerance's burst), then one a period.
    assert.deepEqual(
      runs.map((r) => r.at),
      [0, 500, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000],
    );
  });

  it('never ticks twice within half a period, and at most n + 1 times in any n periods', () => {
    for (const lateMs of [0, 120, 450]) {
      const { clock, runs, scheduler } = setup(1000, lateMs);
      const a = item('a');
      for (let t = 0; t < 60_000; t += 37) {
        clock.advanceTo(t);
        a.work = 3;
        scheduler.schedule(a);
      }
      clock.advanceTo(70_000);
      const at = runs.map((r) => r.at);
      for (let i = 1; i < at.length; i++) {
        assert.ok((at[i] as number) - (at[i - 1] as number) >= 500, `gap at ${at[i]} (late ${lateMs})`);
      }
      for (let i = 0; i < at.length; i++) {
        const within = at.filter((x) => x >= (at[i] as number) && x < (at[i] as number) + 5000).length;
        assert.ok(within <= 6, `at most 6 ticks in 5 periods from ${at[i]} (late ${lateMs}), got ${within}`);
      }
      assert.ok(at.length >= 55, `expected about one tick per period (late ${lateMs}), got ${at.length}`);
    }
  });

  it('timers firing late by less than the tolerance still give one tick per period', () => {
    // Data changes every 100 ms; every timer fires 120 ms late.
    const { clock, runs, scheduler } = setup(1000, 120);
    const a = item('a');
    const times = Array.from({ length: 1000 }, (_, i) => i * 100);
    feed(clock, scheduler, [a], times, 100_000);
    assert.ok(runs.length >= 100, `expected a tick per period over 100 periods, got ${runs.length}`);
    assert.ok(runs.length <= 101, `at most n + 1 in n periods, got ${runs.length}`);
  });

  it('items made ready in one turn tick in one batch, and stay together', () => {
    const { clock, runs, scheduler } = setup();
    const btc = ['1m', '5m', '15m', '1h'].map((i) => item(`BTC ${i}`));
    const eth = ['1m', '5m'].map((i) => item(`ETH ${i}`));
    for (let n = 0; n < 3; n++) {
      clock.advanceTo(n * 1000);
      for (const i of btc) {
        i.work = 1;
        scheduler.schedule(i);
      }
      clock.advanceTo(n * 1000 + 100);
      for (const i of eth) {
        i.work = 1;
        scheduler.schedule(i);
      }
    }
    // A burst that arrives too early (within the throttle) leaves together at the allowed moment.
    clock.advanceTo(2300);
    for (const i of btc) {
      i.work = 1;
      scheduler.schedule(i);
    }
    clock.advanceTo(5000);
    const btcNames = btc.map((i) => i.name);
    const ethNames = eth.map((i) => i.name);
    assert.deepEqual(runs, [
      { at: 0, names: btcNames },
      { at: 100, names: ethNames },
      { at: 1000, names: btcNames },
      { at: 1100, names: ethNames },
      { at: 2000, names: btcNames },
      { at: 2100, names: ethNames },
      { at: 2500, names: btcNames },
    ]);
  });

  it('cancel and stop remove pending timers', () => {
    const { clock, runs, scheduler } = setup();
    const a = item('a');
    const b = item('b');
    a.work = b.work = 1;
    scheduler.schedule(a);
    scheduler.schedule(b);
    scheduler.cancel(a);
    clock.advanceTo(0);
    assert.deepEqual(runs, [{ at: 0, names: ['b'] }]);
    b.work = 1;
    scheduler.schedule(b);
    assert.equal(b.dueAt, 500);
    scheduler.cancel(b);
    assert.equal(clock.pending, 0);
    b.work = 1;
    scheduler.schedule(b);
    a.work = 1;
    scheduler.schedule(a);
    scheduler.stop();
    clock.advanceTo(10_000);
    assert.equal(runs.length, 1);
    assert.equal(b.dueAt, null);
    assert.equal(a.dueAt, null);
    assert.equal(clock.pending, 0);
  });

  it('with period 0 runs on the next timer turn', () => {
    const { clock, runs, scheduler } = setup(0);
    const a = item('a');
    a.work = 2;
    scheduler.schedule(a);
    clock.advanceTo(0);
    assert.equal(runs.length, 2);
  });
});
