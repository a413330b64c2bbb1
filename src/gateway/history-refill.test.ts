import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../util/clock.ts';
import { HistoryRefill } from './history-refill.ts';

const RETRY = { minMs: 2, maxMs: 10 };

/** Lets the probe's promise settle (the store answers asynchronously). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Moves the clock by `ms` one millisecond at a time, letting each probe that fires settle before going on. */
async function pass(clock: ManualClock, ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    clock.advance(1);
    await settle();
  }
}

/** Moves the clock until `check` holds (at most a minute of virtual time). */
async function until(clock: ManualClock, check: () => boolean, what: string): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 60_000) throw new Error(`${what} did not happen within a minute of clock time`);
    clock.advance(1);
    await settle();
  }
}

/** A store that fails until `up`; counts the probes each waiter was asked for. */
function harness() {
  const state = { up: false, probes: [0, 0, 0], refills: [0, 0, 0] };
  const waiter = (i: number) => ({
    probe: async () => {
      state.probes[i]!++;
      if (!state.up) throw new Error('database down');
    },
    refill: () => {
      state.refills[i]!++;
    },
  });
  return { state, waiter };
}

describe('HistoryRefill', () => {
  it('probes once per period for all waiters, and refills every one once the store answers', async () => {
    const clock = new ManualClock();
    const failures: number[] = [];
    const refill = new HistoryRefill<string>(RETRY, (_err, attempt) => failures.push(attempt), clock);
    const { state, waiter } = harness();
    refill.add('a', waiter(0));
    refill.add('b', waiter(1));
    refill.add('c', waiter(2));
    await until(clock, () => failures.length >= 3, 'three failed probes');
    assert.deepEqual(failures.slice(0, 3), [1, 2, 3], 'attempts count up (the delay doubles)');
    assert.deepEqual(state.probes.slice(1), [0, 0], 'only the longest-waiting subscription is probed');
    assert.deepEqual(state.refills, [0, 0, 0]);

    state.up = true;
    await until(clock, () => state.refills.every((n) => n === 1), 'every waiter refilled');
    assert.equal(refill.size, 0);
    const probes = state.probes[0];
    await pass(clock, RETRY.maxMs * 5);
    assert.equal(state.probes[0], probes, 'no probe once nobody waits');
    assert.deepEqual(state.refills, [1, 1, 1], 'each refilled once');
  });

  it('stops probing when the last waiter is removed, and for good on stop', async () => {
    const clock = new ManualClock();
    const refill = new HistoryRefill<string>(RETRY, undefined, clock);
    const { state, waiter } = harness();
    refill.add('a', waiter(0));
    await until(clock, () => state.probes[0]! >= 2, 'probes');
    refill.remove('a');
    await pass(clock, RETRY.maxMs * 2);
    const probes = state.probes[0];
    await pass(clock, RETRY.maxMs * 5);
    assert.equal(state.probes[0], probes, 'removed: no more probes');

    refill.add('b', waiter(1));
    await until(clock, () => state.probes[1]! >= 1, 'a new wait probes again');
    refill.stop();
    refill.add('c', waiter(2));
    state.up = true;
    await pass(clock, RETRY.maxMs * 5);
    assert.deepEqual(state.refills, [0, 0, 0], 'nothing is refilled after stop');
    assert.equal(refill.size, 0);
  });

  it('rejects a schedule that cannot work', () => {
    assert.throws(() => new HistoryRefill({ minMs: 0 }), RangeError);
    assert.throws(() => new HistoryRefill({ minMs: 100, maxMs: 10 }), RangeError);
  });
});
