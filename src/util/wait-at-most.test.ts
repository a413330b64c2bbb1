import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from './clock.ts';
import { waitAtMost } from './wait-at-most.ts';

test('waitAtMost: true when the promise settles in time, and its timer is cleared', async () => {
  const clock = new ManualClock(0);
  assert.equal(await waitAtMost(Promise.resolve('x'), 1_000, clock), true);
  assert.equal(clock.pending, 0);
  assert.equal(await waitAtMost(undefined, 1_000, clock), true);
});

test('waitAtMost: false once the time runs out on a promise that never settles', async () => {
  const clock = new ManualClock(0);
  const waiting = waitAtMost(new Promise(() => {}), 500, clock);
  clock.advance(499);
  let done = false;
  void waiting.then(() => (done = true));
  await Promise.resolve();
  assert.equal(done, false);
  clock.advance(1);
  assert.equal(await waiting, false);
});

test('waitAtMost passes a rejection on', async () => {
  const clock = new ManualClock(0);
  await assert.rejects(waitAtMost(Promise.reject(new Error('boom')), 500, clock), /boom/);
  assert.equal(clock.pending, 0);
});
