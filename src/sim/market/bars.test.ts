import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MINUTE_MS } from '../../domain/interval.ts';
import { Rng } from '../random.ts';
import { aggregateMinutes, aggregateWindowToOpenMinute, MinuteBars, type AggregatedBar } from './bars.ts';
import { SimMarket } from './market.ts';
import { symbolSpec } from './symbol-specs.ts';

const NOW = Date.UTC(2026, 4, 20, 10, 15, 42, 123);
const DAY_OF_MINUTES = 1440;

/**
 * The minutes as objects with BigInt quote amounts, aggregated minute by minute in BigInt: how the simulator held
 * and summed them before the columns, kept here as the reference the columns must match exactly.
 */
interface ObjectMinute {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  q: bigint;
  n: number;
  vb: number;
  qb: bigint;
  f: number;
  L: number;
}

const objectMinute = (t: number, price: number): ObjectMinute => ({
  t,
  o: price,
  h: price,
  l: price,
  c: price,
  v: 0,
  q: 0n,
  n: 0,
  vb: 0,
  qb: 0n,
  f: -1,
  L: -1,
});

function addObjectTrade(
  bar: ObjectMinute,
  ticks: number,
  lots: number,
  buy: boolean,
  f: number,
  l: number,
): void {
  if (bar.n === 0) {
    bar.o = bar.h = bar.l = ticks;
    bar.f = f;
  } else {
    if (ticks > bar.h) bar.h = ticks;
    if (ticks < bar.l) bar.l = ticks;
  }
  bar.c = ticks;
  const quote = BigInt(ticks) * BigInt(lots);
  bar.v += lots;
  bar.q += quote;
  if (buy) {
    bar.vb += lots;
    bar.qb += quote;
  }
  bar.n += l - f + 1;
  bar.L = l;
}

function aggregateObjects(
  minutes: readonly ObjectMinute[],
  from: number,
  to: number,
  openTime: number,
  endTime: number,
): AggregatedBar {
  let o = 0;
  let h = 0;
  let l = 0;
  let c = 0;
  let v = 0n;
  let q = 0n;
  let n = 0;
  let vb = 0n;
  let qb = 0n;
  let f = -1;
  let L = -1;
  for (let i = from; i < to; i++) {
    const m = minutes[i];
    if (m === undefined || m.n === 0) continue;
    if (n === 0) {
      o = m.o;
      h = m.h;
      l = m.l;
      f = m.f;
    } else {
      if (m.h > h) h = m.h;
      if (m.l < l) l = m.l;
    }
    c = m.c;
    n += m.n;
    v += BigInt(m.v);
    q += m.q;
    vb += BigInt(m.vb);
    qb += m.qb;
    L = m.L;
  }
  if (n === 0) {
    const before = minutes[from - 1] ?? minutes[from];
    o = h = l = c = before === undefined ? 0 : from > 0 ? before.c : before.o;
  }
  return { openTime, endTime, o, h, l, c, v, q, n, vb, qb, f, L };
}

/**
 * Random minutes written into both: quiet and empty minutes, and runs of huge trades whose quote amounts pass 2^53
 * per trade and per minute (the columns' BigInt path). The second half is written first, as a market writes its
 * trade window before its history.
 */
function randomMinutes(seed: number, count: number): { columns: MinuteBars; objects: ObjectMinute[] } {
  const rng = new Rng(seed);
  const first = 1_700_000_000_000 - (1_700_000_000_000 % MINUTE_MS);
  const columns = new MinuteBars(first);
  const objects: ObjectMinute[] = [];
  const plans: { price: number; trades: [number, number, boolean, number][] }[] = [];
  let price = 6_700_000;
  for (let i = 0; i < count; i++) {
    const huge = rng.next() < 0.05;
    const trades: [number, number, boolean, number][] = [];
    const n = rng.next() < 0.3 ? 0 : 1 + rng.int(huge ? 40 : 8);
    for (let k = 0; k < n; k++) {
      price = Math.max(1, price + rng.int(201) - 100);
      const ticks = huge ? 4_000_000_000 + rng.int(1_000_000) : price;
      const lots = huge ? 2 ** 21 + rng.int(2 ** 21) : 1 + rng.int(5_000);
      const fills = 1 + rng.int(3);
      trades.push([ticks, lots, rng.next() < 0.5, fills]);
    }
    plans.push({ price, trades });
  }
  const write = (i: number): void => {
    const plan = plans[i] as (typeof plans)[number];
    const object = objectMinute(first + i * MINUTE_MS, plan.price);
    columns.setEmpty(i, plan.price);
    let ids = 10 + i * 1_000;
    for (const [ticks, lots, buy, fills] of plan.trades) {
      addObjectTrade(object, ticks, lots, buy, ids, ids + fills - 1);
      columns.addTrade(i, ticks, lots, buy, ids, ids + fills - 1);
      ids += fills;
    }
    objects[i] = object;
  };
  const half = Math.floor(count / 2);
  for (let i = half; i < count; i++) write(i);
  for (let i = 0; i < half; i++) write(i);
  return { columns, objects };
}

