import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { add, compare, mul, parseDecimal, toPlainString, type Decimal } from '../../domain/decimal.ts';
import { MINUTE_MS } from '../../domain/interval.ts';
import { startSimulator, type Simulator } from '../simulator.ts';
import { getJson } from '../test-kit.ts';
import { ManualClock } from '../../util/clock.ts';
import type { OkxSimCandleRow, OkxSimRestBody, OkxSimRestTrade } from './wire.ts';

const HOUR = 60 * MINUTE_MS;
const START = Date.UTC(2026, 5, 17, 13, 37, 21, 500);
const d = parseDecimal;

interface Bar {
  o: Decimal;
  h: Decimal;
  l: Decimal;
  c: Decimal;
  v: Decimal;
  q: Decimal;
}

/** 1m bars rebuilt from REST trades, independently of the simulator's own aggregation. */
function barsFromTrades(trades: readonly OkxSimRestTrade[]): Map<number, Bar> {
  const out = new Map<number, Bar>();
  for (const t of [...trades].sort((a, b) => Number(a.tradeId) - Number(b.tradeId))) {
    const start = Math.floor(Number(t.ts) / MINUTE_MS) * MINUTE_MS;
    const p = d(t.px);
    const s = d(t.sz);
    const e = out.get(start);
    if (e === undefined) out.set(start, { o: p, h: p, l: p, c: p, v: s, q: mul(p, s) });
    else {
      if (compare(p, e.h) > 0) e.h = p;
      if (compare(p, e.l) < 0) e.l = p;
      e.c = p;
      e.v = add(e.v, s);
      e.q = add(e.q, mul(p, s));
    }
  }
  return out;
}

