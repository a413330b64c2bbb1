import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../util/clock.ts';
import { PingWatch } from './ping-watch.ts';

function watch(clock: ManualClock, intervalMs = 15_000, timeoutMs = 10_000) {
  const events: string[] = [];
  const ping = new PingWatch({
    clock: {
      now: clock.now,
      setTimeout: (callback, ms) => clock.setTimeout(callback, ms),
      clearTimeout: (handle) => clock.clearTimer(handle as ReturnType<typeof clock.setTimeout>),
    },
    intervalMs,
    timeoutMs,
    sendPing: () => events.push(`ping ${clock.now()}`),
    dead: () => events.push(`dead ${clock.now()}`),
  });
  return { ping, events };
}

describe('ping watch', () => {
  it('pings every interval and stays quiet while messages answer', () => {
    const clock = new ManualClock(0);
    const { ping, events } = watch(clock);
    ping.start();
    for (let i = 0; i < 3; i++) {
      clock.advance(15_000);
      ping.heard();
    }
    clock.advance(9_999);
    assert.deepEqual(events, ['ping 15000', 'ping 30000', 'ping 45000']);
  });

  it('declares the path dead when nothing arrives within the timeout after a ping, once', () => {
    const clock = new ManualClock(0);
    const { ping, events } = watch(clock);
    ping.start();
    clock.advance(15_000 + 9_999);
    assert.deepEqual(events, ['ping 15000']);
    clock.advance(1);
    assert.deepEqual(events, ['ping 15000', 'dead 25000']);
    clock.advance(60_000);
    assert.equal(events.length, 2, 'stopped once dead');
  });

  it('runs the deadline from the first unanswered ping when the timeout is longer than the interval', () => {
    const clock = new ManualClock(0);
    const { ping, events } = watch(clock, 1000, 2500);
    ping.start();
    clock.advance(4000);
    assert.deepEqual(events, ['ping 1000', 'ping 2000', 'ping 3000', 'dead 3500']);
  });
});
