import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryBus } from '../bus/memory-bus.ts';
import { configSchema, DEFAULT_CONFIG } from '../config/config.ts';
import { toPlainString } from '../domain/decimal.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { FakeVenue, minute, recordBus, settle, T0, trade } from './fake-venue.test-support.ts';
import { createIngestPipeline, VENUE_START_SPACING_MS } from './ingest-pipeline.ts';

const SYMBOL = 'BTC/USDT';

describe('createIngestPipeline', () => {
  it("follows the active venue, takes its bars over from the backup on a failover, and reports each venue's connection", async (t) => {
    const config = configSchema.parse({
      ...DEFAULT_CONFIG,
      symbols: [SYMBOL],
      venues: ['binance', 'okx'],
      candles: { ...DEFAULT_CONFIG.candles, historyBars: 3 },
    });
    const clock = new ManualClock(T0);
    const bus = new MemoryBus();
    const store = new MemoryCandleStore();
    const record = recordBus(bus);
    const binance = new FakeVenue('binance');
    const okx = new FakeVenue('okx');
    // A venue that does not list the symbol gets no ingest.
    const bitget = new FakeVenue('bitget', { symbols: [] });
    const pipeline = createIngestPipeline({
      adapters: [binance, okx, bitget],
      config,
      bus,
      store,
      logger: silentLogger(),
      clock,
    });
    t.after(() => pipeline.close());
    assert.deepEqual(
      pipeline.ingests.map((i) => i.venue),
      ['binance', 'okx'],
    );

    const started = pipeline.start();
    // The first venue's stream opens in a later turn, once the loop has polled for I/O, each next one
    // VENUE_START_SPACING_MS after the one before.
    assert.deepEqual(
      [binance.streamOpen, okx.streamOpen],
      [false, false],
      "nothing starts in the caller's turn",
    );
    await sleep(0);
    await settle();
    assert.deepEqual([binance.streamOpen, okx.streamOpen], [true, false], 'the first venue, a turn later');
    clock.advance(VENUE_START_SPACING_MS - 1);
    await settle();
    assert.deepEqual(
      [binance.streamOpen, okx.streamOpen],
      [true, false],
      'the next venue not before the spacing',
    );
    clock.advance(1);
    await settle();
    assert.deepEqual(
      [binance.streamOpen, okx.streamOpen],
      [true, true],
      'the next venue, the spacing after it',
    );
    binance.connect(T0);
    okx.connect(T0);
    await settle();
    await started;
    assert.deepEqual(
      pipeline.sources().instruments[0]?.sources.map((s) => [s.exchange, s.loadingHistory ?? false]),
      [
        ['binance', false],
        ['okx', false],
      ],
      'history marked loaded once stored',
    );

    binance.trade(trade('binance', { seq: 1, time: T0 + 100, price: '100' }));
    okx.trade(trade('okx', { seq: 1, time: T0 + 100, price: '101', size: '2' }));
    clock.advance(100);
    await settle();
    const bars = (): [string, string, string][] =>
      record.candles
        .filter((u) => u.interval === '1m')
        .map((u) => [u.sources.join(), u.state, toPlainString(u.bar.close)]);
    assert.deepEqual(bars(), [['binance', 'live', '100']], "only the active venue's bar is published");

    clock.advance(400);
    binance.disconnect(clock.now());
    await settle();
    assert.equal(pipeline.monitor.activeSource(SYMBOL), 'okx');
    assert.deepEqual(bars().slice(1), [['okx', 'live', '101']], "okx's bar replaces binance's");
    const stored = store.recentSync(SYMBOL, '1m', 10);
    assert.deepEqual(
      stored.map((s) => [s.bar.time, s.sources.join(), toPlainString(s.bar.volume)]),
      [[minute(0, 10), 'okx', '2']],
    );
    assert.deepEqual(record.alerts.map((a) => a.kind).sort(), ['failover', 'source_disconnected']);

    const report = pipeline.aggregatorStats();
    assert.deepEqual(
      report.venues.map((v) => Object.keys(v).slice(0, 3)),
      [
        ['venue', 'connected', 'oneMinuteCandlesCount'],
        ['venue', 'connected', 'oneMinuteCandlesCount'],
      ],
      'the reports keep their shape',
    );
    assert.deepEqual(
      report.venues.map((v) => [v.venue, v.connected, v.connection?.connected]),
      [
        ['binance', false, false],
        ['okx', true, true],
      ],
    );
  });
});
