import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { add, compare, eq, max, min, toPlainString, ZERO, type Decimal } from '../../domain/decimal.ts';
import { TickwireError } from '../../domain/errors.ts';
import { bucketStart, DAY_MS, MINUTE_MS, WEEK_MS } from '../../domain/interval.ts';
import { startSimulator, type Simulator } from '../../sim/simulator.ts';
import { BitgetRest } from './rest.ts';

const NOW = Date.UTC(2026, 2, 11, 14, 37, 12, 345);

describe('BitgetRest against the Bitget simulator', () => {
  let sim: Simulator;
  let rest: BitgetRest;

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      seed: 7,
      historyDays: 30,
      tradesPerSecond: 2,
      now: () => NOW,
      bitget: { restRequestsPerSecond: 1000 },
    });
    rest = new BitgetRest({
      restUrl: sim.urls.bitget.restUrl,
      now: () => NOW,
      requestsPerSecond: 200,
      http: { retryBaseMs: 5, maxRetries: 2 },
    });
  });

  after(async () => {
    await sim.close();
  });

  test('1m candles equal the aggregation of the venue trades of the same minutes', async () => {
    const end = bucketStart('1m', NOW) - 1;
    const start = end + 1 - 90 * MINUTE_MS;
    const [bars, trades] = await Promise.all([
      rest.fetchCandles('BTC/USDT', '1m', { startTime: start, endTime: end }),
      rest.fetchTrades('BTC/USDT', { startTime: start, endTime: end }),
    ]);
    assert.equal(bars.length, 90);
    assert.ok(trades.length > 1000, `enough trades to page fills-history (${trades.length})`);
    assert.equal(new Set(trades.map((t) => t.id)).size, trades.length, 'no duplicate trade');
    const byMinute = new Map<number, { o: Decimal; h: Decimal; l: Decimal; c: Decimal; v: Decimal }>();
    for (const t of trades) {
      const m = bucketStart('1m', t.time);
      const bar = byMinute.get(m);
      if (bar === undefined) byMinute.set(m, { o: t.price, h: t.price, l: t.price, c: t.price, v: t.size });
      else
        byMinute.set(m, {
          o: bar.o,
          h: max(bar.h, t.price),
          l: min(bar.l, t.price),
          c: t.price,
          v: add(bar.v, t.size),
        });
    }
    for (const bar of bars) {
      const agg = byMinute.get(bar.time);
      if (agg === undefined) {
        assert.ok(eq(bar.volume, ZERO), `empty minute ${bar.time} has volume 0`);
        continue;
      }
      assert.deepEqual(
        [bar.open, bar.high, bar.low, bar.close, bar.volume].map(toPlainString),
        [agg.o, agg.h, agg.l, agg.c, agg.v].map(toPlainString),
        `minute ${new Date(bar.time).toISOString()}`,
      );
    }
  });

  test('a range longer than one page is fetched in windows: contiguous, no duplicate, exact count', async () => {
    const start = bucketStart('1m', NOW) - 2 * DAY_MS;
    const end = bucketStart('1m', NOW) - 1;
    const bars = await rest.fetchCandles('BTC/USDT', '1m', { startTime: start, endTime: end });
    assert.equal(bars.length, 2880);
    for (let i = 1; i < bars.length; i++)
      assert.equal((bars[i]?.time ?? 0) - (bars[i - 1]?.time ?? 0), MINUTE_MS);
    const limited = await rest.fetchCandles('BTC/USDT', '1m', { startTime: start, limit: 1500 });
    assert.equal(limited.length, 1500);
    assert.deepEqual(limited, bars.slice(0, 1500));
  });

  test('latest bars, with the bar in progress last; 1D and 1W buckets are UTC (weeks start on Monday)', async () => {
    const latest = await rest.fetchCandles('ETH/USDT', '5m', { limit: 7 });
    assert.equal(latest.length, 7);
    assert.equal(latest.at(-1)?.time, bucketStart('5m', NOW));
    const days = await rest.fetchCandles('BTC/USDT', '1D', { limit: 5 });
    assert.equal(days.length, 5);
    for (const d of days) assert.equal(d.time % DAY_MS, 0);
    const weeks = await rest.fetchCandles('BTC/USDT', '1W', { limit: 3 });
    assert.equal(weeks.length, 3);
    for (const w of weeks) assert.equal(new Date(w.time).getUTCDay(), 1);
    assert.equal((weeks[1]?.time ?? 0) - (weeks[0]?.time ?? 0), WEEK_MS);
  });

  test('USDT perpetual candles (7-column rows) and trades come from the mix endpoints', async () => {
    const hours = await rest.fetchCandles('BTC/USDT:USDT', '1h', { limit: 30 });
    assert.equal(hours.length, 30);
    assert.equal(hours.at(-1)?.time, bucketStart('1h', NOW));
    const spot = await rest.fetchCandles('BTC/USDT', '1h', { limit: 1 });
    assert.notDeepEqual(hours.at(-1), spot[0], 'the perpetual is its own market');
    const trades = await rest.fetchTrades('BTC/USDT:USDT', { limit: 20 });
    assert.equal(trades.length, 20);
    assert.ok(trades.every((t) => t.symbol === 'BTC/USDT:USDT' && (t.side === 'buy' || t.side === 'sell')));
    for (let i = 1; i < trades.length; i++) assert.ok((trades[i]?.time ?? 0) >= (trades[i - 1]?.time ?? 0));
  });

  test('trades with a limit are the earliest of the range; afterSeq is refused', async () => {
    const start = NOW - 10 * MINUTE_MS;
    const all = await rest.fetchTrades('ETH/USDT', { startTime: start, endTime: NOW });
    const first = await rest.fetchTrades('ETH/USDT', { startTime: start, endTime: NOW, limit: 10 });
    assert.deepEqual(first, all.slice(0, 10));
    assert.ok(all.every((t) => t.time >= start && t.time <= NOW && t.seq === undefined));
    await assert.rejects(
      rest.fetchTrades('ETH/USDT', { afterSeq: 5 }),
      (e: unknown) => e instanceof TickwireError && e.code === 'VENUE_REJECTED',
    );
  });

  test('book snapshots: spot orderbook and futures merge-depth, best first, not crossed', async () => {
    for (const symbol of ['BTC/USDT', 'BTC/USDT:USDT']) {
      const book = await rest.fetchBookSnapshot(symbol, 20);
      assert.equal(book.kind, 'snapshot');
      assert.equal(book.symbol, symbol);
      assert.equal(book.bids.length, 20);
      assert.equal(book.asks.length, 20);
      for (let i = 1; i < 20; i++) {
        assert.ok(Number(book.bids[i]?.price) < Number(book.bids[i - 1]?.price));
        assert.ok(Number(book.asks[i]?.price) > Number(book.asks[i - 1]?.price));
      }
      assert.ok(Number(book.bids[0]?.price) < Number(book.asks[0]?.price));
    }
  });

  test('tickers: spot and futures, last inside the 24 h range', async () => {
    for (const symbol of ['ETH/USDT', 'ETH/USDT:USDT']) {
      const t = await rest.fetchTicker(symbol);
      assert.equal(t.symbol, symbol);
      assert.equal(t.venue, 'bitget');
      assert.ok(t.high24h && t.low24h && t.volume24h);
      assert.ok(compare(t.last, t.high24h) <= 0 && compare(t.last, t.low24h) >= 0);
    }
  });

  test('errors: unknown instrument is VENUE_REJECTED with Bitget code, non-canonical is INVALID_SYMBOL', async () => {
    await assert.rejects(
      rest.fetchCandles('DOGE/USDT', '1m', { limit: 1 }),
      (e: unknown) =>
        e instanceof TickwireError && e.code === 'VENUE_REJECTED' && e.message.includes('40034'),
    );
    await assert.rejects(
      rest.fetchTicker('btcusdt'),
      (e: unknown) => e instanceof TickwireError && e.code === 'INVALID_SYMBOL',
    );
    await assert.rejects(
      rest.fetchTicker('BTC/USDC:USDT'),
      (e: unknown) => e instanceof TickwireError && e.code === 'INVALID_SYMBOL',
    );
  });

  test('429 with Retry-After is waited out; a lasting 418 fails with VENUE_RATE_LIMITED', async () => {
    sim.faults.restFailures({ status: 429, count: 1, retryAfterSec: 0.05 }, 'bitget');
    const bars = await rest.fetchCandles('BTC/USDT', '15m', { limit: 3 });
    assert.equal(bars.length, 3);
    sim.faults.restFailures({ status: 418, count: 3, retryAfterSec: 0.01 }, 'bitget');
    await assert.rejects(
      rest.fetchCandles('BTC/USDT', '15m', { limit: 3 }),
      (e: unknown) => e instanceof TickwireError && e.code === 'VENUE_RATE_LIMITED',
    );
  });
});
