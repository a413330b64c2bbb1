import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Candle, CandleUpdate } from '../domain/candle.ts';
import { type Decimal, ZERO, eq, parseDecimal, toPlainString } from '../domain/decimal.ts';
import { DAY_MS, INTERVALS, MINUTE_MS, type Interval } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';
import { parseAggTrade } from '../venues/binance/parse.ts';
import type { BinanceAggTrade } from '../venues/binance/wire.ts';
import {
  KLINES_1M_PATH,
  KLINES_5M_PATH,
  type RefBar,
  loadAggTradeLines,
  loadKlines,
  rollUp,
} from './aggregation-dataset.test-support.ts';
import { CandleEngine, type CandleEngineOptions } from './candle-engine.ts';

const d = parseDecimal;
/** Monday 2024-01-01 00:00 UTC. */
const MONDAY = Date.UTC(2024, 0, 1);
let nextSeq = 1;

function trade(time: number, price: string, size = '1', extra: Partial<Trade> = {}): Trade {
  const seq = nextSeq++;
  return {
    venue: 'binance',
    symbol: 'BTC/USDT',
    id: String(seq),
    seq,
    price: d(price),
    size: d(size),
    side: 'buy',
    fills: 1,
    time,
    receivedAt: time,
    ...extra,
  };
}

function engine(options: Partial<CandleEngineOptions> = {}): {
  engine: CandleEngine;
  updates: CandleUpdate[];
} {
  const updates: CandleUpdate[] = [];
  const e = new CandleEngine({
    symbol: 'BTC/USDT',
    venues: ['binance'],
    closeGraceMs: 2000,
    onUpdate: (u) => updates.push(u),
    ...options,
  });
  return { engine: e, updates };
}

function bar(
  time: number,
  o: string,
  h: string,
  l: string,
  c: string,
  v: string,
  trades: number,
): Partial<Candle> {
  return { time, open: d(o), high: d(h), low: d(l), close: d(c), volume: d(v), trades };
}

/** A whole candle from the fields `bar` gives (zero quote and taker volumes). */
function full(b: Partial<Candle>): Candle {
  return { quoteVolume: ZERO, takerBuyVolume: ZERO, takerBuyQuoteVolume: ZERO, ...b } as Candle;
}

/** Compares the fields given in `want` by value. */
function assertBar(got: Candle | undefined, want: Partial<Candle>, label = ''): void {
  assert.ok(got, `${label}: no bar`);
  for (const [key, value] of Object.entries(want)) {
    const actual: number | Decimal = got[key as keyof Candle];
    if (typeof value === 'number') assert.equal(actual, value, `${label} ${key}`);
    else {
      const want = value as Decimal;
      assert.ok(
        eq(actual as Decimal, want),
        `${label} ${key}: ${toPlainString(actual as Decimal)} != ${toPlainString(want)}`,
      );
    }
  }
}

function of(
  updates: readonly CandleUpdate[],
  interval: Interval,
  state?: CandleUpdate['state'],
): CandleUpdate[] {
  return updates.filter((u) => u.interval === interval && (state === undefined || u.state === state));
}

describe('CandleEngine on the Binance XRP/ETH dataset', () => {
  const lines = loadAggTradeLines();
  const official1m = loadKlines(KLINES_1M_PATH);
  const official5m = loadKlines(KLINES_5M_PATH);

  /** Final state of every bar per interval: closed ones from the updates plus the live one. */
  function build(emitLive: boolean): Map<Interval, Map<number, Candle>> {
    const bars = new Map<Interval, Map<number, Candle>>(INTERVALS.map((i) => [i, new Map<number, Candle>()]));
    const e = new CandleEngine({
      symbol: 'XRP/ETH',
      venues: ['binance'],
      closeGraceMs: 0,
      emitLive,
      onUpdate: (u) => bars.get(u.interval)!.set(u.bar.time, u.bar),
    });
    for (const line of lines) e.addTrade(parseAggTrade(JSON.parse(line) as BinanceAggTrade, 'XRP/ETH', 0));
    for (const interval of INTERVALS) {
      const live = e.live(interval);
      if (live) bars.get(interval)!.set(live.time, live);
    }
    assert.equal(e.stats().tradesApplied, lines.length);
    assert.equal(e.stats().tooLate, 0);
    return bars;
  }

  function assertMatches(got: Map<number, Candle>, want: readonly RefBar[], label: string): void {
    assert.equal(got.size, want.length, `${label}: bar count`);
    for (const ref of want) {
      const ours = got.get(ref.time);
      assertBar(ours, ref, `${label} ${new Date(ref.time).toISOString()}`);
    }
  }

  it('reproduces every official 1m and 5m kline, empty minutes included', () => {
    const bars = build(false);
    assert.equal(official1m.length, 2400);
    assert.ok(
      official1m.some((k) => k.volume.coef === 0n),
      'dataset has empty minutes',
    );
    assertMatches(bars.get('1m')!, official1m, '1m');
    assertMatches(bars.get('5m')!, official5m, '5m');
  });

  it('matches the rollup of the official 1m klines for 15m, 1h, 4h, 1D and 1W', () => {
    const bars = build(true);
    for (const interval of ['15m', '1h', '4h', '1D', '1W'] as const) {
      assertMatches(bars.get(interval)!, rollUp(official1m, interval), interval);
    }
    assert.equal(bars.get('1D')!.size, 2);
    assert.equal(bars.get('4h')!.size, 10);
  });
});

