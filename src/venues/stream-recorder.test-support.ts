/**
 * Test support for venue feeds: stream handlers that keep everything an adapter delivers, and the client-side
 * application of book updates to a price → size map per side.
 */
import type { BookUpdate } from '../domain/book.ts';
import type { Ticker } from '../domain/ticker.ts';
import type { Trade } from '../domain/trade.ts';
import type { MarketStreamHandlers, StreamEvent, StreamStatus, VenueCandle } from './venue.ts';

export interface Recorder extends MarketStreamHandlers {
  trades: Trade[];
  candles: VenueCandle[];
  tickers: Ticker[];
  books: BookUpdate[];
  statuses: StreamStatus[];
  events: StreamEvent[];
}

/** Handlers that record every delivery, in order, per kind. */
export function recorder(): Recorder {
  const r: Recorder = {
    trades: [],
    candles: [],
    tickers: [],
    books: [],
    statuses: [],
    events: [],
    trade: (t) => r.trades.push(t),
    candle: (c) => r.candles.push(c),
    ticker: (t) => r.tickers.push(t),
    book: (u) => r.books.push(u),
    status: (s) => r.statuses.push(s),
    event: (e) => r.events.push(e),
  };
  return r;
}

/** Applies one update to a client's book: a snapshot replaces both sides, size "0" removes a level. */
export function applyBookUpdate(bids: Map<string, string>, asks: Map<string, string>, u: BookUpdate): void {
  if (u.kind === 'snapshot') {
    bids.clear();
    asks.clear();
  }
  for (const l of u.bids) {
    if (l.size === '0') bids.delete(l.price);
    else bids.set(l.price, l.size);
  }
  for (const l of u.asks) {
    if (l.size === '0') asks.delete(l.price);
    else asks.set(l.price, l.size);
  }
}
