import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { startGateway, type Gateway } from '../../src/gateway/gateway.ts';
import { MemoryCandleStore } from '../../src/store/memory-candle-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { testConfig } from './helpers.ts';

/** A real gateway whose clock the test moves. */
async function start(limits: Parameters<typeof testConfig>[0] = {}): Promise<{
  gateway: Gateway;
  http: string;
  clock: ManualClock;
}> {
  const clock = new ManualClock(Date.UTC(2024, 9, 24, 10, 0));
  const gateway = await startGateway({
    config: testConfig(limits),
    bus: new MemoryBus(),
    store: new MemoryCandleStore(),
    logger: silentLogger(),
    clock,
  });
  return { gateway, http: gateway.url.replace(/^ws/, 'http'), clock };
}

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

function rateHeaders(a: Answer): Record<string, string | null> {
  return {
    policy: a.headers.get('ratelimit-policy'),
    limit: a.headers.get('ratelimit-limit'),
    remaining: a.headers.get('ratelimit-remaining'),
    reset: a.headers.get('ratelimit-reset'),
  };
}

describe('gateway: rate limit of /api/ (default 100 requests per 15 minutes per client address)', () => {
  let t: Awaited<ReturnType<typeof start>>;
  before(async () => {
    t = await start();
  });
  after(() => t.gateway.close());

  it('puts the RateLimit headers on every /api/ answer, whatever its status', async () => {
    const answers = [
      await request(`${t.http}/api/candles?symbol=BTC/USDT&interval=1m`),
      await request(`${t.http}/api/candles?symbol=NOPE/USDT&interval=1m`),
      await request(`${t.http}/api/candles?symbol=BTC/USDT&interval=1m`, { method: 'POST' }),
      await request(`${t.http}/api/websocket/health`),
      await request(`${t.http}/api/unknown`),
    ];
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 400, 405, 503, 404],
    );
    answers.forEach((a, i) =>
      assert.deepEqual(rateHeaders(a), {
        policy: '100;w=900',
        limit: '100',
        remaining: String(99 - i),
        reset: '900',
      }),
    );
    assert.equal(answers[0]?.headers.get('retry-after'), null);
  });

  it('leaves /health and /metrics alone', async () => {
    for (const path of ['/health', '/health/ws-stats', '/metrics']) {
      const a = await request(t.http + path);
      assert.equal(a.headers.get('ratelimit-limit'), null, path);
    }
  });

  it('answers the 101st request of the window with 429, Retry-After and an API_RATE_LIMITED error', async () => {
    t.clock.advance(60_000);
    for (let i = 5; i < 100; i++) {
      const a = await request(`${t.http}/api/candles?symbol=BTC/USDT&interval=1m&limit=1`);
      assert.equal(a.status, 200, `request ${i + 1}`);
    }
    const refused = await request(`${t.http}/api/candles?symbol=BTC/USDT&interval=1m&limit=1`);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '840');
    assert.deepEqual(rateHeaders(refused), {
      policy: '100;w=900',
      limit: '100',
      remaining: '0',
      reset: '840',
    });
    assert.match(refused.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(refused.body), {
      error: {
        code: 'API_RATE_LIMITED',
        message: 'Too many requests: at most 100 per 15 minutes to /api/. Retry after 840 s.',
      },
    });
    // Every /api/ route is refused, an X-Forwarded-For is not believed (no trusted proxy), /health still answers.
    const spoofed = await request(`${t.http}/api/websocket/health`, {
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    assert.equal(spoofed.status, 429);
    assert.equal((await request(`${t.http}/health`)).status, 200);
  });

  it('serves the client again once its window has ended', async () => {
    t.clock.advance(840_000 - 1);
    const still = await request(`${t.http}/api/candles?symbol=BTC/USDT&interval=1m`);
    assert.equal(still.status, 429);
    assert.equal(still.headers.get('retry-after'), '1');
    t.clock.advance(1);
    const again = await request(`${t.http}/api/candles?symbol=BTC/USDT&interval=1m`);
    assert.equal(again.status, 200);
    assert.deepEqual(rateHeaders(again), {
      policy: '100;w=900',
      limit: '100',
      remaining: '99',
      reset: '900',
    });
  });
});

describe('gateway: rate limit behind a trusted proxy', () => {
  it('counts each address the proxy forwards for separately', async () => {
    const t = await start({ apiRateLimit: 2, apiRateLimitWindowMs: 60_000, trustedProxies: 1 });
    try {
      const from = (address: string): Promise<Answer> =>
        request(`${t.http}/api/websocket/health`, { headers: { 'x-forwarded-for': `spoofed, ${address}` } });
      assert.equal((await from('203.0.113.1')).status, 503);
      assert.equal((await from('203.0.113.1')).status, 503);
      const refused = await from('203.0.113.1');
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '60');
      const other = await from('203.0.113.2');
      assert.equal(other.status, 503);
      assert.deepEqual(rateHeaders(other), { policy: '2;w=60', limit: '2', remaining: '1', reset: '60' });
    } finally {
      await t.gateway.close();
    }
  });
});

describe('docs/PROTOCOL.md', () => {
  it('describes the /api/ rate limit, its headers and its 429', async () => {
    const text = await readFile(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    for (const word of [
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'RateLimit-Policy',
      'Retry-After',
      '429',
      'API_RATE_LIMITED',
      'gateway.apiRateLimit',
      'gateway.trustedProxies',
    ])
      assert.ok(text.includes(word), `${word} is not in PROTOCOL.md`);
  });
});
