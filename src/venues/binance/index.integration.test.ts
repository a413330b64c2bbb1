import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compare } from '../../domain/decimal.ts';
import { TickwireError } from '../../domain/errors.ts';
import type { Trade } from '../../domain/trade.ts';
import { startSimulator, type Simulator } from '../../sim/simulator.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import type { StreamStatus, VenueCandle } from '../venue.ts';
import { createBinanceAdapter } from './index.ts';

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Binance adapter against the exchange simulator', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      historyDays: 3,
      tradesPerSecond: 20,
      // The tests read the last half hour of trades at most: 40 minutes of individual trades instead of the default
      // two hours, which cost CPU at start.
      tradeWindowMs: 40 * 60_000,
      seed: 7,
    });
  });
  after(() => sim.close());

  function adapter() {
    return createBinanceAdapter({
      ...sim.urls.binance,
      logger: silentLogger(),
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      rest: { http: { retryBaseMs: 5, retryMaxMs: 20 } },
    });
  }

  it('pages 1m history over several requests into contiguous, consistent bars', async () => {
    const end = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const start = end - 2499 * 60_000;
    const bars = await adapter().rest.fetchCandles('BTC/USDT', '1m', { startTime: start, endTime: end });
    assert.equal(bars.length, 2500);
    bars.forEach((b, i) => {
      assert.equal(b.time, start + i * 60_000);
      assert.ok(compare(b.low, b.high) <= 0 && compare(b.low, b.open) <= 0 && compare(b.open, b.high) <= 0);
      assert.ok(compare(b.takerBuyVolume, b.volume) <= 0);
    });
  });

  it('resumes aggregate trades after a sequence number, ascending and gap-free', async () => {
    const rest = adapter().rest;
    const recent = await rest.fetchTrades('BTC/USDT', { startTime: Date.now() - 30 * 60_000 });
    assert.ok(recent.length > 1000, `expected > 1000 trades, got ${recent.length}`);
    const first = recent[0]?.seq;
    assert.ok(first !== undefined);
    const resumed = await rest.fetchTrades('BTC/USDT', { afterSeq: first, limit: 1500 });
    assert.equal(resumed.length, 1500);
    resumed.forEach((t, i) => assert.equal(t.seq, first + 1 + i));
  });

  it('retries through injected 429 and 503 answers', async () => {
    sim.faults.restFailures({ status: 503, count: 2 }, 'binance');
    sim.faults.restFailures({ status: 429, count: 1, retryAfterSec: 1 }, 'binance');
    const bars = await adapter().rest.fetchCandles('ETH/USDT', '5m', { limit: 10 });
    assert.equal(bars.length, 10);
    await assert.rejects(
      adapter().rest.fetchCandles('DOGE/USDT', '1m', { limit: 1 }),
      (e: unknown) => e instanceof TickwireError && e.code === 'VENUE_REJECTED',
    );
  });

  it('streams live trades and klines, survives a dropped connection, and closes cleanly', async () => {
    const trades: Trade[] = [];
    const candles: VenueCandle[] = [];
    const statuses: StreamStatus[] = [];
    const stream = adapter().openMarketStream(['BTC/USDT', 'ETH/USDT'], {
      trade: (t) => trades.push(t),
      candle: (c) => candles.push(c),
      status: (s) => statuses.push(s),
    });
    await waitFor('live trades of both symbols', () => new Set(trades.map((t) => t.symbol)).size === 2);
    await waitFor('a kline', () => candles.length > 0, 8000);
    assert.equal(candles[0]?.interval, '1m');
    const before = trades.length;
    assert.equal(sim.faults.dropConnections('binance'), 1);
    await waitFor('reconnect', () => stream.status().reconnect_count === 1 && stream.status().connected);
    await waitFor('trades after reconnect', () => trades.length > before + 5);
    assert.deepEqual(
      statuses.map((s) => s.kind),
      ['connected', 'disconnected', 'connected'],
    );
    assert.equal(stream.status().malformed_frames, 0);
    await stream.close();
    assert.equal(stream.status().connected, false);
  });
});
