import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Candle } from '../../domain/candle.ts';
import { add, toPlainString, ZERO } from '../../domain/decimal.ts';
import { TickwireError } from '../../domain/errors.ts';
import { DAY_MS, MINUTE_MS, WEEK_MS } from '../../domain/interval.ts';
import type { AggregatedBar } from '../../sim/market/bars.ts';
import { fixedRule, MONDAY_ORIGIN_MS } from '../../sim/market/buckets.ts';
import { queryBars } from '../../sim/market/kline-query.ts';
import { SimMarket } from '../../sim/market/market.ts';
import { symbolSpec } from '../../sim/market/symbol-specs.ts';
import { hashSeed } from '../../sim/random.ts';
import { DYDX_SIM_QUOTING } from '../../sim/dydx/index.ts';
import { startSimulator, type Simulator } from '../../sim/simulator.ts';
import { ManualClock } from '../../util/clock.ts';
import { createUnderlyings } from '../../sim/venue-kit.ts';
import { DydxRest } from './rest.ts';
import { priceToSubticks, sizeToQuantums, stepSize, tickSize } from './units.ts';

/** A Wednesday, so the current week is partial and the history starts mid-week. */
const NOW = Date.UTC(2026, 2, 4, 10, 30, 17);
const SEED = 21;
const OPTIONS = {
  symbols: ['BTC/USD'],
  historyDays: 22,
  tradeWindowMs: 20 * MINUTE_MS,
  tradesPerSecond: 2,
  seed: SEED,
} as const;

/** The simulator's own market, rebuilt from the same seed: the ground truth for every bar. */
function groundTruth(): SimMarket {
  const spec = symbolSpec('BTC/USD');
  return new SimMarket({
    spec,
    underlying: createUnderlyings(SEED, NOW, OPTIONS.historyDays).of(spec),
    quoting: DYDX_SIM_QUOTING,
    seed: hashSeed(SEED, 'dydx', 'BTC/USD'),
    nowMs: NOW,
    historyDays: OPTIONS.historyDays,
    tradeWindowMs: OPTIONS.tradeWindowMs,
    tradesPerSecond: OPTIONS.tradesPerSecond,
  });
}

/** A bar of the simulated market printed the way Tickwire prints candles (prices in ticks of 0.01). */
function expected(bar: AggregatedBar): Record<string, string | number> {
  const price = (ticks: number) => toPlainString({ coef: BigInt(ticks), scale: 2 });
  return {
    time: bar.openTime,
    open: price(bar.o),
    high: price(bar.h),
    low: price(bar.l),
    close: price(bar.c),
    volume: toPlainString({ coef: bar.v, scale: 5 }),
    quoteVolume: toPlainString({ coef: bar.q, scale: 7 }),
    trades: bar.n,
  };
}

function printed(c: Candle): Record<string, string | number> {
  return {
    time: c.time,
    open: toPlainString(c.open),
    high: toPlainString(c.high),
    low: toPlainString(c.low),
    close: toPlainString(c.close),
    volume: toPlainString(c.volume),
    quoteVolume: toPlainString(c.quoteVolume),
    trades: c.trades,
  };
}

