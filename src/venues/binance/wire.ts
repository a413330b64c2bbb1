/**
 * Binance spot wire formats (market streams and REST /api/v3), as sent by the exchange. Field letters are
 * Binance's; see ../../../docs/venues/BINANCE.md and the exchange docs for their meaning. Every time field is ms,
 * or µs when the stream URL carries `timeUnit=MICROSECOND`. Frames may carry keys not listed here; readers ignore
 * them.
 */

/** Item of REST GET /api/v3/aggTrades, and the payload of the `<symbol>@aggTrade` stream (which adds e, E, s). */
export interface BinanceAggTrade {
  /** Aggregate trade id. */
  a: number;
  p: string;
  q: string;
  /** First and last individual trade id. */
  f: number;
  l: number;
  /** Trade time, ms (µs with timeUnit=MICROSECOND). */
  T: number;
  /** true when the buyer was the maker, i.e. the taker sold. */
  m: boolean;
  M?: boolean;
}

export interface BinanceAggTradeEvent extends BinanceAggTrade {
  e: 'aggTrade';
  E: number;
  s: string;
}

/** Payload of `<symbol>@trade`: one individual trade. 2019 frames also carried order ids `b`/`a`. */
export interface BinanceTradeEvent {
  e: 'trade';
  E: number;
  s: string;
  /** Trade id. */
  t: number;
  p: string;
  q: string;
  T: number;
  m: boolean;
  M?: boolean;
  b?: number;
  a?: number;
}

/** The bar inside a kline event. The letters, not their order, define the meaning (`c` is close). */
export interface BinanceKlineBar {
  /** Bar open time and close time (open + interval − 1). */
  t: number;
  T: number;
  s: string;
  /** Binance interval name: 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M. */
  i: string;
  /** First and last individual trade id (-1 when the bar has no trade). */
  f: number;
  L: number;
  o: string;
  c: string;
  h: string;
  l: string;
  /** Base volume. */
  v: string;
  /** Individual trades in the bar. */
  n: number;
  /** true on the final push of the bar. */
  x: boolean;
  /** Quote volume. */
  q: string;
  /** Taker-buy base and quote volume. */
  V: string;
  Q: string;
  B?: string;
}

/** Payload of `<symbol>@kline_<interval>`. */
export interface BinanceKlineEvent {
  e: 'kline';
  E: number;
  s: string;
  k: BinanceKlineBar;
}

/** Payload of `<symbol>@ticker` (and items of `!ticker@arr`): rolling 24 h statistics. */
export interface BinanceTickerEvent {
  e: '24hrTicker';
  E: number;
  s: string;
  /** Price change and percent change over the window. */
  p: string;
  P: string;
  /** Weighted average price. */
  w: string;
  /** First trade price before the window. */
  x?: string;
  /** Last price and last quantity. */
  c: string;
  Q: string;
  /** Best bid/ask price and quantity. */
  b?: string;
  B?: string;
  a?: string;
  A?: string;
  o: string;
  h: string;
  l: string;
  /** Base and quote volume. */
  v: string;
  q: string;
  /** Window open and close time. */
  O: number;
  C: number;
  /** First and last trade id, trade count. */
  F: number;
  L: number;
  n: number;
}

/** Payload of `<symbol>@bookTicker`. The old form (before 2022) has no `e`, `E`, `T`. */
export interface BinanceBookTickerEvent {
  e?: 'bookTicker';
  /** Book update id. */
  u: number;
  s: string;
  b: string;
  B: string;
  a: string;
  A: string;
  E?: number;
  T?: number;
}

/** A price level: [price, quantity]; quantity "0" deletes the level in a diff. */
export type BinanceLevel = [string, string];

/** Payload of `<symbol>@depth[@100ms]`: a diff of the book. */
export interface BinanceDepthUpdateEvent {
  e: 'depthUpdate';
  E: number;
  s: string;
  /** First and last update id in the event. */
  U: number;
  u: number;
  b: BinanceLevel[];
  a: BinanceLevel[];
}

/** Payload of `<symbol>@depth<5|10|20>[@100ms]`, and the body of REST GET /api/v3/depth. No symbol inside. */
export interface BinanceDepthSnapshot {
  lastUpdateId: number;
  bids: BinanceLevel[];
  asks: BinanceLevel[];
}

/** Sent before a planned disconnect (combined stream name `!serverShutdown`); reconnect at once. */
export interface BinanceServerShutdownEvent {
  e: 'serverShutdown';
  E: number;
}

/** A combined-stream frame (`/stream?streams=...`). */
export interface BinanceCombinedFrame<T = unknown> {
  stream: string;
  data: T;
}

/** Reply to SUBSCRIBE / UNSUBSCRIBE (`result: null`) and LIST_SUBSCRIPTIONS (`result: [...]`). */
export interface BinanceRequestResult {
  result: null | string[];
  id: number | string | null;
}

/** Error as documented: `{code, msg}`. */
export interface BinanceErrorBody {
  code: number;
  msg: string;
}

/** Error as captured on the stream connection: `{error: {code, msg}, id}`. */
export interface BinanceRequestError {
  error: BinanceErrorBody;
  id: number | string | null;
}

/**
 * Row of REST GET /api/v3/klines: [openTime, open, high, low, close, volume, closeTime, quoteVolume, trades,
 * takerBuyBase, takerBuyQuote, ignore]. Numbers are strings except times and the trade count.
 */
export type BinanceKlineRow = [
  number,
  string,
  string,
  string,
  string,
  string,
  number,
  string,
  number,
  string,
  string,
  string?,
];

/** Item of REST GET /api/v3/trades and /api/v3/historicalTrades. */
export interface BinanceRestTrade {
  id: number;
  price: string;
  qty: string;
  quoteQty: string;
  time: number;
  isBuyerMaker: boolean;
  isBestMatch?: boolean;
}

export interface BinanceRateLimit {
  rateLimitType: 'REQUEST_WEIGHT' | 'ORDERS' | 'RAW_REQUESTS' | string;
  interval: 'SECOND' | 'MINUTE' | 'DAY' | string;
  intervalNum: number;
  limit: number;
}

/** The part of one exchangeInfo symbol Tickwire reads. */
export interface BinanceSymbolInfo {
  symbol: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
}

/** REST GET /api/v3/exchangeInfo, reduced to what Tickwire reads. */
export interface BinanceExchangeInfo {
  timezone?: string;
  serverTime?: number;
  rateLimits: BinanceRateLimit[];
  symbols: BinanceSymbolInfo[];
}

/** REST GET /api/v3/ticker/24hr?symbol=X (FULL form): rolling 24 h statistics with the best prices. */
export interface BinanceRestTicker {
  symbol: string;
  priceChange: string;
  priceChangePercent: string;
  weightedAvgPrice: string;
  prevClosePrice: string;
  lastPrice: string;
  lastQty: string;
  bidPrice: string;
  bidQty: string;
  askPrice: string;
  askQty: string;
  openPrice: string;
  highPrice: string;
  lowPrice: string;
  volume: string;
  quoteVolume: string;
  openTime: number;
  closeTime: number;
  firstId: number;
  lastId: number;
  count: number;
}
