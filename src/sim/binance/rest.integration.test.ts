import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { add, mul, parseDecimal, toPlainString, type Decimal, ZERO } from '../../domain/decimal.ts';
import { MINUTE_MS } from '../../domain/interval.ts';
import { startSimulator, type Simulator } from '../simulator.ts';
import { getJson } from '../test-kit.ts';
import { ManualClock } from '../../util/clock.ts';
import type { BinanceSimAggTradeItem, BinanceSimKlineRow } from './wire.ts';

const HOUR = 60 * MINUTE_MS;
/** A Wednesday, mid-minute. */
const START = Date.UTC(2026, 5, 17, 13, 37, 21, 500);
const WINDOW = 3 * HOUR;

interface Expected {
  o: Decimal;
  h: Decimal;
  l: Decimal;
  c: Decimal;
  v: Decimal;
  q: Decimal;
  n: number;
  V: Decimal;
  Q: Decimal;
}

const d = parseDecimal;
const canon = (x: Decimal): string => toPlainString(x);

/** Binance kline rows rebuilt from aggregate trades, independently of the simulator's own aggregation. */
function expectedBars(trades: readonly BinanceSimAggTradeItem[], size: number): Map<number, Expected> {
  const out = new Map<number, Expected>();
  for (const t of trades) {
    const start = Math.floor(t.T / size) * size;
    const p = d(t.p);
    const q = d(t.q);
    const e = out.get(start);
    const takerBuy = !t.m;
    if (e === undefined) {
      out.set(start, {
        o: p,
        h: p,
        l: p,
        c: p,
        v: q,
        q: mul(p, q),
        n: t.l - t.f + 1,
        V: takerBuy ? q : ZERO,
        Q: takerBuy ? mul(p, q) : ZERO,
      });
    } else {
      if (toNumberCompare(p, e.h) > 0) e.h = p;
      if (toNumberCompare(p, e.l) < 0) e.l = p;
      e.c = p;
      e.v = add(e.v, q);
      e.q = add(e.q, mul(p, q));
      e.n += t.l - t.f + 1;
      if (takerBuy) {
        e.V = add(e.V, q);
        e.Q = add(e.Q, mul(p, q));
      }
    }
  }
  return out;
}

function toNumberCompare(a: Decimal, b: Decimal): number {
  const x = a.coef * 10n ** BigInt(Math.max(0, b.scale - a.scale));
  const y = b.coef * 10n ** BigInt(Math.max(0, a.scale - b.scale));
  return x < y ? -1 : x > y ? 1 : 0;
}

