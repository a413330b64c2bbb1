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
  let o = 0;
  let h = 0;
  let l = 0;
  let c = 0;
  let v = 0n;
  let q = 0n;
  let vb = 0n;
  let qb = 0n;
  let n = 0;
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
    const flat = before === undefined ? 0 : from > 0 ? before.c : before.o;
    o = h = l = c = flat;
  }
  return { openTime, endTime, o, h, l, c, v, q, n, vb, qb, f, L };
}