describe('DydxRest against the simulator', () => {
  let sim: Simulator;
  let rest: DydxRest;
  const market = groundTruth();
  before(async () => {
    const clock = new ManualClock(NOW);
    sim = await startSimulator({ ...OPTIONS, now: clock.now });
    rest = new DydxRest({ restUrl: sim.urls.dydx.restUrl, now: clock.now, requestsPerSecond: 1000 });
  });
  after(() => sim.close());

  it('pages 1m bars back with toISO: three days, exactly the market', async () => {
    const start = NOW - 3 * DAY_MS;
    const bars = await rest.fetchCandles('BTC/USD', '1m', { startTime: start });
    const truth = queryBars(market, fixedRule(MINUTE_MS), { startTime: start, limit: 10_000 });
    assert.equal(bars.length, truth.length);
    assert.ok(bars.length > 4000);
    assert.deepEqual(bars.map(printed), truth.map(expected));
  });

  it('latest bars with a limit, and a range with start and end', async () => {
    const latest = await rest.fetchCandles('BTC/USD', '15m', { limit: 250 });
    assert.equal(latest.length, 250);
    assert.deepEqual(
      latest.map(printed),
      queryBars(market, fixedRule(15 * MINUTE_MS), { limit: 250 }).map(expected),
    );
    const startTime = NOW - 2 * DAY_MS + 1;
    const endTime = NOW - DAY_MS;
    const range = await rest.fetchCandles('BTC/USD', '1h', { startTime, endTime });
    assert.equal(range.length, 24);
    assert.ok((range[0]?.time ?? 0) >= startTime);
    assert.ok((range.at(-1)?.time ?? Infinity) <= endTime);
  });

  it('1W bars rolled up from 1DAY equal the market aggregated by Monday-aligned weeks', async () => {
    const weeks = await rest.fetchCandles('BTC/USD', '1W', { limit: 10 });
    const truth = queryBars(market, fixedRule(WEEK_MS, MONDAY_ORIGIN_MS), { limit: 10 });
    assert.equal(weeks.length, 4, 'three weeks of history plus the current one');
    for (const w of weeks) assert.equal(new Date(w.time).getUTCDay(), 1, 'weeks start on Monday');
    assert.deepEqual(weeks.map(printed), truth.map(expected));
    const days = await rest.fetchCandles('BTC/USD', '1D', { startTime: weeks[1]?.time ?? 0, limit: 7 });
    assert.equal(days.length, 7);
    const volume = days.reduce((sum, d) => add(sum, d.volume), ZERO);
    assert.equal(toPlainString(volume), toPlainString(weeks[1]?.volume ?? ZERO));
    const since = await rest.fetchCandles('BTC/USD', '1W', { startTime: (weeks[1]?.time ?? 0) - 1 });
    assert.deepEqual(since.map(printed), weeks.slice(1).map(printed));
  });

  it('trades of the window, paged back by block height, sum to the minute bars', async () => {
    const from = Math.floor(NOW / MINUTE_MS) * MINUTE_MS - 15 * MINUTE_MS;
    const trades = await rest.fetchTrades('BTC/USD', { startTime: from });
    assert.ok(trades.length > 500, `${trades.length} trades`);
    assert.equal(new Set(trades.map((t) => t.id)).size, trades.length);
    for (let i = 1; i < trades.length; i++) assert.ok((trades[i]?.time ?? 0) >= (trades[i - 1]?.time ?? 0));
    const bars = queryBars(market, fixedRule(MINUTE_MS), { startTime: from, limit: 100 });
    for (const bar of bars) {
      const inBar = trades.filter((t) => t.time >= bar.openTime && t.time < bar.endTime);
      assert.equal(inBar.length, bar.n);
      const volume = inBar.reduce((sum, t) => add(sum, t.size), ZERO);
      assert.equal(toPlainString(volume), toPlainString({ coef: bar.v, scale: 5 }));
    }
    const latest = await rest.fetchTrades('BTC/USD', { limit: 7 });
    assert.deepEqual(
      latest.map((t) => t.id),
      trades.slice(-7).map((t) => t.id),
    );
    await assert.rejects(
      rest.fetchTrades('BTC/USD', { afterSeq: 5 }),
      (e: unknown) => e instanceof TickwireError && e.code === 'VENUE_REJECTED',
    );
  });

  it('book snapshot, ticker and markets with units that match tick and step', async () => {
    const book = await rest.fetchBookSnapshot('BTC/USD', 10);
    assert.equal(book.kind, 'snapshot');
    assert.equal(book.bids.length, 10);
    assert.equal(book.asks.length, 10);
    assert.ok(Number(book.bids[0]?.price) < Number(book.asks[0]?.price));
    const ticker = await rest.fetchTicker('BTC/USD');
    assert.equal(ticker.venue, 'dydx');
    assert.equal(toPlainString(ticker.bid ?? ZERO), book.bids[0]?.price);
    // Human USD prices, not subticks; the seeded walk drifts with the time of day, so the band is a factor of two.
    const last = Number(toPlainString(ticker.last));
    assert.ok(last > 67_000 / 2 && last < 67_000 * 2, `BTC/USD last ${last}`);
    const [m] = await rest.fetchMarkets('BTC-USD');
    assert.ok(m);
    assert.equal(toPlainString(tickSize(m)), '0.01');
    assert.equal(toPlainString(stepSize(m)), '0.00001');
    assert.equal(priceToSubticks(ticker.last, m) % BigInt(m.subticksPerTick), 0n);
    const size = (await rest.fetchTrades('BTC/USD', { limit: 1 }))[0]?.size ?? ZERO;
    assert.equal(sizeToQuantums(size, m.atomicResolution) % BigInt(m.stepBaseQuantums), 0n);
  });

  it('retries after a 429 with Retry-After, and rejects an unknown market', async () => {
    sim.faults.restFailures({ status: 429, count: 1, retryAfterSec: 0 }, 'dydx');
    const bars = await rest.fetchCandles('BTC/USD', '1h', { limit: 3 });
    assert.equal(bars.length, 3);
    await assert.rejects(
      rest.fetchCandles('DOGE/USD', '1h', { limit: 3 }),
      (e: unknown) => e instanceof TickwireError && e.code === 'VENUE_REJECTED',
    );
  });
});