describe('Binance sim REST', () => {
  let sim: Simulator;
  let base: string;
  const clock = new ManualClock(START);
  const trades: BinanceSimAggTradeItem[] = [];

  before(async () => {
    // A thin market, so the window has many empty minutes.
    sim = await startSimulator({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      seed: 5,
      historyDays: 20,
      tradeWindowMs: WINDOW,
      tradesPerSecond: 0.02,
      now: clock.now,
    });
    base = `${sim.urls.binance.restUrl}/api/v3`;
    // Page through every retained aggregate trade with fromId, as a backfilling client would.
    const first = await getJson(
      `${base}/aggTrades?symbol=BTCUSDT&startTime=${START - WINDOW - MINUTE_MS}&endTime=${START - WINDOW - MINUTE_MS + HOUR}&limit=1`,
    );
    const firstItem = (first.body as BinanceSimAggTradeItem[])[0];
    assert.ok(firstItem, 'no trade in the first hour of the window');
    let fromId = firstItem.a;
    for (;;) {
      const page = (await getJson(`${base}/aggTrades?symbol=BTCUSDT&fromId=${fromId}&limit=7`))
        .body as BinanceSimAggTradeItem[];
      trades.push(...page);
      if (page.length < 7) break;
      fromId = (page.at(-1) as BinanceSimAggTradeItem).a + 1;
    }
  });

  after(async () => {
    await sim.close();
  });

  it('pages aggTrades by fromId with strictly increasing ids and Binance item keys', () => {
    assert.ok(trades.length > 100, `${trades.length} trades`);
    for (let i = 1; i < trades.length; i++) {
      assert.equal((trades[i] as BinanceSimAggTradeItem).a, (trades[i - 1] as BinanceSimAggTradeItem).a + 1);
    }
    assert.deepEqual(Object.keys(trades[0] as object).sort(), ['M', 'T', 'a', 'f', 'l', 'm', 'p', 'q']);
    assert.match((trades[0] as BinanceSimAggTradeItem).p, /^\d+\.\d{8}$/);
  });

  for (const [interval, size] of [
    ['1m', MINUTE_MS],
    ['5m', 5 * MINUTE_MS],
    ['1h', HOUR],
  ] as const) {
    it(`serves ${interval} klines equal to the aggregation of aggTrades, empty bars flat at the previous close`, async () => {
      const firstTradeTime = (trades[0] as BinanceSimAggTradeItem).T;
      const windowStart = Math.floor((START - WINDOW) / MINUTE_MS) * MINUTE_MS;
      // Only bars whose whole span is inside the trade window can be rebuilt from trades.
      const from = Math.ceil(windowStart / size) * size;
      assert.ok(firstTradeTime >= windowStart);
      const rows = (
        await getJson(`${base}/klines?symbol=BTCUSDT&interval=${interval}&startTime=${from}&limit=1000`)
      ).body as BinanceSimKlineRow[];
      const expected = expectedBars(trades, size);
      assert.equal(rows[0]?.[0], from);
      assert.equal(rows.at(-1)?.[0], Math.floor(START / size) * size, 'the open bar is included');
      let empty = 0;
      let prevClose: string | undefined;
      for (const row of rows) {
        const [t, o, h, l, c, v, closeTime, q, n, V, Q, ignore] = row;
        assert.equal(closeTime, t + size - 1);
        assert.equal(ignore, '0');
        const e = expected.get(t);
        if (e === undefined) {
          empty++;
          assert.ok(prevClose !== undefined || t > from);
          if (prevClose !== undefined)
            assert.deepEqual([o, h, l, c], [prevClose, prevClose, prevClose, prevClose]);
          assert.deepEqual([canon(d(v)), n, canon(d(q)), canon(d(V)), canon(d(Q))], ['0', 0, '0', '0', '0']);
        } else {
          assert.deepEqual(
            [o, h, l, c].map((x) => canon(d(x))),
            [e.o, e.h, e.l, e.c].map(canon),
            `prices of ${new Date(t).toISOString()}`,
          );
          assert.deepEqual(
            [canon(d(v)), canon(d(q)), n, canon(d(V)), canon(d(Q))],
            [canon(e.v), canon(e.q), e.n, canon(e.V), canon(e.Q)],
          );
        }
        prevClose = c;
      }
      assert.ok(
        rows.length - empty >= (interval === '1h' ? 2 : 20),
        `${rows.length - empty} traded ${interval} bars`,
      );
      if (interval === '1m') assert.ok(empty > 20, `${empty} empty minutes`);
    });
  }

  it('starts 1w bars on Monday and 1M bars on the 1st, higher bars consistent with 1d', async () => {
    const weeks = (await getJson(`${base}/klines?symbol=BTCUSDT&interval=1w`)).body as BinanceSimKlineRow[];
    assert.ok(weeks.length >= 3);
    for (const w of weeks.slice(1)) assert.equal(new Date(w[0]).getUTCDay(), 1);
    const months = (await getJson(`${base}/klines?symbol=BTCUSDT&interval=1M`)).body as BinanceSimKlineRow[];
    for (const m of months.slice(1)) assert.equal(new Date(m[0]).getUTCDate(), 1);
    // A full week equals its seven days.
    const week = weeks[1] as BinanceSimKlineRow;
    const days = (
      await getJson(`${base}/klines?symbol=BTCUSDT&interval=1d&startTime=${week[0]}&endTime=${week[6]}`)
    ).body as BinanceSimKlineRow[];
    assert.equal(days.length, 7);
    const sum = (i: number): string => canon(days.reduce((s, r) => add(s, d(r[i] as string)), ZERO));
    assert.equal(canon(d(week[5])), sum(5));
    assert.equal(canon(d(week[7])), sum(7));
    assert.equal(
      week[8],
      days.reduce((s, r) => s + r[8], 0),
    );
    assert.equal(week[1], days[0]?.[1]);
    assert.equal(week[4], days[6]?.[4]);
  });

  it('applies startTime, endTime and limit the Binance way', async () => {
    const get = async (q: string): Promise<BinanceSimKlineRow[]> =>
      (await getJson(`${base}/klines?symbol=BTCUSDT&interval=1m&${q}`)).body as BinanceSimKlineRow[];
    const latest = await get('');
    assert.equal(latest.length, 500, 'default limit');
    assert.equal(latest.at(-1)?.[0], Math.floor(START / MINUTE_MS) * MINUTE_MS);
    assert.equal((await get('limit=5000')).length, 1000, 'limit capped at 1000');
    const t0 = Date.UTC(2026, 5, 10, 8, 0);
    const fwd = await get(`startTime=${t0 + 1}&limit=3`);
    assert.deepEqual(
      fwd.map((r) => r[0]),
      [t0 + MINUTE_MS, t0 + 2 * MINUTE_MS, t0 + 3 * MINUTE_MS],
      'open time ≥ startTime',
    );
    const back = await get(`endTime=${t0 + 30_000}&limit=2`);
    assert.deepEqual(
      back.map((r) => r[0]),
      [t0 - MINUTE_MS, t0],
    );
    const both = await get(`startTime=${t0}&endTime=${t0 + 10 * MINUTE_MS}&limit=1000`);
    assert.equal(both.length, 11);
    const before = await get(`endTime=${START - 30 * 86_400_000}`);
    assert.deepEqual(before, [], 'nothing before the history');
  });

  it('answers bad requests with Binance error bodies', async () => {
    const cases: [string, number, number][] = [
      ['klines?symbol=NOPEUSDT&interval=1m', 400, -1121],
      ['klines?interval=1m', 400, -1102],
      ['klines?symbol=BTCUSDT', 400, -1102],
      ['klines?symbol=BTCUSDT&interval=7m', 400, -1120],
      ['klines?symbol=BTCUSDT&interval=1m&limit=abc', 400, -1100],
      ['klines?symbol=BTCUSDT&interval=1m&limit=0', 400, -1130],
      [`aggTrades?symbol=BTCUSDT&startTime=${START - 2 * HOUR}&endTime=${START}`, 400, -1127],
      [`aggTrades?symbol=BTCUSDT&fromId=1&startTime=${START - HOUR}`, 400, -1128],
      ['depth?symbol=btcusdt', 400, -1121],
      ['nothing', 404, -1000],
    ];
    for (const [path, status, code] of cases) {
      const reply = await getJson(`${base}/${path}`);
      assert.equal(reply.status, status, path);
      const body = reply.body as { code: number; msg: string };
      assert.deepEqual(Object.keys(body), ['code', 'msg'], path);
      assert.equal(body.code, code, path);
      assert.ok(body.msg.length > 0);
    }
    assert.deepEqual((await getJson(`${base}/klines?symbol=NOPEUSDT&interval=1m`)).body, {
      code: -1121,
      msg: 'Invalid symbol.',
    });
  });

  it('serves aggTrades by time within one hour, and the latest ones by default', async () => {
    const t0 = (trades[10] as BinanceSimAggTradeItem).T;
    const span = (
      await getJson(`${base}/aggTrades?symbol=BTCUSDT&startTime=${t0}&endTime=${t0 + HOUR}&limit=1000`)
    ).body as BinanceSimAggTradeItem[];
    assert.deepEqual(
      span,
      trades.filter((t) => t.T >= t0 && t.T <= t0 + HOUR),
    );
    const latest = (await getJson(`${base}/aggTrades?symbol=BTCUSDT&limit=3`))
      .body as BinanceSimAggTradeItem[];
    assert.deepEqual(latest, trades.slice(-3));
  });

  it('serves trades, depth, exchangeInfo, time and ping with weights in headers', async () => {
    const recent = await getJson(`${base}/trades?symbol=BTCUSDT&limit=5`);
    const items = recent.body as { id: number; price: string; qty: string; quoteQty: string; time: number }[];
    assert.equal(items.length, 5);
    const last = trades.at(-1) as BinanceSimAggTradeItem;
    assert.equal(items.at(-1)?.id, last.l);
    for (const t of items) assert.equal(canon(d(t.quoteQty)), canon(mul(d(t.price), d(t.qty))));

    const depth = await getJson(`${base}/depth?symbol=ETHUSDT&limit=10`);
    const book = depth.body as { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
    assert.equal(book.bids.length, 10);
    assert.equal(book.asks.length, 10);
    assert.ok(toNumberCompare(d(book.bids[0]?.[0] ?? ''), d(book.asks[0]?.[0] ?? '')) < 0, 'bid below ask');
    assert.ok(Number.isInteger(book.lastUpdateId));

    const info = await getJson(`${base}/exchangeInfo?symbol=BTCUSDT`);
    const symbols = (
      info.body as { symbols: { symbol: string; baseAsset: string; filters: Record<string, string>[] }[] }
    ).symbols;
    assert.equal(symbols.length, 1);
    assert.equal(symbols[0]?.baseAsset, 'BTC');
    const filters = Object.fromEntries((symbols[0]?.filters ?? []).map((f) => [f['filterType'], f]));
    assert.equal(canon(d(filters['PRICE_FILTER']?.['tickSize'] ?? '')), '0.01');
    assert.equal(canon(d(filters['LOT_SIZE']?.['stepSize'] ?? '')), '0.00001');
    assert.ok(Array.isArray((info.body as { rateLimits: unknown[] }).rateLimits));
    assert.equal(((await getJson(`${base}/exchangeInfo`)).body as { symbols: unknown[] }).symbols.length, 2);

    assert.deepEqual((await getJson(`${base}/time`)).body, { serverTime: START });
    const ping = await getJson(`${base}/ping`);
    assert.deepEqual(ping.body, {});
    assert.match(String(ping.headers['x-mbx-used-weight-1m']), /^\d+$/);
  });

  it('fails the next requests as told by restFailures, then recovers', async () => {
    sim.faults.restFailures({ status: 429, count: 2, retryAfterSec: 7 });
    const a = await getJson(`${base}/ping`);
    assert.equal(a.status, 429);
    assert.equal(a.headers['retry-after'], '7');
    assert.equal((a.body as { code: number }).code, -1003);
    assert.equal((await getJson(`${base}/ping`)).status, 429);
    assert.equal((await getJson(`${base}/ping`)).status, 200);
    sim.faults.restFailures({ status: 418, count: 1 });
    sim.faults.restFailures({ status: 500, count: 1 });
    assert.equal((await getJson(`${base}/ping`)).status, 418);
    assert.equal((await getJson(`${base}/ping`)).status, 500);
    assert.equal((await getJson(`${base}/ping`)).status, 200);
  });

  it('keeps generating trades while the clock moves, served over REST', async () => {
    const before = (
      (await getJson(`${base}/aggTrades?symbol=ETHUSDT&limit=1`)).body as BinanceSimAggTradeItem[]
    )[0];
    clock.advance(10 * MINUTE_MS);
    sim.advance();
    const later = (
      await getJson(`${base}/aggTrades?symbol=ETHUSDT&startTime=${START}&endTime=${START + 10 * MINUTE_MS}`)
    ).body as BinanceSimAggTradeItem[];
    assert.ok(later.length > 0);
    assert.ok((later[0]?.a ?? 0) > (before?.a ?? Infinity));
  });
});