describe('CandleEngine seeded with a few bars of each interval (the bars nest)', () => {
  const trades = loadAggTradeLines().map((l) =>
    parseAggTrade(JSON.parse(l) as BinanceAggTrade, 'XRP/ETH', 0),
  );
  const H = 3_600_000;

  /** Every bar's final state per interval (closed ones from the updates, then the live ones) of `e`. */
  function run(e: CandleEngine, bars: Map<Interval, Map<number, Candle>>, from: readonly Trade[]): void {
    for (const t of from) e.addTrade(t);
    for (const interval of INTERVALS) {
      const live = e.live(interval);
      if (live) bars.get(interval)!.set(live.time, live);
    }
  }
  function collector(): {
    bars: Map<Interval, Map<number, Candle>>;
    engine: CandleEngine;
  } {
    const bars = new Map<Interval, Map<number, Candle>>(INTERVALS.map((i) => [i, new Map<number, Candle>()]));
    const e = new CandleEngine({
      symbol: 'XRP/ETH',
      venues: ['binance'],
      closeGraceMs: 0,
      onUpdate: (u) => bars.get(u.interval)!.set(u.bar.time, u.bar),
    });
    return { bars, engine: e };
  }

  it('builds every bar from the cut on, the open week and day included, exactly as an engine fed every trade', () => {
    // The reference: every trade of the window (Friday 11 October 2019 00:00 to Saturday 16:00 UTC).
    const whole = collector();
    run(whole.engine, whole.bars, trades);
    // Cut at Saturday 13:37: the history before it comes as the venue serves it, closed bars only, and only what
    // the open bars are made of: the week's closed days, today's closed 4h bars, this 4h bucket's closed hours,
    // and the minutes of this hour (from 13:00).
    const cut = Date.UTC(2019, 9, 12, 13, 37);
    const closedIn = (interval: Interval, from: number, to: number): Candle[] =>
      [...whole.bars.get(interval)!.values()]
        .filter((b) => b.time >= from && b.time < to)
        .sort((a, b) => a.time - b.time);
    const today = Date.UTC(2019, 9, 12);
    const part = collector();
    part.engine.seed('1m', closedIn('1m', today + 13 * H, cut));
    part.engine.seed('1h', closedIn('1h', today + 12 * H, today + 13 * H));
    part.engine.seed('4h', closedIn('4h', today, today + 12 * H));
    part.engine.seed('1D', closedIn('1D', Date.UTC(2019, 9, 7), today));
    assert.deepEqual(
      [...part.bars.values()].map((m) => m.size),
      INTERVALS.map(() => 0),
    );
    part.engine.resume(cut);
    run(
      part.engine,
      part.bars,
      trades.filter((t) => t.time >= cut),
    );
    assert.equal(part.engine.stats().tooLate, 0);
    for (const interval of INTERVALS) {
      const ours = part.bars.get(interval)!;
      const open = [...ours.keys()].filter((time) => time <= cut);
      assert.ok(open.length >= 1, `${interval}: the bar that was open at the cut is built`);
      for (const [time, bar] of ours) {
        const label = `${interval} ${new Date(time).toISOString()}`;
        const want = whole.bars.get(interval)!.get(time);
        assert.ok(want, `${label}: the reference has it`);
        assertBar(bar, want, label);
      }
    }
    // The open week is Friday's closed day, Saturday's first three 4h bars, the 12:00 hour, then the minutes.
    assert.equal(part.bars.get('1W')!.size, 1);
    assert.ok((whole.bars.get('1W')!.get(Date.UTC(2019, 9, 7))?.trades ?? 0) > 0);
  });

  it('revises a closed bar partly made of seeded hours exactly', () => {
    const { engine: e, updates } = engine();
    // Seeded: the hours 00:00 and 01:00 of Monday, then the minutes from 02:00; live at 02:10.
    e.seed(
      '1h',
      [
        bar(MONDAY, '10', '12', '9', '11', '3', 3) as Candle,
        bar(MONDAY + H, '11', '15', '11', '14', '2', 2) as Candle,
      ].map(full),
    );
    e.seed('1m', [full(bar(MONDAY + 2 * H, '14', '14', '13', '13', '1', 1) as Candle)]);
    e.resume(MONDAY + 2 * H + 10 * MINUTE_MS);
    assertBar(e.live('4h'), bar(MONDAY, '10', '15', '9', '13', '6', 6), 'open 4h');
    assertBar(e.live('1D'), bar(MONDAY, '10', '15', '9', '13', '6', 6), 'open day');
    // A late trade inside the seeded minute 02:00 (before its close, by time) revises it and the open 4h, day and
    // week bars, which keep the seeded hours.
    e.addTrade(trade(MONDAY + 2 * H + 30_000, '16', '1'));
    assertBar(e.live('4h'), bar(MONDAY, '10', '16', '9', '13', '7', 7), 'revised 4h');
    assertBar(e.live('1W'), bar(MONDAY, '10', '16', '9', '13', '7', 7), 'revised week');
    assert.equal(of(updates, '1m', 'revised').length, 1);
    assert.equal(e.stats().tooLate, 0);
  });
});