describe('DydxRest paging edge cases', () => {
  let server: Server;
  let base: string;
  let ignoreHeight = false;
  const heights: (string | null)[] = [];
  /** Blocks 100..90, block 95 holding more trades than one page. */
  const all = Array.from({ length: 11 }, (_, b) => 100 - b).flatMap((h) =>
    Array.from({ length: h === 95 ? 5 : 1 }, (_, i) => ({
      id: `${h.toString(16).padStart(8, '0')}00000002${i.toString(16).padStart(8, '0')}`,
      side: 'BUY',
      size: '1',
      price: '100',
      type: 'LIMIT',
      createdAt: new Date(Date.UTC(2024, 0, 1, 0, 0, h)).toISOString(),
      createdAtHeight: String(h),
    })),
  );

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const h = url.searchParams.get('startingBeforeOrAtHeight');
      heights.push(h);
      const max = h === null || ignoreHeight ? Infinity : Number(h);
      const limit = Number(url.searchParams.get('limit'));
      const trades = all.filter((t) => Number(t.createdAtHeight) <= max).slice(0, limit);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ trades }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('steps below a block that fills a whole page instead of asking for it again, no trade twice', async () => {
    const rest = new DydxRest({ restUrl: base, pageLimit: 3, requestsPerSecond: 1000 });
    const trades = await rest.fetchTrades('BTC/USD', { startTime: Date.UTC(2024, 0, 1, 0, 0, 91) });
    // Block 95's five trades: the pages reach three of them, then step to block 94 (as on the indexer).
    assert.equal(new Set(trades.map((t) => t.id)).size, trades.length);
    assert.equal(trades[0]?.time, Date.UTC(2024, 0, 1, 0, 0, 91));
    assert.equal(trades.at(-1)?.time, Date.UTC(2024, 0, 1, 0, 0, 100));
    assert.ok(heights.includes('94'));
  });

  it('refuses an answer that ignores startingBeforeOrAtHeight instead of looping', async () => {
    ignoreHeight = true;
    const rest = new DydxRest({ restUrl: base, pageLimit: 3, requestsPerSecond: 1000 });
    await assert.rejects(
      rest.fetchTrades('BTC/USD', { startTime: Date.UTC(2024, 0, 1, 0, 0, 91) }),
      /startingBeforeOrAtHeight ignored/,
    );
    ignoreHeight = false;
  });
});
