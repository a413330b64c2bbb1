import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, systemClock } from './clock.ts';

test('ManualClock fires timeouts in time order, each at its own due time', () => {
  const clock = new ManualClock(1_000);
  const seen: string[] = [];
  clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
  clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
  clock.setTimeout(() => seen.push(`c@${clock.now()}`), 30);
  clock.advance(25);
  assert.deepEqual(seen, ['a@1010', 'b@1020']);
  assert.equal(clock.now(), 1_025);
  assert.equal(clock.pending, 1);
});

test('ManualClock repeats an interval once per period passed until cleared', () => {
  const clock = new ManualClock(0);
  const at: number[] = [];
  const timer = clock.setInterval(() => at.push(clock.now()), 100);
  clock.advance(350);
  assert.deepEqual(at, [100, 200, 300]);
  clock.clearTimer(timer);
  clock.advance(1_000);
  assert.deepEqual(at, [100, 200, 300]);
  assert.equal(clock.pending, 0);
});

test('ManualClock: a timer set by a firing timer fires in the same advance when due', () => {
  const clock = new ManualClock(0);
  const at: number[] = [];
  clock.setTimeout(() => {
    at.push(clock.now());
    clock.setTimeout(() => at.push(clock.now()), 5);
  }, 5);
  clock.advance(10);
  assert.deepEqual(at, [5, 10]);
});

test('ManualClock: a cleared timeout never fires', () => {
  const clock = new ManualClock(0);
  let fired = false;
  const timer = clock.setTimeout(() => (fired = true), 5);
  clock.clearTimer(timer);
  clock.clearTimer(undefined);
  clock.advance(10);
  assert.equal(fired, false);
});

test('systemClock fires a real timeout and clears one', async () => {
  let cleared = false;
  const never = systemClock.setTimeout(() => (cleared = true), 1);
  systemClock.clearTimer(never);
  const before = systemClock.now();
  await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 5));
  assert.ok(systemClock.now() >= before);
  assert.equal(cleared, false);
});

test('ManualClock.block: the backlog runs first at the end of the block, then every timer due, late', () => {
  const clock = new ManualClock(0);
  const seen: string[] = [];
  clock.setTimeout(() => seen.push(`timeout@${clock.now()}`), 300);
  clock.setInterval(() => seen.push(`interval@${clock.now()}`), 100);
  clock.block(1_000, () => {
    seen.push(`backlog@${clock.now()}`);
    clock.setTimeout(() => seen.push(`set-in-backlog@${clock.now()}`), 0);
  });
  assert.deepEqual(seen, ['backlog@1000', 'timeout@1000', 'interval@1000', 'set-in-backlog@1000']);
  clock.advance(100);
  assert.deepEqual(seen.slice(4), ['interval@1100'], 'the interval goes on from the end of the block');
});
