/**
 * One-minute bars, the simulator's ground truth for every kline interval, and their exact aggregation.
 *
 * Prices are integer ticks and sizes integer lots of the symbol, so sums are exact integers; quote amounts are sums
 * of ticks × lots (bigint: they overflow doubles over a month of trading).
 */
export interface MinuteBar {
  /** Open time, ms UTC, a whole minute. */
  readonly t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  /** Base volume in lots. */
  v: number;
  /** Quote volume in tick×lot units. */
  q: bigint;
  /** Individual trades. */
  n: number;
  /** Taker-buy base volume in lots and quote in tick×lot units. */
  vb: number;
  qb: bigint;
  /** First and last individual trade id; -1 when the minute had no trade. */
  f: number;
  L: number;
}

/** A flat, empty minute at `price` ticks. */
export function emptyMinute(t: number, price: number): MinuteBar {
  return { t, o: price, h: price, l: price, c: price, v: 0, q: 0n, n: 0, vb: 0, qb: 0n, f: -1, L: -1 };
}

/** Adds one aggregate trade (all its fills at one price) to a minute. */
export function addTradeToMinute(
  bar: MinuteBar,
  ticks: number,
  lots: number,
  takerBuy: boolean,
  firstId: number,
  lastId: number,
): void {
  if (bar.n === 0) {
    bar.o = bar.h = bar.l = ticks;
    bar.f = firstId;
  } else {
    if (ticks > bar.h) bar.h = ticks;
    if (ticks < bar.l) bar.l = ticks;
  }
  bar.c = ticks;
  const quote = BigInt(ticks) * BigInt(lots);
  bar.v += lots;
  bar.q += quote;
  if (takerBuy) {
    bar.vb += lots;
    bar.qb += quote;
  }
  bar.n += lastId - firstId + 1;
  bar.L = lastId;
}

/** A bar of any interval built from minutes; volumes as bigint so a month cannot overflow. */
export interface AggregatedBar {
  readonly openTime: number;
  /** Start of the next bar (exclusive end). */
  readonly endTime: number;
  readonly o: number;
  readonly h: number;
  readonly l: number;
  readonly c: number;
  readonly v: bigint;
  readonly q: bigint;
  readonly n: number;
  readonly vb: bigint;
  readonly qb: bigint;
  readonly f: number;
  readonly L: number;
}

/** What aggregating minutes accumulates: `n` 0 while no minute that traded was added. */
interface MinuteSums {
  o: number;
  h: number;
  l: number;
  c: number;
  v: bigint;
  q: bigint;
  n: number;
  vb: bigint;
  qb: bigint;
  f: number;
  L: number;
}

function noSums(): MinuteSums {
  return { o: 0, h: 0, l: 0, c: 0, v: 0n, q: 0n, n: 0, vb: 0n, qb: 0n, f: -1, L: -1 };
}

/** Adds `minutes[from..to)` to `sums`, in order. */
function addMinutes(sums: MinuteSums, minutes: readonly MinuteBar[], from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const m = minutes[i];
    if (m === undefined || m.n === 0) continue;
    if (sums.n === 0) {
      sums.o = m.o;
      sums.h = m.h;
      sums.l = m.l;
      sums.f = m.f;
    } else {
      if (m.h > sums.h) sums.h = m.h;
      if (m.l < sums.l) sums.l = m.l;
    }
    sums.c = m.c;
    sums.n += m.n;
    sums.v += BigInt(m.v);
    sums.q += m.q;
    sums.vb += BigInt(m.vb);
    sums.qb += m.qb;
    sums.L = m.L;
  }
}

/** The bar of `sums` over minutes from `from` on; with no trade at all, flat at the close before it. */
function barOf(
  sums: MinuteSums,
  minutes: readonly MinuteBar[],
  from: number,
  openTime: number,
  endTime: number,
): AggregatedBar {
  let { o, h, l, c } = sums;
  if (sums.n === 0) {
    const before = minutes[from - 1] ?? minutes[from];
    const flat = before === undefined ? 0 : from > 0 ? before.c : before.o;
    o = h = l = c = flat;
  }
  const { v, q, n, vb, qb, f, L } = sums;
  return { openTime, endTime, o, h, l, c, v, q, n, vb, qb, f, L };
}

/**
 * Aggregates `minutes[from..to)` into one bar spanning [openTime, endTime). Open, high, low and close come from
 * the minutes that traded only (an empty minute's flat price is the previous close, not a trade); a bar with no
 * trade at all is flat at the close before it (`prevClose`, or its first minute's price when nothing precedes).
 */
export function aggregateMinutes(
  minutes: readonly MinuteBar[],
  from: number,
  to: number,
  openTime: number,
  endTime: number,
): AggregatedBar {
  const sums = noSums();
  addMinutes(sums, minutes, from, to);
  return barOf(sums, minutes, from, openTime, endTime);
}

/** The sums of the closed minutes of the latest window asked for over one minutes array. */
const closedSums = new WeakMap<readonly MinuteBar[], { from: number; to: number; sums: MinuteSums }>();

/**
 * `aggregateMinutes(minutes, from, to, ...)` where every minute but the last (the open one) is closed and no longer
 * changes: the closed minutes are summed once per window and kept, the open one added on each call. The 24 h
 * tickers aggregate the last 1,440 minutes of every instrument every second or half second, and summing them
 * anew each time (in BigInt) was about a fifth of an idle simulator's busy time and a third of its allocations.
 */
export function aggregateWindowToOpenMinute(
  minutes: readonly MinuteBar[],
  from: number,
  to: number,
  openTime: number,
  endTime: number,
): AggregatedBar {
  if (to <= from) return aggregateMinutes(minutes, from, to, openTime, endTime);
  let closed = closedSums.get(minutes);
  if (closed === undefined || closed.from !== from || closed.to !== to - 1) {
    const sums = noSums();
    addMinutes(sums, minutes, from, to - 1);
    closed = { from, to: to - 1, sums };
    closedSums.set(minutes, closed);
  }
  const sums = { ...closed.sums };
  addMinutes(sums, minutes, to - 1, to);
  return barOf(sums, minutes, from, openTime, endTime);
}
