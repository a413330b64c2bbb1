/**
 * Best prices and rolling 24 h statistics of a simulated Binance instrument, shared by the `@bookTicker` and
 * `@ticker` streams and REST `/api/v3/ticker/*`, so every view of one moment agrees with `/api/v3/depth`.
 */
import { aggregateWindowToOpenMinute } from '../market/bars.ts';
import type { BinanceSimInstrument } from './symbols.ts';
import type { BinanceSimBookTicker, BinanceSimRestTicker, BinanceSimTicker } from './wire.ts';

const DAY_OF_MINUTES = 1440;

/** The top of the current book. */
export function bookTickerOf(instrument: BinanceSimInstrument): BinanceSimBookTicker {
  const top = instrument.book.top();
  const bid = top.bid ?? ['0', '0'];
  const ask = top.ask ?? ['0', '0'];
  return { u: top.u, s: instrument.name, b: bid[0], B: bid[1], a: ask[0], A: ask[1] };
}

/** Rolling 24 h statistics over whole minutes (the window starts on a minute, as Binance's windowed tickers do). */
export function tickerEventOf(instrument: BinanceSimInstrument, now: number): BinanceSimTicker {
  const { market, fmt } = instrument;
  const minutes = market.minutes;
  const to = minutes.length;
  const from = Math.max(0, to - DAY_OF_MINUTES);
  const firstTime = minutes.time(from);
  const stats = aggregateWindowToOpenMinute(minutes, from, to, firstTime, now);
  const prevClose = from > 0 ? minutes.close(from - 1) : minutes.open(from);
  const change = stats.c - stats.o;
  const percent = stats.o === 0 ? 0 : (change / stats.o) * 100;
  const vwap = stats.v === 0n ? fmt.price(stats.c) : fmt.quoteAsPrice(stats.q, stats.v);
  const last = market.recentTrades().at(-1);
  const book = bookTickerOf(instrument);
  return {
    e: '24hrTicker',
    E: now,
    s: instrument.name,
    p: fmt.price(change),
    P: percent.toFixed(3),
    w: vwap,
    x: fmt.price(prevClose),
    c: fmt.price(stats.c),
    Q: fmt.qty(last?.lots ?? 0),
    b: book.b,
    B: book.B,
    a: book.a,
    A: book.A,
    o: fmt.price(stats.o),
    h: fmt.price(stats.h),
    l: fmt.price(stats.l),
    v: fmt.qty(stats.v),
    q: fmt.quote(stats.q),
    O: firstTime,
    C: now,
    F: stats.f,
    L: stats.L,
    n: stats.n,
  };
}

/** The same statistics in the REST `/api/v3/ticker/24hr` (FULL) shape. */
export function restTickerOf(instrument: BinanceSimInstrument, now: number): BinanceSimRestTicker {
  const t = tickerEventOf(instrument, now);
  return {
    symbol: t.s,
    priceChange: t.p,
    priceChangePercent: t.P,
    weightedAvgPrice: t.w,
    prevClosePrice: t.x,
    lastPrice: t.c,
    lastQty: t.Q,
    bidPrice: t.b,
    bidQty: t.B,
    askPrice: t.a,
    askQty: t.A,
    openPrice: t.o,
    highPrice: t.h,
    lowPrice: t.l,
    volume: t.v,
    quoteVolume: t.q,
    openTime: t.O,
    closeTime: t.C,
    firstId: t.F,
    lastId: t.L,
    count: t.n,
  };
}
