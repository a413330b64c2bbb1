/**
 * One-minute bars, the simulator's ground truth for every kline interval, and their exact aggregation.
 *
 * Prices are integer ticks and sizes integer lots of the symbol, so sums are exact integers. A market holds a month
 * of minutes per venue and symbol (1.7 million over the stack benchmark's 40 markets): they live in typed columns
 * (`MinuteBars`), a few hundred typed arrays in all instead of an object and two BigInts per minute, so the
 * garbage collector has next to nothing to trace. Quote amounts (sums of ticks × lots) are kept as doubles while
 * they are exact integers (below 2^53, which nearly every minute is) and as BigInts past that; aggregated volumes
 * are BigInts, summed in doubles as long as that is exact.
 */
import { MINUTE_MS } from '../../domain/interval.ts';

/** One minute as a plain object: a copy read out of `MinuteBars` (it does not follow later trades). */
export interface MinuteBar {
  /** Open time, ms UTC, a whole minute. */
  readonly t: number;
  readonly o: number;
  readonly h: number;
  readonly l: number;
  readonly c: number;
  /** Base volume in lots. */
  readonly v: number;
  /** Quote volume in tick×lot units. */
  readonly q: bigint;
  /** Individual trades. */
  readonly n: number;
  /** Taker-buy base volume in lots and quote in tick×lot units. */
  readonly vb: number;
  readonly qb: bigint;
  /** First and last individual trade id; -1 when the minute had no trade. */
  readonly f: number;
  readonly L: number;
}

/** Minutes per chunk of every column: 2^11, about 1.4 days. */
const CHUNK_BITS = 11;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** One chunk of every column; `q` and `qb` are NaN where the exact amount is in the store's overflow map. */
interface Chunk {
  readonly o: Float64Array;
  readonly h: Float64Array;
  readonly l: Float64Array;
  readonly c: Float64Array;
  readonly v: Float64Array;
  readonly q: Float64Array;
  readonly n: Float64Array;
  readonly vb: Float64Array;
  readonly qb: Float64Array;
  readonly f: Float64Array;
  readonly L: Float64Array;
}

function newChunk(): Chunk {
  const column = (): Float64Array => new Float64Array(CHUNK);
  return {
    o: column(),
    h: column(),
    l: column(),
    c: column(),
    v: column(),
    q: column(),
    n: column(),
    vb: column(),
    qb: column(),
    f: column(),
    L: column(),
  };
}

/**
 * The one-minute bars of a market from `firstTime` on, one every minute without a gap, in chunked Float64 columns.
 * Minute `i` opens at `firstTime + i × MINUTE_MS`. Minutes can be written in any order (a market writes its trade
 * window first and its history before it later), `length` is one past the last minute written.
 *
 * Every field is an integer. Prices (ticks), volumes (lots), counts and ids are doubles, as the objects held them.
 * A quote amount is exact in a double while it is at most 2^53 − 1: a product or sum of two such integers whose
 * exact value exceeds that rounds to 2^53 or more, so `Number.isSafeInteger` on the double result tells exactly
 * when to go on in BigInt (the minute's amount then moves to `quoteOverflow`/`buyQuoteOverflow`).
 */
export class MinuteBars {
  readonly firstTime: number;
  private readonly chunks: (Chunk | undefined)[] = [];
  private count = 0;
  /** Exact quote amounts of the minutes past 2^53 − 1, by minute index. */
  private readonly quoteOverflow = new Map<number, bigint>();
  private readonly buyQuoteOverflow = new Map<number, bigint>();

  constructor(firstTime: number) {
    this.firstTime = firstTime;
  }

  /** One past the last minute written. */
  get length(): number {
    return this.count;
  }

  /** Index of the minute that opens at or contains time `t` (negative before the first). */
  indexOf(t: number): number {
    return Math.floor((t - this.firstTime) / MINUTE_MS);
  }

  /** Open time of minute `i`. */
  time(i: number): number {
    return this.firstTime + i * MINUTE_MS;
  }

  open(i: number): number {
    return this.chunk(i).o[i & CHUNK_MASK] as number;
  }

  high(i: number): number {
    return this.chunk(i).h[i & CHUNK_MASK] as number;
  }

  low(i: number): number {
    return this.chunk(i).l[i & CHUNK_MASK] as number;
  }

  close(i: number): number {
    return this.chunk(i).c[i & CHUNK_MASK] as number;
  }

  /** Base volume in lots. */
  volume(i: number): number {
    return this.chunk(i).v[i & CHUNK_MASK] as number;
  }

  /** Quote volume in tick×lot units. */
  quoteVolume(i: number): bigint {
    return this.exactQuote(i, false);
  }

  /**
   * Quote volume (`buy`: taker-buy quote volume) of minute `i` as a double, exact; NaN when it is past 2^53 − 1
   * (then `quoteVolume` or `takerBuyQuoteVolume` has it). Lets a sum skip a BigInt per minute.
   */
  rawQuote(i: number, buy: boolean): number {
    const ch = this.chunk(i);
    return (buy ? ch.qb : ch.q)[i & CHUNK_MASK] as number;
  }

