import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { serviceSkip, testRedisPrefix, TEST_REDIS_URL } from '../../test/support/services.ts';
import { startProxyFor, viaProxy, type TcpProxy } from '../../test/support/tcp-proxy.ts';
import { ApiRateLimiter } from '../gateway/api-rate-limit.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { openRedisRateWindows, type RedisRateWindows } from './redis-rate-windows.ts';

const WINDOW = 15 * 60_000;

describe('RedisRateWindows: one /api/ limit for every gateway', { skip: await serviceSkip('redis') }, () => {
  const closing: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closing.reverse()) await close();
  });

  async function windows(prefix: string, url = TEST_REDIS_URL): Promise<RedisRateWindows> {
    const opened = await openRedisRateWindows({ url, prefix, logger: silentLogger() });
    closing.push(() => opened.close());
    return opened;
  }

  /** A gateway's limiter counting in `shared`, on `clock`; its outage reports recorded. */
  function gateway(shared: RedisRateWindows, clock: ManualClock, max = 3) {
    const told: boolean[] = [];
    const limiter = new ApiRateLimiter({
      max,
      windowMs: WINDOW,
      trustedProxies: 0,
      now: () => clock.now(),
      shared,
      onShared: (up) => told.push(up),
    });
    return { limiter, told };
  }

  it('counts a client once across gateways: its requests to both add up to one limit', async () => {
    const prefix = testRedisPrefix();
    const clock = new ManualClock(1_700_000_000_000);
    const a = gateway(await windows(prefix), clock);
    const b = gateway(await windows(prefix), clock);
    const start = clock.now();
    assert.deepEqual(await a.limiter.count('198.51.100.7'), {
      allowed: true,
      limit: 3,
      remaining: 2,
      resetAt: start + WINDOW,
    });
    clock.advance(1000);
    assert.equal((await b.limiter.count('198.51.100.7')).remaining, 1);
    assert.equal((await a.limiter.count('198.51.100.7')).remaining, 0);
    assert.deepEqual(await b.limiter.count('198.51.100.7'), {
      allowed: false,
      limit: 3,
      remaining: 0,
      resetAt: start + WINDOW,
    });
    assert.equal((await a.limiter.count('198.51.100.7')).allowed, false);
    // Another client has its own window; nothing was counted in either process's memory.
    assert.equal((await b.limiter.count('198.51.100.8')).remaining, 2);
    assert.equal(a.limiter.size + b.limiter.size, 0);
    assert.deepEqual([...a.told, ...b.told], []);
  });

  it('starts and ends windows on the gateways’ clock, and lets Redis forget them after a window', async () => {
    const prefix = testRedisPrefix();
    const clock = new ManualClock(1_700_000_000_000);
    const a = gateway(await windows(prefix), clock, 1);
    const start = clock.now();
    assert.equal((await a.limiter.count('client')).allowed, true);
    assert.equal((await a.limiter.count('client')).allowed, false);
    clock.advance(WINDOW - 1);
    assert.equal((await a.limiter.count('client')).allowed, false);
    clock.advance(1);
    assert.deepEqual(await a.limiter.count('client'), {
      allowed: true,
      limit: 1,
      remaining: 0,
      resetAt: start + 2 * WINDOW,
    });
    const raw = new Redis(TEST_REDIS_URL);
    closing.push(async () => {
      raw.disconnect();
    });
    const ttl = await raw.pttl(`${prefix}api-rate:client`);
    assert.ok(ttl > 0 && ttl <= WINDOW, `expiry ${ttl} ms`);
  });

  it('counts in memory while Redis is unreachable, says so once, and shares again once it is back', async () => {
    const prefix = testRedisPrefix();
    const proxy: TcpProxy = await startProxyFor(TEST_REDIS_URL);
    closing.push(() => proxy.close());
    const clock = new ManualClock(1_700_000_000_000);
    const viaCut = await windows(prefix, viaProxy(TEST_REDIS_URL, proxy.port));
    const a = gateway(viaCut, clock, 2);
    const b = gateway(await windows(prefix), clock, 2);
    assert.equal((await a.limiter.count('client')).remaining, 1);

    proxy.cut();
    // Nothing goes unlimited: this gateway counts the client in its own memory meanwhile.
    assert.equal((await a.limiter.count('client')).remaining, 1);
    assert.equal((await a.limiter.count('client')).remaining, 0);
    assert.equal((await a.limiter.count('client')).allowed, false);
    assert.deepEqual(a.told, [false], 'the outage is told once');
    assert.equal(a.limiter.size, 1);

    proxy.restore();
    await viaCut.untilReady(10_000);
    // Back in Redis: the shared window still holds the one request counted there before the cut.
    assert.equal((await a.limiter.count('client')).remaining, 0);
    assert.deepEqual(a.told, [false, true]);
    assert.equal((await b.limiter.count('client')).allowed, false);
  });

  it('refuses to start without Redis', async () => {
    const proxy = await startProxyFor(TEST_REDIS_URL);
    proxy.cut();
    closing.push(() => proxy.close());
    await assert.rejects(
      openRedisRateWindows({
        url: viaProxy(TEST_REDIS_URL, proxy.port),
        prefix: testRedisPrefix(),
        logger: silentLogger(),
        connectTimeoutMs: 300,
      }),
      /not ready within 300 ms/,
    );
  });
});
