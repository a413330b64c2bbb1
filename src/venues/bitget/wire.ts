/**
 * Bitget API v2 wire formats (public WebSocket `/v2/ws/public` and REST `/api/v2/...`), as sent by the exchange.
 * Every price, size and time inside `data` is a string (times are ms as text); the push envelope's own `ts` is a
 * number. Frames may carry keys not listed here; readers ignore them. See docs/venues/BITGET.md.
 */

/** The instrument families Tickwire reads. Bitget also has COIN-FUTURES and USDC-FUTURES (recognised, not mapped). */
export type BitgetInstType = 'SPOT' | 'USDT-FUTURES';

/** A subscription argument, echoed in acks, errors and pushes. */
export interface BitgetArg {
  instType: string;
  channel: string;
  instId?: string;
  coin?: string;
}

/** Client request: `{"op":"subscribe","args":[...]}`. */
export interface BitgetRequest {
  op: 'subscribe' | 'unsubscribe';
  args: BitgetArg[];
}

/** Per-arg acknowledgement of a subscribe or unsubscribe (no code on success). */
export interface BitgetAckFrame {
  event: 'subscribe' | 'unsubscribe';
  arg: BitgetArg;
}

/** Error reply, e.g. `{"event":"error","arg":{...},"code":30016,"msg":"Param error","op":"subscribe"}`. */
export interface BitgetErrorFrame {
  event: 'error';
  code: number;
  msg: string;
  arg?: BitgetArg;
  op?: string;
}

/** Login reply of the private socket (`code` 0 on success). */
export interface BitgetLoginFrame {
  event: 'login';
  code: number;
  msg?: string;
}

/** A data push: the first one per subscription is a `snapshot`, the rest `update`s. */
export interface BitgetPushFrame<T> {
  action: 'snapshot' | 'update';
  arg: BitgetArg;
  data: T[];
  /** Send time, ms. */
  ts: number;
}

/** Row of the `trade` channel; `side` is the taker's, lower case. */
export interface BitgetTradeRow {
  ts: string;
  price: string;
  size: string;
  side: string;
  tradeId: string;
}

/** Row of the `ticker` channel. Futures add the fields marked optional. */
export interface BitgetTickerRow {
  instId: string;
  lastPr: string;
  open24h?: string;
  high24h?: string;
  low24h?: string;
  change24h?: string;
  bidPr?: string;
  askPr?: string;
  bidSz?: string;
  askSz?: string;
  baseVolume?: string;
  quoteVolume?: string;
  openUtc?: string;
  changeUtc24h?: string;
  fundingRate?: string;
  nextFundingTime?: string;
  markPrice?: string;
  indexPrice?: string;
  holdingAmount?: string;
  symbolType?: string;
  symbol?: string;
  deliveryPrice?: string;
  ts: string;
}

/** `[price, size]` as strings; size "0" removes the level. REST merge-depth may send numbers. */
export type BitgetLevel = [string | number, string | number];

/** Row of `books` / `books1` / `books5` / `books15`. `seq`/`pseq` appear on captures from 2025 on. */
export interface BitgetBookRow {
  asks: BitgetLevel[];
  bids: BitgetLevel[];
  /** Signed CRC-32 over the top 25 levels after applying (books only); 0 on snapshots. */
  checksum?: number;
  seq?: number;
  pseq?: number;
  ts: string;
}

/**
 * Candle row: `[ts, open, high, low, close, baseVolume, quoteVolume, usdtVolume]` on the socket and spot REST;
 * futures REST rows have 7 items (no USDT volume). `ts` is the bar's start.
 */
export type BitgetCandleRow = string[];

/** REST envelope: `code` "00000" on success. */
export interface BitgetRestEnvelope<T> {
  code: string;
  msg: string;
  requestTime?: number;
  data: T;
}

/** Item of GET /api/v2/{spot,mix}/market/fills-history and /fills. `side` is capitalised ("Buy"/"Sell"). */
export interface BitgetRestTrade {
  symbol: string;
  tradeId: string;
  side: string;
  price: string;
  size: string;
  ts: string;
}

/** Data of GET /api/v2/spot/market/orderbook and /api/v2/{spot,mix}/market/merge-depth. */
export interface BitgetRestBook {
  asks: BitgetLevel[];
  bids: BitgetLevel[];
  ts: string;
}

/** Item of GET /api/v2/spot/market/tickers and /api/v2/mix/market/ticker (fields shared by both). */
export interface BitgetRestTicker {
  symbol: string;
  lastPr: string;
  open?: string;
  open24h?: string;
  high24h?: string;
  low24h?: string;
  bidPr?: string;
  askPr?: string;
  bidSz?: string;
  askSz?: string;
  baseVolume?: string;
  quoteVolume?: string;
  ts: string;
}