  /** Individual trades. */
  trades(i: number): number {
    return this.chunk(i).n[i & CHUNK_MASK] as number;
  }

  takerBuyVolume(i: number): number {
    return this.chunk(i).vb[i & CHUNK_MASK] as number;
  }

  takerBuyQuoteVolume(i: number): bigint {
    return this.exactQuote(i, true);
  }

  /** Quote volume (`buy`: taker-buy quote volume) of minute `i`, from its column or, past 2^53 − 1, its overflow. */
  private exactQuote(i: number, buy: boolean): bigint {
    const raw = this.rawQuote(i, buy);
    return Number.isNaN(raw)
      ? ((buy ? this.buyQuoteOverflow : this.quoteOverflow).get(i) as bigint)
      : BigInt(raw);
  }

  /** First individual trade id; -1 when the minute had no trade. */
  firstTradeId(i: number): number {
    return this.chunk(i).f[i & CHUNK_MASK] as number;
  }

  lastTradeId(i: number): number {
    return this.chunk(i).L[i & CHUNK_MASK] as number;
  }

  /** Minute `i` as an object, or undefined outside [0, length). */
  bar(i: number): MinuteBar | undefined {
    if (!(i >= 0 && i < this.count)) return undefined;
    const k = i & CHUNK_MASK;
    const ch = this.chunk(i);
    return {
      t: this.time(i),
      o: ch.o[k] as number,
      h: ch.h[k] as number,
      l: ch.l[k] as number,
      c: ch.c[k] as number,
      v: ch.v[k] as number,
      q: this.quoteVolume(i),
      n: ch.n[k] as number,
      vb: ch.vb[k] as number,
      qb: this.takerBuyQuoteVolume(i),
      f: ch.f[k] as number,
      L: ch.L[k] as number,
    };
  }

  /** Sets minute `i` to a flat, empty minute at `price` ticks. */
  setEmpty(i: number, price: number): void {
    const ch = this.writable(i);
    const k = i & CHUNK_MASK;
    ch.o[k] = ch.h[k] = ch.l[k] = ch.c[k] = price;
    ch.v[k] = ch.q[k] = ch.n[k] = ch.vb[k] = ch.qb[k] = 0;
    ch.f[k] = ch.L[k] = -1;
    this.quoteOverflow.delete(i);
    this.buyQuoteOverflow.delete(i);
  }

  /** Sets the prices of an empty minute `i` (flat at `price`). */
  setFlat(i: number, price: number): void {
    const ch = this.chunk(i);
    const k = i & CHUNK_MASK;
    ch.o[k] = ch.h[k] = ch.l[k] = ch.c[k] = price;
  }

  /** Adds one aggregate trade (all its fills at one price) to minute `i`. */
  addTrade(i: number, ticks: number, lots: number, takerBuy: boolean, firstId: number, lastId: number): void {
    const ch = this.chunk(i);
    const k = i & CHUNK_MASK;
    if (ch.n[k] === 0) {
      ch.o[k] = ch.h[k] = ch.l[k] = ticks;
      ch.f[k] = firstId;
    } else {
      if (ticks > (ch.h[k] as number)) ch.h[k] = ticks;
      if (ticks < (ch.l[k] as number)) ch.l[k] = ticks;
    }
    ch.c[k] = ticks;
    const quote = ticks * lots;
    ch.v[k] = (ch.v[k] as number) + lots;
    addQuote(ch.q, k, i, this.quoteOverflow, quote, ticks, lots);
    if (takerBuy) {
      ch.vb[k] = (ch.vb[k] as number) + lots;
      addQuote(ch.qb, k, i, this.buyQuoteOverflow, quote, ticks, lots);
    }
    ch.n[k] = (ch.n[k] as number) + lastId - firstId + 1;
    ch.L[k] = lastId;
  }

  /** Adds to every id of the minutes [from, to) that traded (history ids are counted from zero, then moved). */
  shiftIds(from: number, to: number, shift: number): void {
    for (let i = from; i < to; i++) {
      const ch = this.chunk(i);
      const k = i & CHUNK_MASK;
      if (ch.n[k] === 0) continue;
      ch.f[k] = (ch.f[k] as number) + shift;
      ch.L[k] = (ch.L[k] as number) + shift;
    }
  }

  /** The chunk of a minute that was written. */
  private chunk(i: number): Chunk {
    const ch = this.chunks[i >>> CHUNK_BITS];
    if (ch === undefined || !(i >= 0 && i < this.count)) throw new RangeError(`minute ${i} was not written`);
    return ch;
  }

