import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../util/clock.ts';
import { sharedIntervals } from './shared-intervals.ts';

describe('sharedIntervals', () => {
  it('runs the intervals of one period on one underlying timer, in the order they joined', () => {
    const clock = new ManualClock(0);
    const shared = sharedIntervals(clock);
    const calls: string[] = [];
    shared.setInterval(() => calls.push(`a@${clock.now()}`), 100);
    clock.advance(30);
    shared.setInterval(() => calls.push(`b@${clock.now()}`), 100);
    shared.setInterval(() => calls.push(`slow@${clock.now()}`), 250);
    assert.equal(clock.pending, 2, 'one timer per period');
    clock.advance(270);
    assert.deepEqual(calls, ['a@100', 'b@100', 'a@200', 'b@200', 'slow@280', 'a@300', 'b@300']);
  });

  it('stops a member on clearTimer (also from a callback) and the shared timer with the last one', () => {
    const clock = new ManualClock(0);
    const shared = sharedIntervals(clock);
    const calls: string[] = [];
    const b = shared.setInterval(() => calls.push('b'), 100);
    const a = shared.setInterval(() => {
      calls.push('a');
      shared.clearTimer(b);
    }, 100);
    clock.advance(100);
    clock.advance(100);
    assert.deepEqual(calls, ['b', 'a', 'a']);
    shared.clearTimer(a);
    assert.equal(clock.pending, 0);
    clock.advance(500);
    assert.deepEqual(calls, ['b', 'a', 'a']);
    const c = shared.setInterval(() => calls.push('c'), 100);
    clock.advance(100);
    assert.deepEqual(calls, ['b', 'a', 'a', 'c'], 'a new member after the last left starts a new timer');
    shared.clearTimer(c);
  });

  it('passes timeouts and the time to the underlying clock', () => {
    const clock = new ManualClock(5);
    const shared = sharedIntervals(clock);
    let fired = 0;
    const t = shared.setTimeout(() => fired++, 10);
    shared.setTimeout(() => fired++, 10);
    shared.clearTimer(t);
    clock.advance(10);
    assert.equal(fired, 1);
    assert.equal(shared.now(), 15);
  });
});
