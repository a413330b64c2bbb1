import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HistoryRefill } from './history-refill.ts';

const RETRY = { minMs: 2, maxMs: 10 };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
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
    const failures: number[] = [];
    const refill = new HistoryRefill<string>(RETRY, (_err, attempt) => failures.push(attempt));
    const { state, waiter } = harness();
    refill.add('a', waiter(0));
    refill.add('b', waiter(1));
    refill.add('c', waiter(2));
    await waitFor(() => failures.length >= 3, 'three failed probes');
    assert.deepEqual(failures.slice(0, 3), [1, 2, 3], 'attempts count up (the delay doubles)');
    assert.deepEqual(state.probes.slice(1), [0, 0], 'only the longest-waiting subscription is probed');
    assert.deepEqual(state.refills, [0, 0, 0]);

    state.up = true;
    await waitFor(() => state.refills.every((n) => n === 1), 'every waiter refilled');
    assert.equal(refill.size, 0);
    const probes = state.probes[0];
    await sleep(RETRY.maxMs * 5);
    assert.equal(state.probes[0], probes, 'no probe once nobody waits');
    assert.deepEqual(state.refills, [1, 1, 1], 'each refilled once');
  });

  it('stops probing when the last waiter is removed, and for good on stop', async () => {
    const refill = new HistoryRefill<string>(RETRY);
    const { state, waiter } = harness();
    refill.add('a', waiter(0));
    await waitFor(() => state.probes[0]! >= 2, 'probes');
    refill.remove('a');
    await sleep(RETRY.maxMs * 2);
    const probes = state.probes[0];
    await sleep(RETRY.maxMs * 5);
    assert.equal(state.probes[0], probes, 'removed: no more probes');

    refill.add('b', waiter(1));
    await waitFor(() => state.probes[1]! >= 1, 'a new wait probes again');
    refill.stop();
    refill.add('c', waiter(2));
    state.up = true;
    await sleep(RETRY.maxMs * 5);
    assert.deepEqual(state.refills, [0, 0, 0], 'nothing is refilled after stop');
    assert.equal(refill.size, 0);
  });

  it('rejects a schedule that cannot work', () => {
    assert.throws(() => new HistoryRefill({ minMs: 0 }), RangeError);
    assert.throws(() => new HistoryRefill({ minMs: 100, maxMs: 10 }), RangeError);
  });
});
