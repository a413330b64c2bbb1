import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TickwireError } from '../../domain/errors.ts';
import { MINUTE_MS } from '../../domain/interval.ts';
import { startSimulator, type Simulator } from '../../sim/simulator.ts';
import { ManualClock } from '../../util/clock.ts';
import { OkxRest } from './rest.ts';

const HOUR = 60 * MINUTE_MS;
const START = Date.UTC(2026, 5, 17, 13, 37, 21, 500);

describe('OkxRest against the OKX simulator', () => {
  let sim: Simulator;
  let rest: OkxRest;
  const clock = new ManualClock(START);

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 11,
      historyDays: 3,
      tradeWindowMs: 2 * HOUR,
      tradesPerSecond: 1,
      now: clock.now,
      tickMs: 60_000,
      okx: { restLimitPer2s: 10_000 },
    });
    rest = new OkxRest({
      restUrl: sim.urls.okx.restUrl,
      now: clock.now,
      rateShare: 1,
      http: { retryBaseMs: 5, retryMaxMs: 20 },
    });
  });
  after(() => sim.close());

  it('pages candles back across market/candles into history-candles, ascending and contiguous', async () => {
    const startTime = Math.floor(START / MINUTE_MS) * MINUTE_MS - 2000 * MINUTE_MS;
    const bars = await rest.fetchCandles('BTC/USDT', '1m', { startTime });
    assert.equal(bars.length, 2001);
    assert.equal(bars[0]?.time, startTime);
    for (let i = 1; i < bars.length; i++) assert.equal(bars[i]!.time - bars[i - 1]!.time, MINUTE_MS);
    const window = await rest.fetchCandles('BTC/USDT', '1h', {
      startTime: startTime,
      endTime: startTime + 10 * HOUR,
    });
    assert.ok(window.every((b) => b.time >= startTime && b.time <= startTime + 10 * HOUR));
    assert.equal(window.length, 10);
    const latest = await rest.fetchCandles('BTC/USDT', '1D', { limit: 2 });
    assert.equal(latest.length, 2);
    assert.equal(latest[1]!.time % (24 * HOUR), 0);
  });

  it('fetches trades after a seq or from a time, ascending by non-contiguous ids', async () => {
    const latest = await rest.fetchTrades('BTC/USDT', { limit: 300 });
    assert.equal(latest.length, 300);
    const from = latest[0]!;
    const resumed = await rest.fetchTrades('BTC/USDT', { afterSeq: from.seq as number });
    assert.deepEqual(
      resumed.map((t) => t.id),
      latest.slice(1).map((t) => t.id),
    );
    const ids = latest.map((t) => t.seq as number);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!);
    assert.ok(latest.some((t) => t.fills >= 1));
    const sinceTime = await rest.fetchTrades('BTC/USDT', {
      startTime: START - HOUR,
      endTime: START - HOUR + 10 * MINUTE_MS,
    });
    assert.ok(sinceTime.length > 100);
    assert.ok(sinceTime.every((t) => t.time >= START - HOUR && t.time <= START - HOUR + 10 * MINUTE_MS));
    const limited = await rest.fetchTrades('BTC/USDT', { startTime: START - HOUR, limit: 5 });
    assert.deepEqual(
      limited.map((t) => t.id),
      sinceTime.slice(0, 5).map((t) => t.id),
    );
  });

  it('book snapshot, ticker and instruments', async () => {
    const book = await rest.fetchBookSnapshot('BTC/USDT', 50);
    assert.equal(book.kind, 'snapshot');
    assert.equal(book.bids.length, 50);
    assert.equal(book.asks.length, 50);
    const ticker = await rest.fetchTicker('BTC/USDT');
    assert.equal(ticker.symbol, 'BTC/USDT');
    assert.equal(ticker.venue, 'okx');
    const instruments = await rest.fetchInstruments('SPOT');
    assert.deepEqual(
      instruments.map((i) => [i.instId, i.tickSz, i.ctVal]),
      [['BTC-USDT', '0.01', '']],
    );
  });

  it('waits out 429 with Retry-After and rejects unknown instruments with the OKX code', async () => {
    sim.faults.restFailures({ status: 429, count: 2, retryAfterSec: 1 }, 'okx');
    const t0 = Date.now();
    const ticker = await rest.fetchTicker('BTC/USDT');
    assert.equal(ticker.symbol, 'BTC/USDT');
    assert.ok(Date.now() - t0 >= 1900, 'Retry-After was not honoured');
    await assert.rejects(rest.fetchTicker('SOL/USDT'), (err: unknown) => {
      assert.ok(err instanceof TickwireError);
      assert.equal(err.code, 'VENUE_REJECTED');
      assert.match(err.message, /51001/);
      return true;
    });
    const impatient = new OkxRest({
      restUrl: sim.urls.okx.restUrl,
      http: { maxRetries: 0 },
    });
    sim.faults.restFailures({ status: 429, count: 1, retryAfterSec: 5 }, 'okx');
    await assert.rejects(impatient.fetchTicker('BTC/USDT'), (err: unknown) => {
      assert.ok(err instanceof TickwireError);
      assert.equal(err.code, 'VENUE_RATE_LIMITED');
      return true;
    });
  });
});
