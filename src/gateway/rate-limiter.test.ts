import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../util/clock.ts';
import { LoopStalls } from './loop-stalls.ts';
import { RateLimiter, type RateVerdict } from './rate-limiter.ts';

/** Verdicts of `count` messages read at the clock's current time, as a server reads frames bunched by a stall. */
function bunch(limiter: RateLimiter, stalls: LoopStalls, clock: ManualClock, count: number): RateVerdict[] {
  return Array.from({ length: count }, () => limiter.hit(clock.now(), stalls.recentStallMs(clock.now())));
}

describe('RateLimiter', () => {
  it('allows a burst of max, limits once, ignores, then reports flooding past twice the max', () => {
    const limiter = new RateLimiter(3);
    const verdicts = Array.from({ length: 8 }, () => limiter.hit(100));
    assert.deepEqual(verdicts, ['ok', 'ok', 'ok', 'limited', 'ignored', 'ignored', 'flooding', 'flooding']);
  });

  it('refills at max per second', () => {
    const limiter = new RateLimiter(1);
    assert.equal(limiter.hit(0), 'ok');
    assert.equal(limiter.hit(999), 'limited');
    assert.equal(limiter.hit(1000), 'ok', 'a refused message spends no token');
    assert.equal(limiter.hit(2000), 'ok');
  });

  it('lets a client send at the limit forever, and closes one that keeps sending three times the limit', () => {
    const honest = new RateLimiter(10);
    for (let t = 0; t < 60_000; t += 100) assert.equal(honest.hit(t), 'ok', `at ${t} ms`);
    const flood = new RateLimiter(10);
    const verdicts: RateVerdict[] = [];
    for (let t = 0; t < 3000 && !verdicts.includes('flooding'); t += 33) verdicts.push(flood.hit(t));
    assert.ok(verdicts.includes('limited'));
    assert.equal(verdicts.at(-1), 'flooding');
  });

  it('answers RATE_LIMITED at most once a second while a client stays over the limit', () => {
    const limiter = new RateLimiter(10);
    const limited: number[] = [];
    // Twice the limit: the burst lasts about a second, then every other message is refused; none closes.
    for (let t = 0; t < 4000; t += 50) {
      const verdict = limiter.hit(t);
      assert.notEqual(verdict, 'flooding');
      if (verdict === 'limited') limited.push(t);
    }
    assert.deepEqual(limited, [950, 1950, 2950, 3950]);
    for (let i = 1; i < limited.length; i++) assert.ok(limited[i]! - limited[i - 1]! >= 1000);
  });

  describe('after a server stall (LoopStalls on the injected clock)', () => {
    const MAX = 10;

    it('does not close a client whose frames, sent within the limit during a 4 s stall, are read together', () => {
      const clock = new ManualClock(1_000_000);
      const stalls = new LoopStalls(clock);
      const limiter = new RateLimiter(MAX);
      clock.advance(500);
      assert.equal(limiter.hit(clock.now(), stalls.recentStallMs(clock.now())), 'ok');
      // The loop is blocked for 4 s: no timer runs, and the 40 frames sent meanwhile (10/s) wait in the socket.
      clock.time += 4000;
      assert.ok(bunch(limiter, stalls, clock, 40).every((v) => v === 'ok'));
      // The late check runs, then the rest of the bunch is read.
      clock.advance(0);
      assert.ok(bunch(limiter, stalls, clock, 2).every((v) => v === 'ok'));
      // Back to normal: the client keeps its pace and is never refused.
      for (let i = 0; i < 30; i++) {
        clock.advance(100);
        assert.equal(limiter.hit(clock.now(), stalls.recentStallMs(clock.now())), 'ok');
      }
      stalls.stop();
    });

    it('without the stall credit, the same bunch would be refused and closed', () => {
      const limiter = new RateLimiter(MAX);
      const verdicts = Array.from({ length: 40 }, () => limiter.hit(5000));
      assert.equal(verdicts.filter((v) => v === 'ok').length, MAX);
      assert.equal(verdicts.at(-1), 'flooding');
    });

    it('still closes a flood read after a stall', () => {
      const clock = new ManualClock(1_000_000);
      const stalls = new LoopStalls(clock);
      const limiter = new RateLimiter(MAX);
      clock.time += 4000;
      const verdicts = bunch(limiter, stalls, clock, 400);
      // The burst plus 4 s at the limit pass; the rest of a flood 10 times the limit does not.
      assert.equal(verdicts.filter((v) => v === 'ok').length, MAX + 39);
      assert.equal(verdicts.at(-1), 'flooding');
      stalls.stop();
    });

    it('forgets a stall a second after it ended: the burst is one second of messages again', () => {
      const clock = new ManualClock(1_000_000);
      const stalls = new LoopStalls(clock);
      const limiter = new RateLimiter(MAX);
      clock.time += 4000;
      clock.advance(0);
      assert.equal(stalls.recentStallMs(clock.now()), 3900);
      clock.advance(1100);
      assert.equal(stalls.recentStallMs(clock.now()), 0);
      const verdicts = bunch(limiter, stalls, clock, 3 * MAX);
      assert.equal(verdicts.filter((v) => v === 'ok').length, MAX);
      stalls.stop();
    });
  });
});
