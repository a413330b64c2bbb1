/**
 * The `gateway` role on its own, against real Redis and PostgreSQL: history beyond its memory comes from the
 * database and the recent bars from the bus, seamlessly; the source status comes from the ingest's snapshots and
 * reads as down once the ingest falls silent, and /health says so: 503 until an ingest reports a live source.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startGatewayProcess } from '../../src/apps/run-gateway.ts';
import { CANDLE_CHANNEL } from '../../src/bus/bus.ts';
import { encodeCandleUpdate } from '../../src/bus/candle-message.ts';
import { createRedisBus } from '../../src/bus/redis-bus.ts';
import { encodeSourcesView, SOURCES_CHANNEL } from '../../src/bus/sources-message.ts';
import type { CandleUpdate } from '../../src/domain/candle.ts';
import { parseDecimal } from '../../src/domain/decimal.ts';
import type { SourcesView } from '../../src/protocol/source-status.ts';
import { startSimulator } from '../../src/sim/simulator.ts';
import { openPostgresCandleStore } from '../../src/store/postgres-candle-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createTestDatabase, serviceSkip, TEST_REDIS_URL, testRedisPrefix } from '../support/services.ts';
import { cleanups, eventually, getJson, roleConfig } from './helpers.ts';

const skip = (await serviceSkip('postgres')) || (await serviceSkip('redis'));
const M = 60_000;
const T0 = Date.UTC(2024, 9, 24, 10);

function update(i: number, state: CandleUpdate['state'] = 'closed'): CandleUpdate {
  const p = parseDecimal(`${100 + i}.5`);
  return {
    symbol: 'BTC/USDT',
    interval: '1m',
    state,
    sources: ['binance'],
    backfilled: false,
    bar: {
      time: T0 + i * M,
      open: p,
      high: p,
      low: p,
      close: p,
      volume: parseDecimal('1'),
      quoteVolume: p,
      takerBuyVolume: parseDecimal('0'),
      takerBuyQuoteVolume: parseDecimal('0'),
      trades: 1,
    },
  };
}

describe('gateway process', { skip }, () => {
  it('joins database history and bus bars at the seam, and reports a silent ingest', async (t) => {
    const defer = cleanups(t);
    const db = await createTestDatabase();
    defer(() => db.drop());
    const sim = await startSimulator({ symbols: ['BTC/USDT'], seed: 61, historyDays: 1, tradesPerSecond: 1 });
    defer(() => sim.close());
    const prefix = testRedisPrefix();
    // Bars 0..9 were written by an ingest before this gateway started.
    const store = await openPostgresCandleStore({ url: db.url, logger: silentLogger() });
    defer(() => store.close());
    await store.write(Array.from({ length: 10 }, (_, i) => update(i)));

    const gw = await startGatewayProcess(
      roleConfig(sim, { databaseUrl: db.url, redisUrl: TEST_REDIS_URL, redisPrefix: prefix }),
      silentLogger(),
    );
    defer(() => gw.close());
    const publisher = await createRedisBus({ url: TEST_REDIS_URL, prefix, logger: silentLogger() });
    defer(() => publisher.close());
    const http = gw.gateway.url.replace('ws://', 'http://');
    // No ingest has reported yet: the gateway cannot vouch for any instrument.
    const before = await fetch(`${http}/health`);
    assert.equal(before.status, 503);
    const beforeBody = (await before.json()) as Record<string, unknown>;
    assert.ok(
      ['starting', 'degraded'].includes(beforeBody['status'] as string),
      String(beforeBody['status']),
    );
    assert.deepEqual(beforeBody['reasons'], ['BTC/USDT: no source status received yet']);

    // Bars 10..14 arrive over the bus only (the ingest's database writes lag behind).
    for (let i = 10; i < 15; i++) publisher.publish(CANDLE_CHANNEL, encodeCandleUpdate(update(i)));
    const history = `${http}/api/candles?symbol=BTC/USDT&interval=1m&limit=12&end=${T0 + 15 * M}`;
    await eventually(
      async () => ((await getJson(history))['bars'] as unknown[]).length === 12,
      10_000,
      'twelve bars across the seam',
    );
    const bars = (await getJson(history))['bars'] as { time: string; close: number }[];
    assert.deepEqual(
      bars.map((b) => Date.parse(b.time)),
      Array.from({ length: 12 }, (_, k) => T0 + (k + 3) * M),
      'minute after minute, no gap or duplicate at the seam',
    );
    assert.deepEqual(
      bars.map((b) => b.close),
      Array.from({ length: 12 }, (_, k) => 103.5 + k),
    );

    const view: SourcesView = {
      instruments: [
        {
          symbol: 'BTC/USDT',
          activeSource: 'binance',
          primary: 'binance',
          sources: [
            {
              exchange: 'binance',
              connected: true,
              latency: 12,
              lastUpdate: Date.now(),
              messagesReceived: 5,
              errors: 0,
              healthy: true,
            },
          ],
        },
      ],
    };
    publisher.publish(SOURCES_CHANNEL, encodeSourcesView(view, Date.now()));
    await eventually(
      async () => (await getJson(`${http}/api/websocket/health`))['healthy'] === true,
      10_000,
      'the ingest snapshot',
    );
    const live = await fetch(`${http}/health`);
    assert.equal(live.status, 200);
    assert.equal(((await live.json()) as Record<string, unknown>)['status'], 'ok');
    // A snapshot older than the silence limit: no ingest feeds the sources now.
    publisher.publish(SOURCES_CHANNEL, encodeSourcesView(view, Date.now() - 10_000));
    await eventually(
      async () => (await getJson(`${http}/api/websocket/health`))['healthy'] === false,
      10_000,
      'the silent ingest',
    );
    const rows = (await fetch(`${http}/api/websocket/sources`).then((r) => r.json())) as Record<
      string,
      unknown
    >[];
    assert.equal(rows[0]?.['connected'], false);
    assert.equal(rows[0]?.['reason'], 'no-ingest');
    const silent = await fetch(`${http}/health`);
    assert.equal(silent.status, 503);
    const silentBody = (await silent.json()) as Record<string, unknown>;
    assert.equal(silentBody['status'], 'degraded');
    assert.deepEqual(silentBody['reasons'], ['BTC/USDT: no live source (binance no-ingest)']);
  });

  it('shares one /api/ rate limit per client with every gateway on the same Redis', async (t) => {
    const defer = cleanups(t);
    const db = await createTestDatabase();
    defer(() => db.drop());
    const sim = await startSimulator({ symbols: ['BTC/USDT'], seed: 62, historyDays: 1, tradesPerSecond: 1 });
    defer(() => sim.close());
    const base = roleConfig(sim, {
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      redisPrefix: testRedisPrefix(),
    });
    const config = { ...base, gateway: { ...base.gateway, apiRateLimit: 3 } };
    const gateways = [];
    for (let i = 0; i < 2; i++) {
      const gw = await startGatewayProcess(config, silentLogger());
      defer(() => gw.close());
      gateways.push(gw.gateway.url.replace('ws://', 'http://'));
    }
    const [a, b] = gateways as [string, string];
    const remaining: string[] = [];
    for (const http of [a, b, a]) {
      const res = await fetch(`${http}/api/websocket/sources`);
      assert.equal(res.status, 200);
      remaining.push(res.headers.get('ratelimit-remaining') ?? '');
      await res.arrayBuffer();
    }
    assert.deepEqual(remaining, ['2', '1', '0'], 'one count across both gateways');
    const refused = await fetch(`${b}/api/websocket/sources`);
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'API_RATE_LIMITED');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
  });
});
