/**
 * Mutable bar accumulators used inside the candle engine. They are never handed out: callers get an immutable
 * `Candle` from `toCandle` / `combineToCandle`.
 *
 * Order of trades inside a bar (which trade is the open and which the close): two trades of the same venue that
 * both carry a sequence number (`Trade.seq`, the Binance aggregate id) are ordered by it, which is the exchange's
 * own order; otherwise by exchange time, and trades with equal time by arrival. A late trade with a lower sequence
 * number than the current open therefore becomes the open, as it would have on the exchange.
 */
import type { Candle } from '../domain/candle.ts';
import { type Decimal, ZERO, add, compare, eq, mul } from '../domain/decimal.ts';
import { VENUES, type VenueId } from '../domain/instrument.ts';
import type { Trade } from '../domain/trade.ts';

export interface MutableBar {
  time: number;
  open: Decimal;
  high: Decimal;
  low: Decimal;
  close: Decimal;
  volume: Decimal;
  quoteVolume: Decimal;
  takerBuyVolume: Decimal;
  takerBuyQuoteVolume: Decimal;
  trades: number;
  /** False for an empty bar: its prices are the previous close and its volumes zero. */
  traded: boolean;
  /** Bit set of venue indexes (VENUES order) whose trades built the bar; 0 = unknown (use the default list). */
  mask: number;
  /** Ordering key of the trade that set `open` (time, venue index, seq or NaN). */
  openTime: number;
  openVenue: number;
  openSeq: number;
  /** Ordering key of the trade that set `close`. */
  closeTime: number;
  closeVenue: number;
  closeSeq: number;
}

/** An empty bar at `time`, flat at `price`. */
export function flatBar(time: number, price: Decimal): MutableBar {
  return {
    time,
    open: price,
    high: price,
    low: price,
    close: price,
    volume: ZERO,
    quoteVolume: ZERO,
    takerBuyVolume: ZERO,
    takerBuyQuoteVolume: ZERO,
    trades: 0,
    traded: false,
    mask: 0,
    openTime: time,
    openVenue: -1,
    openSeq: NaN,
    closeTime: time,
    closeVenue: -1,
    closeSeq: NaN,
  };
}

/** Makes `bar` empty again at `time`, flat at `price`, without allocating. */
export function resetBar(bar: MutableBar, time: number, price: Decimal): void {
  bar.time = time;
  setFlat(bar, price);
  bar.volume = ZERO;
  bar.quoteVolume = ZERO;
  bar.takerBuyVolume = ZERO;
  bar.takerBuyQuoteVolume = ZERO;
  bar.trades = 0;
  bar.traded = false;
  bar.mask = 0;
}

/** Sets the four prices of an empty bar. */
export function setFlat(bar: MutableBar, price: Decimal): void {
  bar.open = price;
  bar.high = price;
  bar.low = price;
  bar.close = price;
}

/**
 * A bar from a closed candle (seeding). The trades inside are unknown, so the open is keyed at the bar's start and
 * the close at its last millisecond: a later trade lands between them by time.
 */
export function barFromCandle(candle: Candle, lengthMs: number, mask: number): MutableBar {
  const traded = candle.trades > 0 || candle.volume.coef !== 0n;
  return {
    time: candle.time,
    open: candle.open,
    high: candle.high,
    low: candle.low,
    close: candle.close,
    volume: candle.volume,
    quoteVolume: candle.quoteVolume,
    takerBuyVolume: candle.takerBuyVolume,
    takerBuyQuoteVolume: candle.takerBuyQuoteVolume,
    trades: candle.trades,
    traded,
    mask,
    openTime: candle.time,
    openVenue: -1,
    openSeq: NaN,
    closeTime: candle.time + lengthMs - 1,
    closeVenue: -1,
    closeSeq: NaN,
  };
}

/**
 * Bit of a source mask set when the bar holds trades or history that came over the venue's REST API (history at
 * start-up, a backfill) rather than from its live stream. The bits below it are the venues.
 */
export const BACKFILLED_BIT = 1 << VENUES.length;
/** The venue bits of a source mask. */
export const VENUE_BITS = BACKFILLED_BIT - 1;

/** Index of a venue in VENUES, used as its bit in source masks. */
export function venueIndex(venue: VenueId): number {
  return VENUES.indexOf(venue);
}

/** Bit set for a list of venues. */
export function maskOf(venues: readonly VenueId[]): number {
  let mask = 0;
  for (const v of venues) mask |= 1 << venueIndex(v);
  return mask;
}

/** True when the trade keyed (aTime, aVenue, aSeq) comes before (bTime, bVenue, bSeq) in exchange order. */
function before(
  aTime: number,
  aVenue: number,
  aSeq: number,
  bTime: number,
  bVenue: number,
  bSeq: number,
): boolean {
  // NaN === NaN is false, so a missing sequence number falls back to time.
  if (aVenue === bVenue && aSeq === aSeq && bSeq === bSeq) return aSeq < bSeq;
  return aTime < bTime;
}