describe('CandleEngine', () => {
  it('starts weeks on Monday 00:00 UTC and days at UTC midnight', () => {
    const { engine: e, updates } = engine();
    e.addTrade(trade(MONDAY - 30_000, '100'));
    e.addTrade(trade(MONDAY + 5_000, '101'));
    const closedWeek = of(updates, '1W', 'closed');
    assert.equal(closedWeek.length, 1);
    assert.equal(closedWeek[0]!.bar.time, MONDAY - 7 * DAY_MS);
    assert.equal(new Date(closedWeek[0]!.bar.time).getUTCDay(), 1);
    assert.equal(e.live('1W')!.time, MONDAY);
    assert.equal(of(updates, '1D', 'closed')[0]!.bar.time, MONDAY - DAY_MS);
    assert.equal(e.live('4h')!.time, MONDAY);
  });

  it('fills minutes without trades with flat closed bars at the previous close, in order', () => {
    const { engine: e, updates } = engine();
    e.addTrade(trade(MONDAY + 10_000, '100'));
    e.addTrade(trade(MONDAY + 20_000, '105'));
    e.addTrade(trade(MONDAY + 3 * MINUTE_MS + 1, '90'));
    const closed = of(updates, '1m', 'closed');
    assert.deepEqual(
      closed.map((u) => u.bar.time),
      [MONDAY, MONDAY + MINUTE_MS, MONDAY + 2 * MINUTE_MS],
    );
    assertBar(closed[0]!.bar, bar(MONDAY, '100', '105', '100', '105', '2', 2));
    assertBar(closed[1]!.bar, bar(MONDAY + MINUTE_MS, '105', '105', '105', '105', '0', 0));
    assertBar(closed[2]!.bar, bar(MONDAY + 2 * MINUTE_MS, '105', '105', '105', '105', '0', 0));
  });

  it('keeps the flat price of empty minutes out of higher bars', () => {
    const { engine: e, updates } = engine();
    e.addTrade(trade(MONDAY + 4 * MINUTE_MS, '100'));
    // 10:05 and 10:06 are empty (flat at 100); the first trade of the 5m bucket is at 98.
    e.addTrade(trade(MONDAY + 7 * MINUTE_MS, '98'));
    e.addTrade(trade(MONDAY + 8 * MINUTE_MS, '99'));
    e.addTrade(trade(MONDAY + 10 * MINUTE_MS, '97'));
    const closed5m = of(updates, '5m', 'closed');
    assertBar(closed5m[1]!.bar, bar(MONDAY + 5 * MINUTE_MS, '98', '99', '98', '99', '2', 2));
  });

  it('emits a flat higher bar at the previous close when its whole bucket had no trades', () => {
    const { engine: e, updates } = engine();
    e.addTrade(trade(MONDAY + 1_000, '100'));
    e.addTrade(trade(MONDAY + 12 * MINUTE_MS, '110'));
    const closed5m = of(updates, '5m', 'closed');
    assert.equal(closed5m.length, 2);
    assertBar(closed5m[1]!.bar, bar(MONDAY + 5 * MINUTE_MS, '100', '100', '100', '100', '0', 0));
  });

  it('emits a bar closed before the first live update of the next bar, per interval', () => {
    const { engine: e, updates } = engine();
    e.addTrade(trade(MONDAY + 1_000, '100'));
    e.addTrade(trade(MONDAY + 5 * MINUTE_MS + 1_000, '101'));
    for (const interval of INTERVALS) {
      const seen = new Map<number, string>();
      let lastTime = -Infinity;
      for (const u of of(updates, interval)) {
        assert.ok(u.bar.time >= lastTime, `${interval}: bars in time order`);
        if (u.bar.time > lastTime && lastTime !== -Infinity) {
          assert.notEqual(seen.get(lastTime), 'live', `${interval}: previous bar closed first`);
        }
        lastTime = u.bar.time;
        seen.set(u.bar.time, u.state);
      }
    }
    assert.deepEqual(
      of(updates, '5m').map((u) => u.state),
      ['live', 'closed', 'live'],
    );
  });

  it('closes the live minute by the clock only after its end plus the grace', () => {
    const { engine: e, updates } = engine({ closeGraceMs: 2000 });
    e.addTrade(trade(MONDAY + 1_000, '100'));
    e.advance(MONDAY + MINUTE_MS + 1999);
    assert.equal(of(updates, '1m', 'closed').length, 0);
    e.advance(MONDAY + MINUTE_MS + 2000);
    const closed = of(updates, '1m', 'closed');
    assert.equal(closed.length, 1);
    assertBar(closed[0]!.bar, bar(MONDAY, '100', '100', '100', '100', '1', 1));
    const live = of(updates, '1m', 'live').at(-1)!;
    assertBar(live.bar, bar(MONDAY + MINUTE_MS, '100', '100', '100', '100', '0', 0));
    // Two more minutes pass without trades: both closed flat, in order.
    e.advance(MONDAY + 3 * MINUTE_MS + 2000);
    assert.deepEqual(
      of(updates, '1m', 'closed').map((u) => u.bar.time),
      [MONDAY, MONDAY + MINUTE_MS, MONDAY + 2 * MINUTE_MS],
    );
    e.advance(MONDAY);
    assert.equal(e.stats().liveMinute, MONDAY + 3 * MINUTE_MS);
  });

  it('revises a closed minute and every higher bar containing it when a trade arrives late', () => {
    const { engine: e, updates } = engine();
    e.addTrade(trade(MONDAY + 1_000, '100'));
    e.addTrade(trade(MONDAY + 5 * MINUTE_MS + 1_000, '101'));
    updates.length = 0;
    const outcome = e.addTrade(trade(MONDAY + 30_000, '120', '2'));
    assert.equal(outcome, 'revised');
    const revised1m = of(updates, '1m', 'revised');
    assertBar(revised1m[0]!.bar, bar(MONDAY, '100', '120', '100', '120', '3', 2));
    // The empty minutes 00:01..00:04 followed it: they are re-priced at the new close.
    assert.deepEqual(
      revised1m.map((u) => (u.bar.time - MONDAY) / MINUTE_MS),
      [0, 1, 2, 3, 4],
    );
    assertBar(revised1m[4]!.bar, bar(MONDAY + 4 * MINUTE_MS, '120', '120', '120', '120', '0', 0));
    assert.equal(of(updates, '1m', 'live').length, 0);
    const revised5m = of(updates, '5m', 'revised');
    assert.equal(revised5m.length, 1);
    assertBar(revised5m[0]!.bar, bar(MONDAY, '100', '120', '100', '120', '3', 2));
    // Still-open higher bars are re-emitted live with the late trade in them.
    for (const interval of ['15m', '1h', '4h', '1D', '1W'] as const) {
      const live = of(updates, interval, 'live');
      assert.equal(live.length, 1, interval);
      assertBar(live[0]!.bar, bar(MONDAY, '100', '120', '100', '101', '4', 3), interval);
    }
    assert.equal(e.stats().lateTrades, 1);
    assertBar(e.history('5m', 10)[0], bar(MONDAY, '100', '120', '100', '120', '3', 2));
  });

  it('revises a minute held for days exactly, with sums too long for a double', () => {
    const { engine: e, updates } = engine();
    // 17 significant digits: the price and every product with it have a coefficient beyond 2^53.
    const price = '12345.123456789012';
    e.addTrade(trade(MONDAY + 1_000, price, '0.000000001'));
    for (let hour = 1; hour < 72; hour++) e.addTrade(trade(MONDAY + hour * 3_600_000 + 1_000, '100'));
    updates.length = 0;
    assert.equal(e.addTrade(trade(MONDAY + 30_000, price, '2')), 'revised');
    const [revised] = of(updates, '1m', 'revised');
    assertBar(revised!.bar, bar(MONDAY, price, price, price, price, '2.000000001', 2));
    assert.equal(toPlainString(revised!.bar.quoteVolume), '24690.246925923147456789012');
    const [week] = of(updates, '1W', 'live');
    assertBar(week!.bar, bar(MONDAY, price, price, '100', '100', '73.000000001', 73));
    assert.equal(toPlainString(week!.bar.quoteVolume), '31790.246925923147456789012');
    assertBar(e.history('1m', 4320)[0], bar(MONDAY, price, price, price, price, '2.000000001', 2));
  });

  it('re-prices the empty minutes that followed a revised minute', () => {
    const { engine: e, updates } = engine();
    e.addTrade(trade(MONDAY + 1_000, '100'));
    e.addTrade(trade(MONDAY + 4 * MINUTE_MS + 1_000, '104'));
    updates.length = 0;
    e.addTrade(trade(MONDAY + MINUTE_MS + 1_000, '90'));
    const revised = of(updates, '1m', 'revised');
    assert.deepEqual(
      revised.map((u) => u.bar.time),
      [MONDAY + MINUTE_MS, MONDAY + 2 * MINUTE_MS, MONDAY + 3 * MINUTE_MS],
    );
    assertBar(revised[2]!.bar, bar(MONDAY + 3 * MINUTE_MS, '90', '90', '90', '90', '0', 0));
    assert.deepEqual(
      e.history('1m', 5).map((c) => toPlainString(c.close)),
      ['100', '90', '90', '90', '104'],
    );
  });

  it('treats a trade with a lower sequence number than the open as earlier within the minute', () => {
    const { engine: e } = engine();
    e.addTrade(trade(MONDAY + 2_000, '101', '1', { seq: 11 }));
    e.addTrade(trade(MONDAY + 2_000, '100', '1', { seq: 10 }));
    e.addTrade(trade(MONDAY + 3_000, '102', '1', { seq: 13 }));
    e.addTrade(trade(MONDAY + 3_000, '103', '1', { seq: 12 }));
    assertBar(e.live('1m'), bar(MONDAY, '100', '103', '100', '102', '4', 4));
  });

  it('orders trades without sequence numbers by time, then arrival', () => {
    const { engine: e } = engine();
    e.addTrade(trade(MONDAY + 5_000, '101', '1', { seq: undefined }));
    e.addTrade(trade(MONDAY + 4_000, '100', '1', { seq: undefined }));
    e.addTrade(trade(MONDAY + 5_000, '102', '1', { seq: undefined }));
    assertBar(e.live('1m'), bar(MONDAY, '100', '102', '100', '102', '3', 3));
  });

  it('sums quote and taker-buy volumes exactly and counts fills', () => {
    const { engine: e } = engine();
    e.addTrade(trade(MONDAY, '0.1', '0.2', { side: 'buy', fills: 3 }));
    e.addTrade(trade(MONDAY + 1, '0.2', '0.1', { side: 'sell', fills: 2 }));
    const live = e.live('1m')!;
    assert.equal(toPlainString(live.volume), '0.3');
    assert.equal(toPlainString(live.quoteVolume), '0.04');
    assert.equal(toPlainString(live.takerBuyVolume), '0.2');
    assert.equal(toPlainString(live.takerBuyQuoteVolume), '0.02');
    assert.equal(live.trades, 5);
  });

  it('continues seeded 1m history seamlessly: the open higher bars are seeded minutes plus live trades', () => {
    const { engine: e, updates } = engine();
    // Seed Monday 00:00 .. 01:29 (90 minutes): traded every 10th minute, empty otherwise.
    const seeded: Candle[] = [];
    let close = d('100');
    for (let i = 0; i < 90; i++) {
      const time = MONDAY + i * MINUTE_MS;
      if (i % 10 === 3) {
        const price = d(String(100 + i));
        seeded.push({
          ...bar(time, String(99 + i), String(100 + i), '50', String(100 + i), '2', 4),
        } as Candle);
        close = price;
        const last = seeded[seeded.length - 1]!;
        seeded[seeded.length - 1] = {
          ...last,
          quoteVolume: d('1'),
          takerBuyVolume: d('1'),
          takerBuyQuoteVolume: d('0.5'),
        };
      } else {
        seeded.push({
          time,
          open: close,
          high: close,
          low: close,
          close,
          volume: ZERO,
          quoteVolume: ZERO,
          takerBuyVolume: ZERO,
          takerBuyQuoteVolume: ZERO,
          trades: 0,
        });
      }
    }
    e.seed('1m', seeded);
    e.seed('1h', [{ ...seeded[3]!, time: MONDAY - 3_600_000 }]);
    assert.equal(updates.length, 0, 'seeding emits nothing');
    e.resume(MONDAY + 90 * MINUTE_MS + 5_000);
    e.addTrade(trade(MONDAY + 90 * MINUTE_MS + 6_000, '300', '1'));
    // 1h bucket 01:00: seeded minutes 63, 73, 83 traded, then the live trade.
    assertBar(e.live('1h'), bar(MONDAY + 3_600_000, '162', '300', '50', '300', '7', 13));
    // 1W bucket: all nine seeded traded minutes plus the live trade.
    assertBar(e.live('1W'), bar(MONDAY, '102', '300', '50', '300', '19', 37));
    assert.equal(toPlainString(e.live('1W')!.quoteVolume), String(9 + 300));
    // The unseeded closed 1h bar 00:00 was rolled up from the seeded minutes and emitted once.
    const closed1h = of(updates, '1h', 'closed');
    assert.deepEqual(
      closed1h.map((u) => u.bar.time),
      [MONDAY],
    );
    assertBar(closed1h[0]!.bar, bar(MONDAY, '102', '153', '50', '153', '12', 24));
    assert.deepEqual(
      e.history('1h', 10).map((c) => c.time),
      [MONDAY - 3_600_000, MONDAY, MONDAY + 3_600_000],
    );
    assert.equal(e.stats().oneMinuteCandles, 91);
  });

  it('counts a trade older than the retained minutes as too late and leaves bars unchanged', () => {
    const { engine: e } = engine({ retentionMs: 7 * DAY_MS });
    e.addTrade(trade(MONDAY, '100'));
    e.addTrade(trade(MONDAY + 8 * DAY_MS, '100'));
    const before = e.history('1m', 1)[0];
    assert.equal(e.addTrade(trade(MONDAY + 30_000, '50')), 'tooLate');
    assert.equal(e.stats().tooLate, 1);
    assert.equal(e.stats().tradesApplied, 2);
    assert.deepEqual(e.history('1m', 1)[0], before);
    assert.ok(e.stats().oneMinuteCandles <= 7 * 24 * 60 + 1);
  });

  it('keeps closed higher bars only while they end within the retention; the open week stays exact', () => {
    const { engine: e } = engine({ retentionMs: 7 * DAY_MS });
    // Ten days, one trade of size 1 at the start of every hour.
    for (let hour = 0; hour < 240; hour++)
      e.addTrade(trade(MONDAY + hour * 3_600_000 + 1_000, String(100 + hour)));
    const cutoff = e.stats().liveMinute! - 7 * DAY_MS;
    assert.equal(e.stats().oldestMinute, cutoff);
    for (const [interval, size] of [
      ['1h', 3_600_000],
      ['1D', DAY_MS],
      ['1W', 7 * DAY_MS],
    ] as const) {
      const closed = e.history(interval, 1000).slice(0, -1);
      assert.ok(closed.length > 0, interval);
      assert.ok(
        closed.every((b) => b.time + size > cutoff),
        `${interval}: a bar ended before the retention`,
      );
    }
    assert.deepEqual(
      e.history('1D', 1000).map((b) => (b.time - MONDAY) / DAY_MS),
      [2, 3, 4, 5, 6, 7, 8, 9],
    );
    // The second week's bar (days 7..9) is open: built from minutes all still held.
    assertBar(e.live('1W'), bar(MONDAY + 7 * DAY_MS, '268', '339', '268', '339', '72', 72));
    assert.equal(e.addTrade(trade(MONDAY + 7 * DAY_MS + 5_000, '1000')), 'revised');
    assertBar(e.live('1W'), bar(MONDAY + 7 * DAY_MS, '268', '1000', '268', '339', '73', 73));
  });

  it('rejects a retention shorter than the largest interval', () => {
    assert.throws(() => engine({ retentionMs: DAY_MS }), /retentionMs/);
    assert.doesNotThrow(() => engine({ retentionMs: DAY_MS, intervals: ['1m', '1h', '1D'] }));
  });

  it('tags bars with the venues whose trades built them', () => {
    const { engine: e, updates } = engine({ venues: ['binance', 'okx'] });
    e.addTrade(trade(MONDAY, '100', '1', { venue: 'okx' }));
    assert.deepEqual(of(updates, '1m').at(-1)!.sources, ['okx']);
    e.addTrade(trade(MONDAY + 1, '100', '1', { venue: 'binance' }));
    assert.deepEqual(of(updates, '1m').at(-1)!.sources, ['binance', 'okx']);
    e.advance(MONDAY + 5 * MINUTE_MS);
    assert.deepEqual(
      of(updates, '1m', 'closed').at(-1)!.sources,
      ['binance', 'okx'],
      'empty bar: default list',
    );
  });

  it('marks bars that hold backfilled trades, up to every higher bar containing them, and only those', () => {
    const { engine: e, updates } = engine();
    e.addTrade(trade(MONDAY, '100'));
    assert.equal(of(updates, '1m').at(-1)!.backfilled, false, 'a live trade');
    e.addTrade(trade(MONDAY + 1000, '101'), true);
    assert.equal(of(updates, '1m').at(-1)!.backfilled, true);
    assert.equal(of(updates, '1h').at(-1)!.backfilled, true, 'the open 1h bar contains it');
    e.addTrade(trade(MONDAY + MINUTE_MS, '102'));
    assert.equal(of(updates, '1m', 'closed').at(-1)!.backfilled, true, 'the minute closes backfilled');
    assert.equal(of(updates, '1m', 'live').at(-1)!.backfilled, false, 'the next minute is live-only');
    // A late backfilled trade revises a closed minute: the revision says so.
    e.addTrade(trade(MONDAY + 2 * MINUTE_MS, '103'));
    e.addTrade(trade(MONDAY + MINUTE_MS + 5, '99'), true);
    const revised = of(updates, '1m', 'revised').at(-1)!;
    assert.equal(revised.bar.time, MONDAY + MINUTE_MS);
    assert.equal(revised.backfilled, true);
  });

  it('marks bars rolled up from seeded history as backfilled', () => {
    const { engine: e, updates } = engine();
    const seeded = {
      ...bar(MONDAY, '1', '2', '1', '2', '1', 3),
      quoteVolume: d('4'),
      takerBuyVolume: ZERO,
      takerBuyQuoteVolume: ZERO,
    } as Candle;
    e.seed('1m', [seeded]);
    e.resume(MONDAY + 2 * MINUTE_MS);
    assert.equal(of(updates, '1h', 'live').at(-1)!.backfilled, true);
    e.addTrade(trade(MONDAY + 2 * MINUTE_MS, '3'));
    assert.equal(of(updates, '1m', 'live').at(-1)!.backfilled, false);
  });
});

