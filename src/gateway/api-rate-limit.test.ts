import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { ApiRateLimiter, apiRateLimitedText } from './api-rate-limit.ts';
import { addressKey, clientKey } from './client-address.ts';

const WINDOW = 15 * 60_000;

function limiter(max = 3, trustedProxies = 0): { limiter: ApiRateLimiter; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  return {
    limiter: new ApiRateLimiter({ max, windowMs: WINDOW, trustedProxies, now: () => clock.t }),
    clock,
  };
}

/** The parts of a request the limiter reads. */
function request(remoteAddress: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
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

describe('clientKey', () => {
  it('ignores X-Forwarded-For unless proxies are trusted', () => {
    assert.equal(clientKey(request('198.51.100.7', '203.0.113.9'), 0), '198.51.100.7');
  });

  it('believes only the entries the trusted proxies wrote', () => {
    // client → proxy A → proxy B → gateway: B is the peer, and B wrote A's peer (the client) last.
    const req = request('10.0.0.2', 'spoofed-by-client, 203.0.113.9, 10.0.0.1');
    assert.equal(clientKey(req, 1), '10.0.0.1');
    assert.equal(clientKey(req, 2), '203.0.113.9');
    // More trusted proxies than entries: the furthest address known.
    assert.equal(clientKey(request('10.0.0.2'), 1), '10.0.0.2');
    assert.equal(clientKey(request('10.0.0.2', '203.0.113.9'), 3), '203.0.113.9');
    // Several header lines count as one list.
    const lines = {
      socket: { remoteAddress: '10.0.0.2' },
      headers: { 'x-forwarded-for': ['203.0.113.9', '10.0.0.1'] },
    } as unknown as IncomingMessage;
    assert.equal(clientKey(lines, 2), '203.0.113.9');
  });

  it('counts an IPv4-mapped address as IPv4 and an IPv6 address by its /64 network', () => {
    assert.equal(addressKey('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(addressKey('127.0.0.1'), '127.0.0.1');
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('64:ff9b::192.0.2.33'), '64:ff9b:0:0::/64');
    assert.equal(clientKey(request('2001:db8:1:2::7'), 0), clientKey(request('2001:db8:1:2::8'), 0));
  });
});
