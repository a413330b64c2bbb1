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

function setup(period = 1000, lateMs = 0, catchUp = false) {
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
    catchUp,
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

  it('catch-up: after a stall that bunched two changes, every later one leaves at once', () => {
    const { clock, runs, scheduler } = setup(1000, 0, true);
    const a = item('a');
    // On time until 2000; the changes of 3000 and 4000 arrive at 4100 and 4150 (a stall of 1.1 s); then on time.
    const times = [0, 1000, 2000, 4100, 4150, 5000, 6000, 7000, 8000];
    feed(clock, scheduler, [a], times, 10_000);
    assert.deepEqual(
      runs.map((r) => r.at),
      // 4150 waits half a period, 5000 waits for it (half a period again); from 6000 on, on time.
      [0, 1000, 2000, 4100, 4600, 5100, 6000, 7000, 8000],
    );
  });

  it('without catch-up the same stall leaves every later change late until the data pauses', () => {
    const { clock, runs, scheduler } = setup();
    const a = item('a');
    const times = [0, 1000, 2000, 4100, 4150, 5000, 6000, 7000, 8000];
    feed(clock, scheduler, [a], times, 10_000);
    assert.deepEqual(
      runs.map((r) => r.at),
      [0, 1000, 2000, 4100, 4600, 5100, 6100, 7100, 8100],
    );
  });

  it('catch-up: after a stall of almost two periods, on time again within a few periods', () => {
    const { clock, runs, scheduler } = setup(1000, 0, true);
    const a = item('a');
    // The changes of 3000 and 4000 arrive at 4900 and 4910, then on time.
    const times = [0, 1000, 2000, 4900, 4910, 5000, 6000, 7000, 8000, 9000];
    feed(clock, scheduler, [a], times, 12_000);
    const at = runs.map((r) => r.at);
    // 4910 and 5000 wait their half periods (merged into one tick: the data did change faster than the throttle
    // allows there); 6000 waits until 6400; from 7000 on, on time.
    assert.deepEqual(at, [0, 1000, 2000, 4900, 5400, 6000, 7000, 8000, 9000]);
  });

  it('catch-up: data that changes once a period with jitter and stalls waits only right after a stall', () => {
    // Seeded jitter: each change up to 300 ms late, and a stall of 0.5 to 1.9 s every 20 periods.
    const { clock, runs, scheduler } = setup(1000, 0, true);
    const a = item('a');
    let seed = 11;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const arrivals: number[] = [];
    let stallEnd = 0;
    for (let k = 1; k <= 400; k++) {
      let at = k * 1000 + Math.floor(random() * 300);
      if (k % 20 === 0) stallEnd = at + 500 + Math.floor(random() * 1400);
      at = Math.max(at, stallEnd, arrivals[arrivals.length - 1] ?? 0);
      arrivals.push(at);
    }
    let waited = 0;
    let late = 0;
    for (const t of arrivals) {
      clock.advanceTo(t);
      a.work = 1;
      scheduler.schedule(a);
      const before = runs.length;
      clock.advanceTo(t);
      if (runs.length === before) late++;
    }
    clock.advanceTo(500_000);
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i] as { at: number };
      const arrived = arrivals.filter((t) => t <= r.at).at(-1) as number;
      waited = Math.max(waited, r.at - arrived);
    }
    // Only changes arriving within half a period of the previous tick wait (after each stall), never the rest.
    assert.ok(late <= 3 * 20, `changes that waited: ${late} of 400`);
    assert.ok(waited <= 500, `longest wait ${waited} ms`);
  });

  it('catch-up: work arriving faster than once a period still leaves once a period after its first burst', () => {
    const { clock, runs, scheduler } = setup(1000, 0, true);
    const a = item('a');
    feed(
      clock,
      scheduler,
      [a],
      Array.from({ length: 100 }, (_, i) => i * 100),
      20_000,
    );
    assert.deepEqual(
      runs.map((r) => r.at),
      [0, 500, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000],
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

  it('never ticks twice within half a period, and at most n + 1 times in any n periods (n + 2 with catch-up)', () => {
    for (const [lateMs, catchUp] of [
      [0, false],
      [120, false],
      [450, false],
      [0, true],
      [120, true],
      [450, true],
    ] as const) {
      const { clock, runs, scheduler } = setup(1000, lateMs, catchUp);
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
        const most = catchUp ? 7 : 6;
        assert.ok(
          within <= most,
          `at most ${most} ticks in 5 periods from ${at[i]} (late ${lateMs}), got ${within}`,
        );
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
