import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnBudget } from '../util/turn-budget.ts';
import { checkPhasesDuring } from '../util/turn-budget.test-support.ts';
import { releaseCorked } from './tick-writes.ts';

/** Clients whose release takes 1 ms of the budget's time each, recording the order they were released in. */
function clients(count: number, time: { now: number }, released: number[]): { uncork(): void }[] {
  return Array.from({ length: count }, (_, i) => ({
    uncork: () => {
      released.push(i);
      time.now += 1;
    },
  }));
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('releaseCorked', () => {
  it('releases a tick of few clients at once', () => {
    const time = { now: 0 };
    const released: number[] = [];
    releaseCorked({}, clients(20, time, released), new TurnBudget({ budgetMs: 10, now: () => time.now }));
    assert.deepEqual(released, range(20));
  });

  it('releases a tick of many clients each once and in order, over later turns once the budget is spent', async () => {
    const time = { now: 0 };
    const released: number[] = [];
    const turns = new TurnBudget({ budgetMs: 10, now: () => time.now });
    const { phases } = await checkPhasesDuring(async () => {
      releaseCorked({}, clients(100, time, released), turns);
      // The first slice (32 clients, 32 ms of this budget's time) at once; the others wait for later turns.
      assert.deepEqual(released, range(32));
      while (released.length < 100) await new Promise((resolve) => setImmediate(resolve));
    });
    assert.deepEqual(released, range(100));
    assert.ok(phases >= 3, `the other slices ran in turns of their own (${phases} check phases)`);
  });
});
