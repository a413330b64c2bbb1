import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { LogRing } from '../telemetry/log-ring.ts';
import { createLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { ApiRateLimiter } from './api-rate-limit.ts';
import { httpRoutes } from './http-routes.ts';

describe('GET /api/logs', () => {
  const ring = new LogRing(10);
  // The process's logger: its warnings and errors land in the ring, redacted.
  const logger = createLogger({ destination: { write: () => undefined }, recent: ring });
  let server: Server;
  let base: string;
  before(async () => {
    const clock = new ManualClock(1_000_000);
    server = createServer(
      httpRoutes({
        health: () => ({ status: 200, body: {} }),
        wsStats: () => ({}),
        sources: undefined,
        metrics: undefined,
        history: {
          store: new MemoryCandleStore(),
          rules: { symbols: ['BTC/USDT'], maxBars: 10, defaultBars: 1, closeGraceMs: 0 },
          isLoading: () => false,
        },
        recentLogs: ring,
        apiRateLimit: new ApiRateLimiter({ max: 3, windowMs: 60_000, trustedProxies: 0, now: clock.now }),
        now: clock.now,
        logger,
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('serves the kept warnings and errors newest last, filtered by level, under the /api/ limit', async () => {
    logger.info('not kept');
    logger.warn({ venue: 'okx', password: 'hunter2' }, 'stream stalled');
    logger.error({ attempt: 3 }, 'backfill failed');

    const all = await fetch(`${base}/api/logs`);
    assert.equal(all.status, 200);
    assert.match(all.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await all.json()) as {
      logs: { level: string; time: number; msg: string; fields: object }[];
    };
    assert.deepEqual(
      body.logs.map((e) => [e.level, e.msg]),
      [
        ['warn', 'stream stalled'],
        ['error', 'backfill failed'],
      ],
    );
    assert.equal(typeof body.logs[0]?.time, 'number');
    assert.deepEqual(body.logs[0]?.fields, { name: 'tickwire', venue: 'okx', password: '[Redacted]' });

    const errors = (await (await fetch(`${base}/api/logs?level=error`)).json()) as {
      logs: { msg: string }[];
    };
    assert.deepEqual(
      errors.logs.map((e) => e.msg),
      ['backfill failed'],
    );

    const bad = await fetch(`${base}/api/logs?level=info`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'INVALID_LEVEL');

    // Three requests in the window were allowed; the fourth is over the /api/ limit.
    const over = await fetch(`${base}/api/logs`);
    assert.equal(over.status, 429);
    assert.equal((await fetch(`${base}/api/logs`, { method: 'DELETE' })).status, 429);
  });
});
