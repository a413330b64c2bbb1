import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from './rate-limiter.ts';

describe('RateLimiter', () => {
  it('allows max per window, limits once, ignores, then reports flooding past twice the max', () => {
    const limiter = new RateLimiter(3);
    const verdicts = Array.from({ length: 8 }, () => limiter.hit(100));
    assert.deepEqual(verdicts, ['ok', 'ok', 'ok', 'limited', 'ignored', 'ignored', 'flooding', 'flooding']);
  });

  it('starts a fresh window after one second', () => {
    const limiter = new RateLimiter(1);
    assert.equal(limiter.hit(0), 'ok');
    assert.equal(limiter.hit(999), 'limited');
    assert.equal(limiter.hit(1000), 'ok');
  });
});
