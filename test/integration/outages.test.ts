/**
 * Outages of the services, with the real ones behind a TCP proxy that the test cuts and restores:
 * - PostgreSQL: `tickwire all` buffers its writes, alerts, and once the database is back every bar is in it,
 *   minute after minute, equal to the venue's;
 * - Redis: a gateway keeps its clients connected, alerts them, and resyncs their rooms once Redis is back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startAll } from '../../src/apps/run-all.ts';
import { startGatewayProcess } from '../../src/apps/run-gateway.ts';
import { startIngestProcess } from '../../src/apps/run-ingest.ts';
import { startSimulator } from '../../src/sim/simulator.ts';
import { openPostgresCandleStore } from '../../src/store/postgres-candle-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { assertEachAsVenue, MINUTE, venueKlines, type WireBar } from '../e2e/helpers.ts';
import {
  createTestDatabase,
  serviceSkip,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  testRedisPrefix,
} from '../support/services.ts';
import { startProxyFor, viaProxy } from '../support/tcp-proxy.ts';
import { eventually, getJson, RecordingSocket, roleConfig, cleanups } from './helpers.ts';
import { encodeBar } from '../../src/protocol/server-messages.ts';

const skip = (await serviceSkip('postgres')) || (await serviceSkip('redis'));

describe('service outages', { skip }, () => {
  it('database outage: writes are buffered, alerted, and all land once it is back', async (t) => {
    const defer = cleanups(t);
    const db = await createTestDatabase();
    defer(() => db.drop());
    const proxy = await startProxyFor(TEST_DATABASE_URL);
    defer(() => proxy.close());
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 31,
      historyDays: 1,
      tradesPerSecond: 20,
      // Tickwire asks a venue for the trades of the minute in progress and of an outage's gap: half an hour
      // of individual trades covers the test, where the default two hours cost CPU at start.
      tradeWindowMs: 30 * 60_000,
    });
    defer(() => sim.close());
    const config = roleConfig(sim, { databaseUrl: viaProxy(db.url, proxy.port) });
    const system = await startAll(config, silentLogger());
    defer(() => system.close());
    await system.live;
    const client = await RecordingSocket.open(system.gateway.url);
    defer(() => client.close());
    client.send({ type: 'subscribe', channel: 'alerts' });
    client.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 5 });
    await eventually(() => client.messages.some((m) => m.type === 'update'), 20_000, 'live updates');

    proxy.cut();
    await eventually(() => client.alerts('storage_down').length > 0, 20_000, 'storage_down');
    const metrics = system.gateway.url.replace('ws://', 'http://') + '/metrics';
    await eventually(
      async () => /tickwire_store_pending_bars\{[^}]*\} [1-9]/.test(await (await fetch(metrics)).text()),
      10_000,
      'bars pending in the metric',
    );
    const updatesBefore = client.messages.filter((m) => m.type === 'update').length;
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(
      client.messages.filter((m) => m.type === 'update').length > updatesBefore,
      'clients keep their live stream during the outage',
    );
    proxy.restore();
    await eventually(() => client.alerts('storage_recovered').length > 0, 40_000, 'storage_recovered');

    // Every 1m bar the client saw close is in the database, exactly, with no minute missing. Writes are
    // behind by up to flushMs, so a bar that closed just now may still be on its way: wait for it.
    const store = await openPostgresCandleStore({ url: db.url, logger: silentLogger() });
    defer(() => store.close());
    const closed = client.chart().filter((b) => b.closed);
    assert.ok(closed.length >= 2);
    let fromDb: Awaited<ReturnType<typeof store.recent>> = [];
    let dbBars = new Map<string, WireBar>();
    const missingOrDifferent = (): string[] =>
      closed
        .filter((bar) => {
          const stored = dbBars.get(bar.time);
          return !stored || stored.close !== bar.close || stored.trades !== bar.trades;
        })
        .map((bar) => bar.time);
    await eventually(
      async () => {
        fromDb = await store.recent('BTC/USDT', '1m', 50);
        dbBars = new Map(
          fromDb.map((s) => [
            new Date(s.bar.time).toISOString(),
            JSON.parse(encodeBar({ ...s, closed: true, backfilled: s.backfilled === true })) as WireBar,
          ]),
        );
        return missingOrDifferent().length === 0;
      },
      10_000,
      'every closed bar in the database',
    ).catch((err: Error) => {
      throw new Error(`${err.message}: missing or different ${missingOrDifferent().join(', ')}`);
    });
    const times = fromDb.map((s) => s.bar.time);
    for (let i = 1; i < times.length; i++)
      assert.equal(times[i], times[i - 1]! + MINUTE, 'no minute missing');
    const klines = await venueKlines(sim.urls.binance.restUrl, 60);
    assertEachAsVenue(
      [...dbBars.values()].filter(
        (b) => Date.parse(b.time) < Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE,
      ),
      klines,
    );
  });

  it('Redis outage: a gateway keeps its clients, alerts them, and resyncs after', async (t) => {
    const defer = cleanups(t);
    const db = await createTestDatabase();
    defer(() => db.drop());
    const proxy = await startProxyFor(TEST_REDIS_URL);
    defer(() => proxy.close());
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 32,
      historyDays: 1,
      tradesPerSecond: 20,
      // Tickwire asks a venue for the trades of the minute in progress and of an outage's gap: half an hour
      // of individual trades covers the test, where the default two hours cost CPU at start.
      tradeWindowMs: 30 * 60_000,
    });
    defer(() => sim.close());
    const prefix = testRedisPrefix();
    const ingest = await startIngestProcess(
      roleConfig(sim, { databaseUrl: db.url, redisUrl: TEST_REDIS_URL, redisPrefix: prefix }),
      silentLogger(),
    );
    defer(() => ingest.close());
    const gatewayConfig = roleConfig(sim, {
      databaseUrl: db.url,
      redisUrl: viaProxy(TEST_REDIS_URL, proxy.port),
      redisPrefix: prefix,
    });
    const gw = await startGatewayProcess(gatewayConfig, silentLogger());
    defer(() => gw.close());
    await eventually(async () => ingest.state() === 'active', 30_000, 'the ingest to be active');
    const client = await RecordingSocket.open(gw.gateway.url);
    defer(() => client.close());
    client.send({ type: 'subscribe', channel: 'alerts' });
    client.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 5 });
    await eventually(() => client.messages.some((m) => m.type === 'update'), 20_000, 'live updates');
    const activeSource = gw.gateway.url.replace('ws://', 'http://') + '/api/websocket/active-source';
    await eventually(
      async () => (await getJson(activeSource))['activeSource'] === 'binance',
      10_000,
      'the source status from the ingest',
    );

    proxy.cut();
    await eventually(() => client.alerts('redis_down').length > 0, 20_000, 'redis_down');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(client.closedWith, null, 'the client stays connected');
    const before = client.messages.length;
    proxy.restore();
    await eventually(() => client.alerts('redis_recovered').length > 0, 20_000, 'redis_recovered');
    await eventually(
      () => client.messages.slice(before).some((m) => m.type === 'update'),
      20_000,
      'updates after the outage (resync, then the stream)',
    );
    // The chart reaches the present again: its newest bar is the minute in progress (or the one just closed).
    const newest = client.chart().at(-1);
    assert.ok(newest);
    assert.ok(Date.parse(newest.time) >= Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE, newest.time);
  });
});
