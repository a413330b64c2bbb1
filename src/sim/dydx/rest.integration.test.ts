import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { add, mul, parseDecimal, toPlainString, ZERO, type Decimal } from '../../domain/decimal.ts';
import { MINUTE_MS } from '../../domain/interval.ts';
import { startSimulator, type Simulator } from '../simulator.ts';
import { getJson } from '../test-kit.ts';
import { ManualClock } from '../../util/clock.ts';
import { marketParams } from './instruments.ts';

interface Trade {
  id: string;
  side: string;
  size: string;
  price: string;
  type: string;
  createdAt: string;
  createdAtHeight: string;
}

interface Candle {
  startedAt: string;
  open: string;
  high: string;
  low: string;
  close: string;
  baseTokenVolume: string;
  usdVolume: string;
  trades: number;
  resolution: string;
  ticker: string;
}

const NOW = Date.UTC(2026, 2, 4, 10, 30, 17);

describe('dYdX sim REST', () => {
  let s: Simulator;
  let base: string;
  before(async () => {
    const clock = new ManualClock(NOW);
    s = await startSimulator({
      symbols: ['BTC/USD'],
      historyDays: 3,
      tradeWindowMs: 30 * MINUTE_MS,
      tradesPerSecond: 3,
      seed: 11,
      now: clock.now,
    });
    base = `${s.urls.dydx.restUrl}/v4`;
  });
  after(() => s.close());

  /** Every trade of the window, paging back by height. */
  async function allTrades(): Promise<Trade[]> {
    const seen = new Map<string, Trade>();
    let height: number | undefined;
    for (let page = 0; page < 1000; page++) {
      const q = height === undefined ? '' : `&startingBeforeOrAtHeight=${height}`;
      const { body } = await getJson(`${base}/trades/perpetualMarket/BTC-USD?limit=100${q}`);
      const trades = (body as { trades: Trade[] }).trades;
      let fresh = 0;
      for (const t of trades) {
        if (seen.has(t.id)) continue;
        seen.set(t.id, t);
        fresh++;
      }
      const last = trades.at(-1);
      if (last === undefined) break;
      const h = Number(last.createdAtHeight);
      height = fresh === 0 ? h - 1 : h;
      if (trades.length < 100 && fresh === 0) break;
    }
    return [...seen.values()];
  }

  it('candles of the trade window are exactly the aggregation of its trades', async () => {
    const trades = await allTrades();
    assert.ok(trades.length > 1000, `only ${trades.length} trades`);
    const byMinute = new Map<number, Trade[]>();
    for (const t of trades) {
      const m = Math.floor(Date.parse(t.createdAt) / MINUTE_MS) * MINUTE_MS;
      const list = byMinute.get(m) ?? [];
      list.push(t);
      byMinute.set(m, list);
    }
    const from = new Date(Math.floor(NOW / MINUTE_MS) * MINUTE_MS - 29 * MINUTE_MS).toISOString();
    const { body } = await getJson(
      `${base}/candles/perpetualMarkets/BTC-USD?resolution=1MIN&fromISO=${from}`,
    );
    const candles = (body as { candles: Candle[] }).candles;
    assert.equal(candles.length, 30);
    assert.ok(
      Date.parse(candles[0]?.startedAt ?? '') > Date.parse(candles[1]?.startedAt ?? ''),
      'newest first',
    );
    for (const c of candles) {
      const list = (byMinute.get(Date.parse(c.startedAt)) ?? []).sort((a, b) =>
        a.createdAtHeight === b.createdAtHeight
          ? a.id < b.id
            ? -1
            : 1
          : Number(a.createdAtHeight) - Number(b.createdAtHeight),
      );
      assert.equal(c.trades, list.length, c.startedAt);
      if (list.length === 0) continue;
      let volume: Decimal = ZERO;
      let usd: Decimal = ZERO;
      for (const t of list) {
        volume = add(volume, parseDecimal(t.size));
        usd = add(usd, mul(parseDecimal(t.size), parseDecimal(t.price)));
      }
      const prices = list.map((t) => Number(t.price));
      assert.equal(c.baseTokenVolume, toPlainString(volume), c.startedAt);
      assert.equal(c.usdVolume, toPlainString(usd), c.startedAt);
      assert.equal(c.open, list[0]?.price);
      assert.equal(c.close, list.at(-1)?.price);
      assert.equal(Number(c.high), Math.max(...prices));
      assert.equal(Number(c.low), Math.min(...prices));
    }
    assert.ok(trades.some((t) => t.type === 'LIQUIDATED'));
  });

  it('pages candles back with toISO and caps limit at 100', async () => {
    const first = (await getJson(`${base}/candles/perpetualMarkets/BTC-USD?resolution=1MIN&limit=500`))
      .body as {
      candles: Candle[];
    };
    assert.equal(first.candles.length, 100);
    const oldest = first.candles.at(-1)?.startedAt ?? '';
    const to = new Date(Date.parse(oldest) - 1).toISOString();
    const next = (await getJson(`${base}/candles/perpetualMarkets/BTC-USD?resolution=1MIN&toISO=${to}`))
      .body as {
      candles: Candle[];
    };
    assert.equal(Date.parse(next.candles[0]?.startedAt ?? ''), Date.parse(oldest) - MINUTE_MS);
  });

  it('serves markets whose chain parameters give the tick and step', async () => {
    const { body } = await getJson(`${base}/perpetualMarkets`);
    const m = (body as { markets: Record<string, Record<string, unknown>> }).markets['BTC-USD'];
    assert.ok(m);
    assert.equal(m['tickSize'], '0.01');
    assert.equal(m['stepSize'], '0.00001');
    assert.equal(m['atomicResolution'], -10);
    assert.equal(m['quantumConversionExponent'], -9);
    assert.equal(m['stepBaseQuantums'], 100_000);
    assert.equal(m['subticksPerTick'], 1_000);
    // Finer ticks than the 1e-9 exponent allows push the exponent down.
    const fine = marketParams(0, parseDecimal('0.00000001'), parseDecimal('0.001'));
    assert.equal(fine.atomicResolution, -8);
    assert.equal(fine.quantumConversionExponent, -10);
    assert.equal(fine.subticksPerTick, 1);
    assert.equal(fine.stepBaseQuantums, 100_000);
  });

  it('answers bad requests with the indexer error body', async () => {
    const bad = await getJson(`${base}/candles/perpetualMarkets/BTC-USD?resolution=1WEEK`);
    assert.equal(bad.status, 400);
    const errors = (bad.body as { errors: { param: string; msg: string }[] }).errors;
    assert.equal(errors[0]?.param, 'resolution');
    const missing = await getJson(`${base}/trades/perpetualMarket/DOGE-USD`);
    assert.equal(missing.status, 404);
    const limit = await getJson(`${base}/trades/perpetualMarket/BTC-USD?limit=0`);
    assert.equal(limit.status, 400);
  });

  it('answers injected failures with 429 and Retry-After', async () => {
    s.faults.restFailures({ status: 429, count: 1, retryAfterSec: 3 }, 'dydx');
    const limited = await getJson(`${base}/perpetualMarkets`);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '3');
    assert.equal((await getJson(`${base}/perpetualMarkets`)).status, 200);
  });
});