describe('CandleEngine with deferLive', () => {
  /** Trades over a few hours, every 11th late (some revise a closed minute), clock and publish ticks between. */
  function script(): { trade?: Trade; now?: number; publish?: true }[] {
    const steps: { trade?: Trade; now?: number; publish?: true }[] = [];
    let time = MONDAY + 3 * DAY_MS;
    for (let i = 0; i < 900; i++) {
      time += (i * 7919) % 5000;
      const late = i % 11 === 0 ? 70_000 + ((i * 31) % 90_000) : 0;
      const price = String(100 + ((i * 13) % 17));
      steps.push({ trade: trade(time - late, price, String(1 + (i % 3)), { seq: undefined }) });
      if (i % 5 === 0) steps.push({ now: time });
      if (i % 9 === 0) steps.push({ publish: true });
      if (i % 200 === 0) time += 4 * MINUTE_MS; // a few empty minutes, closed by the clock
    }
    steps.push({ publish: true });
    return steps;
  }

  /** Each published batch as a sorted list of (interval, bar time, state, bar). */
  function batches(deferLive: boolean): string[][] {
    const pending: CandleUpdate[] = [];
    const out: string[][] = [];
    const { engine: e } = engine({ deferLive, onUpdate: (u) => pending.push(u) });
    for (const step of script()) {
      if (step.trade) e.addTrade(step.trade);
      if (step.now !== undefined) e.advance(step.now);
      if (step.publish) {
        if (deferLive) e.publishLive();
        // What a publish tick sends: one update per bar, its latest content, closed or revised never downgraded.
        const byBar = new Map<string, CandleUpdate>();
        for (const u of pending.splice(0)) {
          const key = `${u.interval} ${u.bar.time}`;
          const before = byBar.get(key);
          byBar.set(key, before && before.state !== 'live' ? { ...u, state: before.state } : u);
        }
        out.push(
          [...byBar.values()]
            .map(
              (u) =>
                `${u.interval} ${u.bar.time} ${u.state} ${u.sources.join('+')} ${JSON.stringify(u.bar, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
            )
            .sort(),
        );
      }
    }
    return out;
  }

  it('publishes, batch by batch, the same bar states as emitting every change', () => {
    const immediate = batches(false);
    const deferred = batches(true);
    assert.ok(
      immediate.flat().some((u) => u.includes(' revised ')),
      'the script revises closed bars',
    );
    assert.ok(immediate.flat().some((u) => u.startsWith('1W ') && u.includes(' live ')));
    assert.deepEqual(deferred, immediate);
  });

  it('emits nothing live until publishLive, then each changed live bar once, after the bars that closed', () => {
    const { engine: e, updates } = engine({ deferLive: true, closeGraceMs: 0 });
    e.addTrade(trade(MONDAY + 10_000, '100'));
    e.addTrade(trade(MONDAY + 20_000, '101'));
    assert.equal(updates.length, 0);
    e.publishLive();
    assert.deepEqual(
      updates.map((u) => `${u.interval} ${u.state}`),
      INTERVALS.map((i) => `${i} live`),
    );
    assertBar(updates[0]!.bar, bar(MONDAY, '100', '101', '100', '101', '2', 2));
    e.publishLive();
    assert.equal(updates.length, INTERVALS.length, 'nothing changed: nothing published');
    updates.length = 0;
    e.addTrade(trade(MONDAY + 70_000, '102'));
    assert.deepEqual(
      updates.map((u) => `${u.interval} ${u.state} ${u.bar.time}`),
      [`1m closed ${MONDAY}`],
    );
    e.publishLive();
    assert.equal(of(updates, '1m', 'live').length, 1);
    assertBar(of(updates, '1m', 'live')[0]!.bar, bar(MONDAY + MINUTE_MS, '102', '102', '102', '102', '1', 1));
    assertBar(of(updates, '1W', 'live')[0]!.bar, bar(MONDAY, '100', '102', '100', '102', '3', 3));
  });

  it('discardLive forgets the changed live bars without building them; later changes are published', () => {
    const { engine: e, updates } = engine({ deferLive: true, closeGraceMs: 0 });
    e.addTrade(trade(MONDAY + 10_000, '100'));
    e.discardLive();
    e.publishLive();
    assert.equal(updates.length, 0);
    e.addTrade(trade(MONDAY + 20_000, '101'));
    e.publishLive();
    assert.equal(of(updates, '1m', 'live').length, 1);
    assertBar(of(updates, '1m', 'live')[0]!.bar, bar(MONDAY, '100', '101', '100', '101', '2', 2));
  });
});
