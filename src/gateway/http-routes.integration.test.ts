import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeBar } from '../../test/gateway/helpers.ts';
import type { SourcesView } from '../protocol/source-status.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { Metrics } from '../telemetry/metrics.ts';
import { ManualClock } from '../util/clock.ts';
import { ApiRateLimiter } from './api-rate-limit.ts';
import { httpRoutes, type HttpRoutesOptions } from './http-routes.ts';

const T0 = Date.UTC(2024, 9, 24, 10, 0);
const M = 60_000;

const VIEW: SourcesView = {
  instruments: [
    {
      symbol: 'BTC/USDT',
      activeSource: 'binance',
      primary: 'binance',
      sources: [
        {
          exchange: 'binance',
          connected: true,
          latency: 3,
          lastUpdate: T0,
          messagesReceived: 5,
          errors: 0,
          healthy: true,
        },
      ],
    },
  ],
};

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

/** The routes on a plain HTTP server, port 0. */
async function serve(o: Partial<HttpRoutesOptions> = {}): Promise<{ server: Server; base: string }> {
  const clock = new ManualClock(T0 + 10 * M);
  const store = new MemoryCandleStore();
  for (let i = 0; i < 3; i++) store.put('BTC/USDT', '1m', makeBar(T0 + i * M, `${100 + i}`), ['binance']);
  const handler = httpRoutes({
    health: () => ({ status: 200, body: { status: 'ok' } }),
    wsStats: () => ({ connections: 7 }),
    sources: () => VIEW,
    metrics: undefined,
    history: {
      store,
      rules: { symbols: ['BTC/USDT'], maxBars: 100, defaultBars: 2, closeGraceMs: 5000 },
      isLoading: () => false,
    },
    apiRateLimit: new ApiRateLimiter({ max: 1000, windowMs: 60_000, trustedProxies: 0, now: clock.now }),
    now: clock.now,
    logger: silentLogger(),
    ...o,
  });
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function request(url: string, method = 'GET'): Promise<Answer> {
  const res = await fetch(url, { method });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe('httpRoutes', () => {
  let base: string;
  let server: Server;
  before(async () => {
    ({ server, base } = await serve());
  });
  after(() => server.close());

  it('answers each route from its part', async () => {
    assert.deepEqual(JSON.parse((await request(`${base}/health`)).body), { status: 'ok' });
    assert.deepEqual(JSON.parse((await request(`${base}/health/ws-stats`)).body), { connections: 7 });
    const active = await request(`${base}/api/websocket/active-source?symbol=BTC/USDT`);
    assert.deepEqual(JSON.parse(active.body), {
      activeSource: 'binance',
      symbol: 'BTC/USDT',
      primary: 'binance',
      since: null,
    });
    const candles = await request(`${base}/api/candles?symbol=BTC/USDT&interval=1m`);
    assert.equal(candles.status, 200);
    assert.equal(candles.headers.get('content-type'), 'application/json; charset=utf-8');
    const bars = (JSON.parse(candles.body) as { bars: { close: number }[] }).bars;
    assert.deepEqual(
      bars.map((b) => b.close),
      [101, 102],
    );
  });

  it('answers every route with the same 405 for a method other than GET and HEAD', async () => {
    const paths = [
      '/health',
      '/health/ws-stats',
      '/api/candles',
      '/api/websocket/health',
      '/api/websocket/sources',
      '/api/websocket/active-source',
    ];
    for (const path of paths) {
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const a = await request(`${base}${path}`, method);
        assert.equal(a.status, 405, `${method} ${path}`);
        assert.equal(a.body, '{"error":"Method not allowed","allow":"GET, HEAD"}');
        assert.equal(
          a.headers.get('allow'),
          'GET, HEAD',
          `${method} ${path}: RFC 9110 asks a 405 to list its methods`,
        );
      }
      const head = await request(`${base}${path}`, 'HEAD');
      assert.notEqual(head.status, 405, `HEAD ${path}`);
      assert.equal(head.body, '');
    }
  });

  it('answers an unknown path 404, and /metrics only when metrics are served', async () => {
    for (const path of ['/nope', '/api/nope', '/metrics', '/health/']) {
      const a = await request(`${base}${path}`);
      assert.equal(a.status, 404, path);
      assert.equal(a.body, '{"error":"Not found"}');
    }
  });

  it('puts every /api/ path, found or not, under the API rate limit, and no other', async () => {
    const clock = new ManualClock(T0);
    const limited = await serve({
      apiRateLimit: new ApiRateLimiter({ max: 2, windowMs: 60_000, trustedProxies: 0, now: clock.now }),
    });
    try {
      const url = limited.base;
      assert.equal((await request(`${url}/api/nope`)).headers.get('ratelimit-remaining'), '1');
      assert.equal((await request(`${url}/api/candles`, 'POST')).status, 405);
      const over = await request(`${url}/api/websocket/health`);
      assert.equal(over.status, 429);
      assert.equal(JSON.parse(over.body).error.code, 'API_RATE_LIMITED');
      const health = await request(`${url}/health`);
      assert.equal(health.status, 200);
      assert.equal(health.headers.get('ratelimit-limit'), null);
    } finally {
      limited.server.close();
    }
  });

  it('serves /metrics in the exposition format to GET, and answers other methods 405', async () => {
    const metrics = new Metrics({ role: 'gateway' });
    metrics.gauge('tickwire_test_value', 'A value', () => 42);
    const withMetrics = await serve({ metrics });
    try {
      const a = await request(`${withMetrics.base}/metrics`, 'GET');
      assert.equal(a.status, 200);
      assert.equal(a.headers.get('content-type'), metrics.contentType);
      assert.match(a.body, /^tickwire_test_value\{role="gateway"\} 42$/m);
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const refused = await request(`${withMetrics.base}/metrics`, method);
        assert.equal(refused.status, 405, method);
        assert.equal(refused.body, '{"error":"Method not allowed","allow":"GET, HEAD"}');
        assert.equal(refused.headers.get('allow'), 'GET, HEAD', method);
      }
    } finally {
      withMetrics.server.close();
    }
  });
});
