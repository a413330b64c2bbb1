/**
 * Binance spot wire formats as the simulator sends them, written from the exchange's documentation
 * (web-socket-streams.md, rest-api.md) and checked against captured frames. Declared here on purpose instead of
 * shared with the adapter, so the adapter is tested against an independent reading of the protocol.
 */

export interface BinanceSimAggTradeEvent {
  e: 'aggTrade';
  E: number;
  s: string;
  a: number;
  p: string;
  q: string;
  f: number;
  l: number;
  T: number;
  m: boolean;
  M: boolean;
}

export interface BinanceSimTradeEvent {
  e: 'trade';
  E: number;
  s: string;
  t: number;
  p: string;
  q: string;
  T: number;
  m: boolean;
  M: boolean;
}

export interface BinanceSimKlinePayload {
  t: number;
  T: number;
  s: string;
  i: string;
  f: number;
  L: number;
  o: string;
  c: string;
  h: string;
  l: string;
  v: string;
  n: number;
  x: boolean;
  q: string;
  V: string;
  Q: string;
  B: string;
}

export interface BinanceSimKlineEvent {
  e: 'kline';
  E: number;
  s: string;
  k: BinanceSimKlinePayload;
}

export interface BinanceSimBookTicker {
  u: number;
  s: string;
  b: string;
  B: string;
  a: string;
  A: string;
}

export interface BinanceSimTicker {
  e: '24hrTicker';
  E: number;
  s: string;
  p: string;
  P: string;
  w: string;
  x: string;
  c: string;
  Q: string;
  b: string;
  B: string;
  a: string;
  A: string;
  o: string;
  h: string;
  l: string;
  v: string;
  q: string;
  O: number;
  C: number;
  F: number;
  L: number;
  n: number;
}

/** REST GET /api/v3/ticker/24hr?symbol=X (type FULL). */
export interface BinanceSimRestTicker {
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

/** `<symbol>@depth[@100ms]`: the levels that changed between update ids U and u; quantity "0" removes a level. */
export interface BinanceSimDepthUpdate {
  e: 'depthUpdate';
  E: number;
  s: string;
  U: number;
  u: number;
  b: [string, string][];
  a: [string, string][];
}

/** `{"e":"serverShutdown"}`, sent before the venue closes a connection for maintenance. */
export interface BinanceSimServerShutdown {
  e: 'serverShutdown';
  E: number;
}

/** Reply to SUBSCRIBE / UNSUBSCRIBE (result null), LIST_SUBSCRIPTIONS (names) or GET_PROPERTY (value). */
export interface BinanceSimResult {
  result: null | string[] | boolean;
  id: BinanceSimRequestId;
}

export type BinanceSimRequestId = number | string | null;

export interface BinanceSimErrorReply {
  error: { code: 0 | 1 | 2 | 3; msg: string };
  id: BinanceSimRequestId;
}

/** REST GET /api/v3/aggTrades item. */
export interface BinanceSimAggTradeItem {
  a: number;
  p: string;
  q: string;
  f: number;
  l: number;
  T: number;
  m: boolean;
  M: boolean;
}

/** REST GET /api/v3/trades item. */
export interface BinanceSimTradeItem {
  id: number;
  price: string;
  qty: string;
  quoteQty: string;
  time: number;
  isBuyerMaker: boolean;
  isBestMatch: boolean;
}

/** REST GET /api/v3/klines row. */
export type BinanceSimKlineRow = [
  openTime: number,
  open: string,
  high: string,
  low: string,
  close: string,
  volume: string,
  closeTime: number,
  quoteVolume: string,
  trades: number,
  takerBuyBase: string,
  takerBuyQuote: string,
  ignore: string,
];

export interface BinanceSimDepth {
  lastUpdateId: number;
  bids: [string, string][];
  asks: [string, string][];
}

export interface BinanceSimRestError {
  code: number;
  msg: string;
}

export interface BinanceSimFilter {
  filterType: string;
  [key: string]: string | number | boolean;
}

export interface BinanceSimSymbolInfo {
  symbol: string;
  status: 'TRADING';
  baseAsset: string;
  baseAssetPrecision: number;
  quoteAsset: string;
  quotePrecision: number;
  quoteAssetPrecision: number;
  orderTypes: string[];
  icebergAllowed: boolean;
  ocoAllowed: boolean;
  isSpotTradingAllowed: boolean;
  isMarginTradingAllowed: boolean;
  filters: BinanceSimFilter[];
  permissions: string[];
}

export interface BinanceSimRateLimit {
  rateLimitType: 'REQUEST_WEIGHT' | 'ORDERS' | 'RAW_REQUESTS';
  interval: 'SECOND' | 'MINUTE' | 'DAY';
  intervalNum: number;
  limit: number;
}

export interface BinanceSimExchangeInfo {
  timezone: 'UTC';
  serverTime: number;
  rateLimits: BinanceSimRateLimit[];
  exchangeFilters: never[];
  symbols: BinanceSimSymbolInfo[];
}