  private writable(i: number): Chunk {
    if (!(i >= 0 && Number.isInteger(i))) throw new RangeError(`minute index ${i}`);
    const c = i >>> CHUNK_BITS;
    while (this.chunks.length <= c) this.chunks.push(undefined);
    let ch = this.chunks[c];
    if (ch === undefined) {
      ch = newChunk();
      this.chunks[c] = ch;
    }
    if (i >= this.count) this.count = i + 1;
    return ch;
  }
}

/** Adds `quote` (= ticks × lots, as a double) to column `col` at `k`, in BigInt once it is no longer exact. */
function addQuote(
  col: Float64Array,
  k: number,
  i: number,
  overflow: Map<number, bigint>,
  quote: number,
  ticks: number,
  lots: number,
): void {
  const held = col[k] as number;
  if (!Number.isNaN(held) && Number.isSafeInteger(quote)) {
    const sum = held + quote;
    if (Number.isSafeInteger(sum)) {
      col[k] = sum;
      return;
    }
  }
  const exact =
    (Number.isNaN(held) ? (overflow.get(i) as bigint) : BigInt(held)) + BigInt(ticks) * BigInt(lots);
  col[k] = Number.NaN;
  overflow.set(i, exact);
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

/**
 * An exact sum of non-negative integers: in a double while the running sum stays at most 2^53 − 1 (a sum of two
 * such integers that exceeds it rounds to 2^53 or more, so the check is exact), moved into a BigInt when it would
 * not. Summing a day of minutes thus costs one or two BigInt operations instead of one per minute.
 */
class ExactSum {
  private big = 0n;
  private small = 0;

  add(x: number): void {
    const sum = this.small + x;
    if (Number.isSafeInteger(sum)) {
      this.small = sum;
    } else {
      this.big += BigInt(this.small);
      this.small = x;
    }
  }

  addBig(x: bigint): void {
    this.big += x;
  }

  total(): bigint {
    return this.big + BigInt(this.small);
  }
}

/** Adds `minutes[from..to)` to `sums`, in order; minutes outside [0, length) are skipped. */
function addMinutes(sums: MinuteSums, minutes: MinuteBars, from: number, to: number): void {
  const v = new ExactSum();
  const q = new ExactSum();
  const vb = new ExactSum();
  const qb = new ExactSum();
  const end = Math.min(to, minutes.length);
  for (let i = Math.max(0, from); i < end; i++) {
    const n = minutes.trades(i);
    if (n === 0) continue;
    if (sums.n === 0) {
      sums.o = minutes.open(i);
      sums.h = minutes.high(i);
      sums.l = minutes.low(i);
      sums.f = minutes.firstTradeId(i);
    } else {
      const h = minutes.high(i);
      const l = minutes.low(i);
      if (h > sums.h) sums.h = h;
      if (l < sums.l) sums.l = l;
    }
    sums.c = minutes.close(i);
    sums.n += n;
    v.add(minutes.volume(i));
    vb.add(minutes.takerBuyVolume(i));
    addQuoteOf(q, minutes, i, false);
    addQuoteOf(qb, minutes, i, true);
    sums.L = minutes.lastTradeId(i);
  }
  sums.v += v.total();
  sums.q += q.total();
  sums.vb += vb.total();
  sums.qb += qb.total();
}

/** Adds minute `i`'s quote (or taker-buy quote) volume, without a BigInt unless it is one. */
function addQuoteOf(sum: ExactSum, minutes: MinuteBars, i: number, buy: boolean): void {
  const raw = minutes.rawQuote(i, buy);
  if (Number.isNaN(raw)) sum.addBig(buy ? minutes.takerBuyQuoteVolume(i) : minutes.quoteVolume(i));
  else sum.add(raw);
}

/** The bar of `sums` over minutes from `from` on; with no trade at all, flat at the close before it. */
function barOf(
  sums: MinuteSums,
  minutes: MinuteBars,
  from: number,
  openTime: number,
  endTime: number,
): AggregatedBar {
  let { o, h, l, c } = sums;
  if (sums.n === 0) {
    const count = minutes.length;
    const flat =
      from > 0 && from <= count ? minutes.close(from - 1) : from === 0 && count > 0 ? minutes.open(0) : 0;
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
  minutes: MinuteBars,
  from: number,
  to: number,
  openTime: number,
  endTime: number,
): AggregatedBar {
  const sums = noSums();
  addMinutes(sums, minutes, from, to);
  return barOf(sums, minutes, from, openTime, endTime);
}

/** The sums of the closed minutes of the latest window asked for over one market's minutes. */
const closedSums = new WeakMap<MinuteBars, { from: number; to: number; sums: MinuteSums }>();

/**
 * `aggregateMinutes(minutes, from, to, ...)` where every minute but the last (the open one) is closed and no longer
 * changes: the closed minutes are summed once per window and kept, the open one added on each call. The 24 h
 * tickers aggregate the last 1,440 minutes of every instrument every second or half second, and summing them
 * anew each time was about a fifth of an idle simulator's busy time and a third of its allocations.
 */
export function aggregateWindowToOpenMinute(
  minutes: MinuteBars,
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