/** Adds one trade to a bar (the trade's minute must be the bar's). */
export function applyTrade(bar: MutableBar, trade: Trade, venue: number): void {
  const price = trade.price;
  const size = trade.size;
  const quote = mul(price, size);
  const seq = trade.seq ?? NaN;
  if (!bar.traded) {
    bar.traded = true;
    setFlat(bar, price);
    bar.volume = size;
    bar.quoteVolume = quote;
    if (trade.side === 'buy') {
      bar.takerBuyVolume = size;
      bar.takerBuyQuoteVolume = quote;
    } else {
      bar.takerBuyVolume = ZERO;
      bar.takerBuyQuoteVolume = ZERO;
    }
    bar.trades = trade.fills;
    bar.mask = 1 << venue;
    bar.openTime = bar.closeTime = trade.time;
    bar.openVenue = bar.closeVenue = venue;
    bar.openSeq = bar.closeSeq = seq;
    return;
  }
  if (compare(price, bar.high) > 0) bar.high = price;
  if (compare(price, bar.low) < 0) bar.low = price;
  bar.volume = add(bar.volume, size);
  bar.quoteVolume = add(bar.quoteVolume, quote);
  if (trade.side === 'buy') {
    bar.takerBuyVolume = add(bar.takerBuyVolume, size);
    bar.takerBuyQuoteVolume = add(bar.takerBuyQuoteVolume, quote);
  }
  bar.trades += trade.fills;
  bar.mask |= 1 << venue;
  if (before(trade.time, venue, seq, bar.openTime, bar.openVenue, bar.openSeq)) {
    bar.open = price;
    bar.openTime = trade.time;
    bar.openVenue = venue;
    bar.openSeq = seq;
  }
  if (!before(trade.time, venue, seq, bar.closeTime, bar.closeVenue, bar.closeSeq)) {
    bar.close = price;
    bar.closeTime = trade.time;
    bar.closeVenue = venue;
    bar.closeSeq = seq;
  }
}

/**
 * Folds a later bar into an accumulator of a higher interval. Only bars with trades count: the flat price of an
 * empty minute never becomes a higher bar's open, high or low.
 */
export function foldBar(into: MutableBar, from: MutableBar): void {
  if (!from.traded) return;
  if (!into.traded) {
    into.traded = true;
    into.open = from.open;
    into.high = from.high;
    into.low = from.low;
    into.close = from.close;
    into.volume = from.volume;
    into.quoteVolume = from.quoteVolume;
    into.takerBuyVolume = from.takerBuyVolume;
    into.takerBuyQuoteVolume = from.takerBuyQuoteVolume;
    into.trades = from.trades;
    into.mask = from.mask;
    return;
  }
  if (compare(from.high, into.high) > 0) into.high = from.high;
  if (compare(from.low, into.low) < 0) into.low = from.low;
  into.close = from.close;
  into.volume = add(into.volume, from.volume);
  into.quoteVolume = add(into.quoteVolume, from.quoteVolume);
  into.takerBuyVolume = add(into.takerBuyVolume, from.takerBuyVolume);
  into.takerBuyQuoteVolume = add(into.takerBuyQuoteVolume, from.takerBuyQuoteVolume);
  into.trades += from.trades;
  into.mask |= from.mask;
}

/** The immutable candle of a bar. */
export function toCandle(bar: MutableBar, time: number = bar.time): Candle {
  return {
    time,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
    quoteVolume: bar.quoteVolume,
    takerBuyVolume: bar.takerBuyVolume,
    takerBuyQuoteVolume: bar.takerBuyQuoteVolume,
    trades: bar.trades,
  };
}

/** A flat, empty candle at `time`. */
export function flatCandle(time: number, price: Decimal): Candle {
  return {
    time,
    open: price,
    high: price,
    low: price,
    close: price,
    volume: ZERO,
    quoteVolume: ZERO,
    takerBuyVolume: ZERO,
    takerBuyQuoteVolume: ZERO,
    trades: 0,
  };
}

/**
 * The higher-interval bar at `time` made of `base` (its closed minutes) followed by `last` (the newest minute).
 * When neither traded, the bar is flat at the newest minute's price, which is the previous close.
 */
export function combineToCandle(time: number, base: MutableBar, last: MutableBar): Candle {
  if (!last.traded) return base.traded ? toCandle(base, time) : flatCandle(time, last.close);
  if (!base.traded) return toCandle(last, time);
  return {
    time,
    open: base.open,
    high: compare(last.high, base.high) > 0 ? last.high : base.high,
    low: compare(last.low, base.low) < 0 ? last.low : base.low,
    close: last.close,
    volume: add(base.volume, last.volume),
    quoteVolume: add(base.quoteVolume, last.quoteVolume),
    takerBuyVolume: add(base.takerBuyVolume, last.takerBuyVolume),
    takerBuyQuoteVolume: add(base.takerBuyQuoteVolume, last.takerBuyQuoteVolume),
    trades: base.trades + last.trades,
  };
}

/** Source mask of `combineToCandle(base, last)`. */
export function combinedMask(base: MutableBar, last: MutableBar): number {
  return (base.traded ? base.mask : 0) | (last.traded ? last.mask : 0);
}

/** Field-by-field equality of two candles (decimals by value). */
export function sameCandle(a: Candle, b: Candle): boolean {
  return (
    a.time === b.time &&
    a.trades === b.trades &&
    eq(a.open, b.open) &&
    eq(a.high, b.high) &&
    eq(a.low, b.low) &&
    eq(a.close, b.close) &&
    eq(a.volume, b.volume) &&
    eq(a.quoteVolume, b.quoteVolume) &&
    eq(a.takerBuyVolume, b.takerBuyVolume) &&
    eq(a.takerBuyQuoteVolume, b.takerBuyQuoteVolume)
  );
}