describe('MinuteBars', () => {
  it('holds and aggregates random minutes exactly as objects with BigInt amounts did', () => {
    const count = 5_000;
    const { columns, objects } = randomMinutes(42, count);
    assert.equal(columns.length, count);
    let overflowed = 0;
    for (let i = 0; i < count; i++) {
      assert.deepEqual(columns.bar(i), objects[i]);
      if ((objects[i] as ObjectMinute).q > BigInt(Number.MAX_SAFE_INTEGER)) overflowed++;
    }
    assert.ok(overflowed > 50, `${overflowed} minutes past 2^53`);
    const rng = new Rng(7);
    const ranges: [number, number][] = [
      [0, count],
      [0, 0],
      [-3, 4],
      [count - 2, count + 5],
      [count, count + 1],
      [count + 3, count + 9],
    ];
    for (let k = 0; k < 400; k++) {
      const from = rng.int(count + 2);
      ranges.push([from, from + rng.int(rng.next() < 0.5 ? 30 : 3_000)]);
    }
    for (const [from, to] of ranges) {
      const openTime = columns.time(from);
      assert.deepEqual(
        aggregateMinutes(columns, from, to, openTime, openTime + 1),
        aggregateObjects(objects, from, to, openTime, openTime + 1),
        `minutes [${from}, ${to})`,
      );
    }
    // Sums of a day that pass 2^53 in lots as well.
    const day = aggregateMinutes(columns, 0, count, 0, 1);
    assert.ok(day.q > BigInt(Number.MAX_SAFE_INTEGER) * 100n && day.v > 2n ** 32n);
  });

  it('reads back what was written, and refuses a minute that was not', () => {
    const bars = new MinuteBars(5 * MINUTE_MS);
    bars.setEmpty(3_000, 100);
    bars.addTrade(3_000, 2 ** 40, 2 ** 20, true, 7, 9);
    assert.equal(bars.length, 3_001);
    assert.equal(bars.indexOf(bars.time(3_000) + 59_999), 3_000);
    assert.deepEqual(bars.bar(3_000), {
      t: 3_005 * MINUTE_MS,
      o: 2 ** 40,
      h: 2 ** 40,
      l: 2 ** 40,
      c: 2 ** 40,
      v: 2 ** 20,
      q: 2n ** 60n,
      n: 3,
      vb: 2 ** 20,
      qb: 2n ** 60n,
      f: 7,
      L: 9,
    });
    assert.throws(() => bars.open(2), RangeError);
    assert.throws(() => bars.open(3_001), RangeError);
    assert.equal(bars.bar(3_001), undefined);
    // Set empty again: the BigInt amount goes with it.
    bars.setEmpty(3_000, 50);
    assert.equal(bars.quoteVolume(3_000), 0n);
    assert.equal(bars.rawQuote(3_000, false), 0);
  });
});

describe('aggregateWindowToOpenMinute', () => {
  it('equals aggregateMinutes over the last day up to the open minute, as trades come and minutes close', () => {
    const market = new SimMarket({
      spec: symbolSpec('ETH/USDT'),
      seed: 5,
      nowMs: NOW,
      historyDays: 2,
      tradeWindowMs: 30 * MINUTE_MS,
      tradesPerSecond: 8,
    });
    let compared = 0;
    let closes = 0;
    let lastLength = 0;
    for (let t = NOW; t < NOW + 5 * MINUTE_MS; t += 700) {
      market.advanceTo(t);
      const minutes = market.minutes;
      const to = minutes.length;
      if (to !== lastLength) closes++;
      lastLength = to;
      for (const from of [Math.max(0, to - DAY_OF_MINUTES), to - 3, to - 1]) {
        assert.deepEqual(
          aggregateWindowToOpenMinute(minutes, from, to, minutes.time(from), t),
          aggregateMinutes(minutes, from, to, minutes.time(from), t),
        );
        compared++;
      }
    }
    assert.ok(closes >= 5, 'minutes closed on the way');
    assert.ok(compared > 1000);
  });

  it('is flat at the close before a window without trades, and sums a window with some', () => {
    const minutes = new MinuteBars(0);
    for (let i = 0; i < 3; i++) minutes.setEmpty(i, 100);
    minutes.addTrade(0, 105, 3, true, 1, 2);
    const quiet = aggregateWindowToOpenMinute(minutes, 1, 3, MINUTE_MS, 3 * MINUTE_MS);
    assert.equal(quiet.n, 0);
    assert.equal(quiet.o, 105);
    assert.deepEqual(quiet, aggregateMinutes(minutes, 1, 3, MINUTE_MS, 3 * MINUTE_MS));
    // A trade in the open minute shows at the next call; the closed minutes' sums are reused.
    minutes.addTrade(2, 99, 2, false, 3, 3);
    const traded = aggregateWindowToOpenMinute(minutes, 1, 3, MINUTE_MS, 3 * MINUTE_MS);
    assert.deepEqual([traded.o, traded.l, traded.c, traded.n, traded.v, traded.q], [99, 99, 99, 1, 2n, 198n]);
    assert.deepEqual(traded, aggregateMinutes(minutes, 1, 3, MINUTE_MS, 3 * MINUTE_MS));
  });
});
