import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickScheduler, type Tickable } from './tick-scheduler.ts';
import { ManualClock } from '../util/clock.ts';

interface Item extends Tickable {
  name: string;
  work: number;
}

function item(name: string): Item {
  return { name, work: 0, slot: 0, lastTickAt: Number.NEGATIVE_INFINITY, dueAt: null };
}

function setup(period = 1000, slots = 4) {
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
    clock,
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
});
