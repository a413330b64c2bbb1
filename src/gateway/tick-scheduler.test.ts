import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickScheduler, type Tickable } from './tick-scheduler.ts';
import { ManualClock, type Clock, type Timer } from '../util/clock.ts';

interface Item extends Tickable {
  name: string;
  work: number;
}

function item(name: string): Item {
  return { name, work: 0, slot: 0, lastTickAt: Number.NEGATIVE_INFINITY, dueAt: null };
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

function setup(period = 1000, slots = 4, lateMs = 0) {
  const clock = new ManualClock();
  const runs: { at: number; names: string[] }[] = [];
  const scheduler = new TickScheduler<Item>(
    period,
    slots,
    (items, now) => {
      runs.push({ at: now, names: items.map((i) => i.name) });
      for (const i of items) i.work--;
    },
    (i) => i.work > 0,
    lateMs === 0 ? clock : lateClock(clock, lateMs),
  );
  return { clock, runs, scheduler };
}

describe('TickScheduler', () => {
  it('runs an item at most once per period while it has work', () => {
    const { clock, runs, scheduler } = setup();
    const a = item('a');
    scheduler.assignSlot(a);
    a.work = 5;
    scheduler.schedule(a);
    scheduler.schedule(a);
    clock.advanceTo(10_000);
    assert.deepEqual(
      runs.map((r) => r.at),
      [0, 1000, 2000, 3000, 4000],
    );
    assert.equal(clock.pending, 0);
  });

  it('spreads items over the period by slot and batches items of the same slot', () => {
    const { clock, runs, scheduler } = setup(1000, 4);
    const items = ['a', 'b', 'c', 'd', 'e'].map(item);
    for (const i of items) scheduler.assignSlot(i);
    clock.advanceTo(600);
    for (const i of items) {
      i.work = 1;
      scheduler.schedule(i);
    }
    clock.advanceTo(3000);
    // Slots: a,e → 0; b → 250; c → 500 (within a slot width of 600, so now); d → 750.
    assert.deepEqual(runs, [
      { at: 600, names: ['c'] },
      { at: 750, names: ['d'] },
      { at: 1000, names: ['a', 'e'] },
      { at: 1250, names: ['b'] },
    ]);
  });

  it('never ticks an item twice within one period, even when made busy right after a tick', () => {
    const { clock, runs, scheduler } = setup(50, 5);
    const a = item('a');
    scheduler.assignSlot(a);
    for (let t = 0; t < 1000; t += 7) {
      clock.advanceTo(t);
      a.work = Math.max(a.work, 1);
      scheduler.schedule(a);
    }
    clock.advanceTo(2000);
    for (let k = 1; k < runs.length; k++) {
      assert.ok((runs[k] as { at: number }).at - (runs[k - 1] as { at: number }).at >= 50);
    }
    assert.ok(runs.length >= 18, `expected about one run per period, got ${runs.length}`);
  });

  it('cancel and stop remove pending timers', () => {
    const { clock, runs, scheduler } = setup();
    const a = item('a');
    const b = item('b');
    a.work = b.work = 1;
    scheduler.schedule(a);
    scheduler.schedule(b);
    scheduler.cancel(a);
    clock.advanceTo(5000);
    assert.deepEqual(runs, [{ at: 0, names: ['b'] }]);
    b.work = 1;
    scheduler.schedule(b);
    scheduler.stop();
    clock.advanceTo(10_000);
    assert.equal(runs.length, 1);
    assert.equal(b.dueAt, null);
  });

  it('with period 0 runs on the next timer turn', () => {
    const { clock, runs, scheduler } = setup(0, 4);
    const a = item('a');
    a.work = 2;
    scheduler.schedule(a);
    clock.advanceTo(0);
    assert.equal(runs.length, 2);
  });

  it('gives every item of one key the same slot, so they tick in one batch', () => {
    const { clock, runs, scheduler } = setup(1000, 20);
    const rooms = ['1m', '5m', '15m', '1h'].flatMap((i) => [item(`BTC ${i}`), item(`ETH ${i}`)]);
    for (const r of rooms) scheduler.assignSlot(r, r.name.split(' ')[0]);
    assert.equal(new Set(rooms.filter((r) => r.name.startsWith('BTC')).map((r) => r.slot)).size, 1);
    assert.equal(new Set(rooms.filter((r) => r.name.startsWith('ETH')).map((r) => r.slot)).size, 1);
    assert.notEqual(rooms[0]?.slot, rooms[1]?.slot);
    clock.advanceTo(500);
    for (const r of rooms) {
      r.work = 1;
      scheduler.schedule(r);
    }
    clock.advanceTo(3000);
    assert.deepEqual(runs, [
      { at: 1000, names: ['BTC 1m', 'BTC 5m', 'BTC 15m', 'BTC 1h'] },
      { at: 1050, names: ['ETH 1m', 'ETH 5m', 'ETH 15m', 'ETH 1h'] },
    ]);
  });

  it('does not lose a period when its timer fires late: one tick per period over many periods', () => {
    // Every timer fires 120 ms late, more than the 50 ms slot width; data changes every 100 ms.
    const { clock, runs, scheduler } = setup(1000, 20, 120);
    const a = item('a');
    scheduler.assignSlot(a);
    for (let t = 0; t < 100_000; t += 100) {
      clock.advanceTo(t);
      a.work = 1;
      scheduler.schedule(a);
    }
    clock.advanceTo(100_000);
    // 100 periods: one tick in each (the first at once, every later one 120 ms past its grid point).
    assert.equal(runs.length, 100);
    const periods = runs.map((r) => Math.floor(r.at / 1000));
    assert.equal(new Set(periods).size, runs.length, 'never two ticks in one grid period');
    for (const r of runs.slice(1)) assert.equal(r.at % 1000, 120);
  });

  it('never ticks more than n + 1 times in n periods, with late timers and bursts of work', () => {
    const { clock, runs, scheduler } = setup(1000, 20, 120);
    const a = item('a');
    scheduler.assignSlot(a);
    for (let t = 0; t < 60_000; t += 37) {
      clock.advanceTo(t);
      a.work = 3;
      scheduler.schedule(a);
    }
    clock.advanceTo(70_000);
    const at = runs.map((r) => r.at);
    for (let i = 0; i < at.length; i++) {
      const within = at.filter((x) => x >= (at[i] as number) && x < (at[i] as number) + 5000).length;
      assert.ok(within <= 6, `at most 6 ticks in 5 periods from ${at[i]}, got ${within}`);
    }
    assert.ok(at.length >= 60, `expected one tick per period, got ${at.length}`);
  });
});
