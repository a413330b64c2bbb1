/**
 * History during a PostgreSQL outage, end to end: an ingest writes to PostgreSQL and publishes on Redis; a gateway
 * reads PostgreSQL through a TCP proxy that the test cuts and restores. While it is cut, a subscribe for more than
 * the gateway's memory holds is answered with the bars memory holds, marked partial, and /api/candles marks its
 * answer partial or answers 503; once PostgreSQL is back, the client is sent the whole history, which fits the live
 * stream with no bar missing or doubled.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startGatewayProcess } from '../../src/apps/run-gateway.ts';
import { startIngestProcess } from '../../src/apps/run-ingest.ts';
import { startSimulator } from '../../src/sim/simulator.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { MINUTE, type WireBar } from '../e2e/helpers.ts';
import {
  createTestDatabase,
  serviceSkip,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  testRedisPrefix,
} from '../support/services.ts';
import { startProxyFor, viaProxy } from '../support/tcp-proxy.ts';
import { cleanups, eventually, RecordingSocket, roleConfig } from './helpers.ts';

const skip = (await serviceSkip('postgres')) || (await serviceSkip('redis'));

type Initial = { type: 'initial'; bars: WireBar[]; partial?: boolean; reason?: string };

function initials(client: RecordingSocket): Initial[] {
  return client.messages.filter((m) => m.type === 'initial') as unknown as Initial[];
}

describe('PostgreSQL outage at a gateway', { skip }, () => {
  it('initial and /api/candles say the history is partial, and the whole history follows once it is back', async (t) => {
    const defer = cleanups(t);
    const db = await createTestDatabase();
    defer(() => db.drop());
    const proxy = await startProxyFor(TEST_DATABASE_URL);
    defer(() => proxy.close());
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 33,
      historyDays: 1,
      tradesPerSecond: 20,
      // Tickwire asks a venue for the trades of the minute in progress and of an outage's gap: half an hour
      // of individual trades covers the test, where the default two hours cost CPU at start.
      tradeWindowMs: 30 * 60_000,
    });
    defer(() => sim.close());
    const prefix = testRedisPrefix();
    // 1m history back to the week's start, and at least 1,300 minutes: more than the 1,200 bars the client asks for
    // below on every day of the week (with the default 1,000, a Monday's first hours hold only 1,000).
    const ingestConfig = roleConfig(sim, {
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      redisPrefix: prefix,
    });
    const ingest = await startIngestProcess(
      { ...ingestConfig, candles: { ...ingestConfig.candles, historyBars: 1300 } },
      silentLogger(),
    );
    defer(() => ingest.close());
    const gw = await startGatewayProcess(
      roleConfig(sim, {
        databaseUrl: viaProxy(db.url, proxy.port),
        redisUrl: TEST_REDIS_URL,
        redisPrefix: prefix,
      }),
      silentLogger(),
    );
    defer(() => gw.close());
    await eventually(async () => ingest.state() === 'active', 60_000, 'the ingest to be active');
    const http = gw.gateway.url.replace('ws://', 'http://') + '/api/candles?symbol=BTC/USDT&interval=1m';

    // The ingest has loaded the venue's history into the database (a day of 1m bars in the simulator), and the
    // gateway no longer answers it as partial (HISTORY_LOADING).
    await eventually(
      async () => {
        const page = (await (await fetch(`${http}&limit=1000`)).json()) as {
          bars: unknown[];
          partial?: true;
        };
        return page.bars.length >= 500 && page.partial === undefined;
      },
      60_000,
      'history in the database',
    );
    // With the database up: the whole history, as the reference.
    const reference = await RecordingSocket.open(gw.gateway.url);
    defer(() => reference.close());
    reference.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 1000 });
    await eventually(() => reference.messages.some((m) => m.type === 'update'), 30_000, 'live updates');
    const whole = initials(reference)[0];
    assert.ok(whole && whole.partial === undefined);
    assert.ok(whole.bars.length >= 100, `history of the database: ${whole.bars.length} bars`);

    // The reads so far may have extended the gateway's memory back by their 1,000 bars (TieredCandleStore, once the
    // bars before memory's first are settled): the client asks for more, which only the database holds.
    const deeper = 1200;
    proxy.cut();
    const client = await RecordingSocket.open(gw.gateway.url);
    defer(() => client.close());
    client.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: deeper });
    await eventually(() => initials(client).length === 1, 20_000, 'initial during the outage');
    const partial = initials(client)[0] as Initial;
    assert.equal(partial.partial, true, `${partial.bars.length} bars of memory are not the history`);
    assert.equal(partial.reason, 'HISTORY_UNAVAILABLE');
    assert.ok(partial.bars.length < deeper, `${partial.bars.length} bars`);
    const error = client.messages.find((m) => m.type === 'error');
    assert.equal(error?.['code'], 'HISTORY_UNAVAILABLE');

    const partialPage = await fetch(`${http}&limit=${deeper}`);
    assert.equal(partialPage.status, 200);
    const partialBody = (await partialPage.json()) as { bars: WireBar[]; partial?: boolean };
    assert.equal(partialBody.partial, true);
    assert.ok(partialBody.bars.length > 0 && partialBody.bars.length < deeper);
    const olderPage = await fetch(
      `${http}&limit=${deeper}&end=${encodeURIComponent(partialBody.bars[0]!.time)}`,
    );
    assert.equal(olderPage.status, 503, 'nothing of that window is known: not an empty history');
    assert.ok(Number(olderPage.headers.get('retry-after')) > 0);
    assert.equal(((await olderPage.json()) as { error: { code: string } }).error.code, 'HISTORY_UNAVAILABLE');

    const updatesBefore = client.messages.filter((m) => m.type === 'update').length;
    await eventually(
      () => client.messages.filter((m) => m.type === 'update').length > updatesBefore,
      20_000,
      'the live stream during the outage',
    );
    proxy.restore();
    const restoredAt = Date.now();
    await eventually(
      () => initials(client).length === 2,
      40_000,
      'the whole history once the database is back',
    );
    const refill = initials(client)[1] as Initial;
    t.diagnostic(
      `initial: ${partial.bars.length} bars partial during the outage, ${refill.bars.length} ` +
        `${Date.now() - restoredAt} ms after the database was back (reference ${whole.bars.length})`,
    );
    assert.equal(refill.partial, undefined);
    assert.equal(refill.bars.length, deeper, `${refill.bars.length} bars after the refill`);

    // The client's chart (each initial replaces it, then the stream) runs minute after minute with no bar
    // missing or doubled, from the database's history into the live bars.
    const lastBefore = client.messages.length;
    await eventually(
      () => client.messages.slice(lastBefore).some((m) => m.type === 'update'),
      20_000,
      'updates after the refill',
    );
    const chart = client.chart();
    for (let i = 1; i < chart.length; i++) {
      assert.equal(Date.parse(chart[i]!.time) - Date.parse(chart[i - 1]!.time), MINUTE, chart[i]!.time);
    }
    // And it holds what a client subscribing now is sent, bar for bar (the bar in progress aside).
    const fresh = await RecordingSocket.open(gw.gateway.url);
    defer(() => fresh.close());
    fresh.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 1000 });
    await eventually(() => initials(fresh).length === 1, 20_000, 'a fresh initial');
    const mine = new Map(chart.map((b) => [b.time, b]));
    const closed = initials(fresh)[0]!.bars.filter((b) => b.closed && mine.get(b.time)?.closed);
    assert.ok(closed.length >= whole.bars.length - 2);
    for (const b of closed) {
      const own = mine.get(b.time)!;
      assert.deepEqual([own.close, own.trades, own.volume], [b.close, b.trades, b.volume], b.time);
    }
  });
});
