import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiRateLimiter, apiRateLimitedText } from './api-rate-limit.ts';

const WINDOW = 15 * 60_000;

function limiter(max = 3, trustedProxies = 0): { limiter: ApiRateLimiter; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  return {
    limiter: new ApiRateLimiter({ max, windowMs: WINDOW, trustedProxies, now: () => clock.t }),
    clock,
  };
}

describe('ApiRateLimiter', () => {
  it('allows max requests per client in a window, then refuses until the window ends', () => {
    const { limiter: l, clock } = limiter(3);
    const start = clock.t;
    assert.deepEqual(l.hit('a'), { allowed: true, limit: 3, remaining: 2, resetAt: start + WINDOW });
    clock.t += 1000;
    assert.equal(l.hit('a').remaining, 1);
    assert.equal(l.hit('a').remaining, 0);
    const refused = l.hit('a');
    assert.deepEqual(refused, { allowed: false, limit: 3, remaining: 0, resetAt: start + WINDOW });
    assert.equal(l.hit('a').allowed, false);
    // Another client has its own count.
    assert.equal(l.hit('b').allowed, true);
    clock.t = start + WINDOW - 1;
    assert.equal(l.hit('a').allowed, false);
    clock.t = start + WINDOW;
    assert.deepEqual(l.hit('a'), { allowed: true, limit: 3, remaining: 2, resetAt: start + 2 * WINDOW });
  });

  it('forgets clients whose window has ended, so memory holds only the current windows', () => {
    const { limiter: l, clock } = limiter(3);
    for (let i = 0; i < 1000; i++) {
      l.hit(`10.0.${i >> 8}.${i & 255}`);
      clock.t += 10;
    }
    assert.equal(l.size, 1000);
    clock.t += WINDOW;
    l.hit('192.0.2.1');
    assert.equal(l.size, 1);
  });

  it('drops only the expired windows: a client seen again keeps its place', () => {
    const { limiter: l, clock } = limiter(3);
    l.hit('early');
    clock.t += WINDOW / 2;
    l.hit('late');
    clock.t += WINDOW / 2;
    l.hit('late');
    assert.equal(l.size, 1, 'early expired, late is in its window');
    assert.equal(l.hit('late').remaining, 0);
  });

  it('rejects a limit or window that is not a positive integer', () => {
    assert.throws(() => new ApiRateLimiter({ max: 0, windowMs: 1000, trustedProxies: 0, now: Date.now }));
    assert.throws(() => new ApiRateLimiter({ max: 1, windowMs: 0.5, trustedProxies: 0, now: Date.now }));
  });

  it('words the 429 message with the limit, the window and the wait', () => {
    assert.equal(
      apiRateLimitedText(100, WINDOW, 840),
      'Too many requests: at most 100 per 15 minutes to /api/. Retry after 840 s.',
    );
    assert.equal(
      apiRateLimitedText(1, 1000, 1),
      'Too many requests: at most 1 per 1 second to /api/. Retry after 1 s.',
    );
    assert.equal(
      apiRateLimitedText(5, 3_600_000, 2),
      'Too many requests: at most 5 per 1 hour to /api/. Retry after 2 s.',
    );
  });
});