describe('OKX simulator REST', () => {
  let sim: Simulator;
  const clock = new ManualClock(START);
  let base: string;

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 7,
      historyDays: 2,
      tradeWindowMs: 2 * HOUR,
      tradesPerSecond: 2,
      now: clock.now,
      tickMs: 60_000,
      okx: { restLimitPer2s: 1000 },
    });
    base = `${sim.urls.okx.restUrl}/api/v5`;
  });
  after(() => sim.close());

  async function body<T>(path: string): Promise<OkxSimRestBody<T>> {
    const reply = await getJson(`${base}${path}`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const b = reply.body as OkxSimRestBody<T>;
    assert.equal(b.code, '0');
    return b;
  }

  it('candles are newest first, capped at 300, paged with after, and reach back 1,440 bars', async () => {
    const first = await body<OkxSimCandleRow>('/market/candles?instId=BTC-USDT&bar=1m&limit=500');
    assert.equal(first.data.length, 300);
    const times = first.data.map((r) => Number(r[0]));
    for (let i = 1; i < times.length; i++) assert.equal(times[i - 1]! - times[i]!, MINUTE_MS);
    assert.equal(first.data[0]?.[8], '0');
    assert.equal(first.data[1]?.[8], '1');
    assert.equal(first.data[0]?.length, 9);
    const oldest = times.at(-1)!;
    const next = await body<OkxSimCandleRow>(
      `/market/candles?instId=BTC-USDT&bar=1m&after=${oldest}&limit=300`,
    );
    assert.equal(Number(next.data[0]?.[0]), oldest - MINUTE_MS);
    const far = await body<OkxSimCandleRow>(
      `/market/candles?instId=BTC-USDT&bar=1m&after=${times[0]! - 1440 * MINUTE_MS}`,
    );
    assert.equal(far.data.length, 0);
    const history = await body<OkxSimCandleRow>(
      `/market/history-candles?instId=BTC-USDT&bar=1m&after=${times[0]! - 1440 * MINUTE_MS}&limit=300`,
    );
    assert.equal(history.data.length, 100);
    const day = await body<OkxSimCandleRow>('/market/candles?instId=BTC-USDT&bar=1Dutc&limit=2');
    assert.equal(Number(day.data[0]?.[0]) % (24 * HOUR), 0);
    const day8 = await body<OkxSimCandleRow>('/market/candles?instId=BTC-USDT&bar=1D&limit=1');
    assert.equal(Number(day8.data[0]?.[0]) % (24 * HOUR), 16 * HOUR);
  });

  it('history-trades page by tradeId (the last fill id) and the 1m candles equal their aggregation', async () => {
    const trades: OkxSimRestTrade[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await body<OkxSimRestTrade>(
        `/market/history-trades?instId=BTC-USDT&type=1&limit=100${cursor ? `&after=${cursor}` : ''}`,
      );
      if (page.data.length === 0) break;
      for (let i = 1; i < page.data.length; i++) {
        assert.ok(Number(page.data[i - 1]!.tradeId) > Number(page.data[i]!.tradeId));
      }
      trades.push(...page.data);
      cursor = page.data.at(-1)!.tradeId;
    }
    assert.ok(trades.length > 1000, `${trades.length} trades`);
    const ids = trades.map((t) => Number(t.tradeId));
    assert.ok(
      ids.some((id, i) => i > 0 && ids[i - 1]! - id > 1),
      'ids should not be contiguous',
    );
    const bars = barsFromTrades(trades);
    const firstFull = Math.ceil(Math.min(...trades.map((t) => Number(t.ts))) / MINUTE_MS) * MINUTE_MS;
    const rows = await body<OkxSimCandleRow>('/market/candles?instId=BTC-USDT&bar=1m&limit=100');
    let compared = 0;
    for (const row of rows.data) {
      const t = Number(row[0]);
      const bar = bars.get(t);
      if (t < firstFull || bar === undefined) continue;
      assert.deepEqual(
        row.slice(1, 8),
        [bar.o, bar.h, bar.l, bar.c, bar.v, bar.q, bar.q].map((x) => toPlainString(x)),
      );
      compared++;
    }
    assert.ok(compared > 50, `compared ${compared}`);
    const byTime = await body<OkxSimRestTrade>(
      `/market/history-trades?instId=BTC-USDT&type=2&after=${START - HOUR}`,
    );
    assert.ok(byTime.data.every((t) => Number(t.ts) < START - HOUR));
  });

  it('books, ticker and instruments', async () => {
    const book = await body<{ asks: string[][]; bids: string[][]; ts: string }>(
      '/market/books?instId=BTC-USDT&sz=400',
    );
    assert.equal(book.data[0]?.asks.length, 400);
    assert.equal(book.data[0]?.bids.length, 400);
    assert.ok(Number(book.data[0]!.asks[0]![0]) > Number(book.data[0]!.bids[0]![0]));
    const ticker = await body<{ instId: string; last: string; vol24h: string }>(
      '/market/ticker?instId=BTC-USDT',
    );
    assert.equal(ticker.data[0]?.instId, 'BTC-USDT');
    const inst = await body<{ instId: string; tickSz: string; lotSz: string }>(
      '/public/instruments?instType=SPOT',
    );
    assert.deepEqual(
      inst.data.map((i) => [i.instId, i.tickSz, i.lotSz]),
      [['BTC-USDT', '0.01', '0.00001']],
    );
  });

  it('errors carry OKX codes; injected 429 carries Retry-After', async () => {
    const unknown = await getJson(`${base}/market/candles?instId=NOPE-USDT`);
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body, { code: '51001', msg: "Instrument ID doesn't exist", data: [] });
    const bar = await getJson(`${base}/market/candles?instId=BTC-USDT&bar=7m`);
    assert.equal((bar.body as { code: string }).code, '51000');
    sim.faults.restFailures({ status: 429, count: 1, retryAfterSec: 3 }, 'okx');
    const limited = await getJson(`${base}/market/ticker?instId=BTC-USDT`);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '3');
    assert.equal((limited.body as { code: string }).code, '50011');
  });
});
