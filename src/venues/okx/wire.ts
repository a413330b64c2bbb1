/**
 * OKX API v5 wire formats (public and business WebSocket, REST /api/v5/market), as sent by the exchange. Every
 * number is a string except `checksum`, `seqId` and `prevSeqId`; times are ms since the epoch as strings. Frames
 * may carry keys not listed here (OKX adds fields over time); readers ignore them. See docs/venues/OKX.md.
 */

/** The channel (and instrument) a request, ack or push refers to. */
export interface OkxArg {
  channel: string;
  instId?: string;
  instType?: string;
  instFamily?: string;
  uid?: string;
}

/** `{"op":"subscribe"|"unsubscribe","args":[...]}`; `id` (≤ 32 alphanumerics) is echoed in the acks. */
export interface OkxRequest {
  id?: string;
  op: 'subscribe' | 'unsubscribe';
  args: OkxArg[];
}

/** One ack per arg of a subscribe/unsubscribe request. */
export interface OkxSubscribeAck {
  id?: string;
  event: 'subscribe' | 'unsubscribe';
  arg: OkxArg;
  connId?: string;
}

/** `{"event":"error","code":"60012","msg":"...","connId":"..."}`. Codes are strings. */
export interface OkxErrorEvent {
  id?: string;
  event: 'error';
  code: string;
  msg: string;
  connId?: string;
}

/** `{"event":"notice","code":"64008",...}`: the server closes this connection for an upgrade in about 60 s. */
export interface OkxNoticeEvent {
  event: 'notice';
  code: string;
  msg: string;
  connId?: string;
}

/** A data push: `{"arg":{...},"data":[...]}`; books add `action`. */
export interface OkxPush<T> {
  arg: OkxArg;
  action?: 'snapshot' | 'update';
  data: T[];
}

/**
 * Item of the `trades` channel. One push per taker order, price and source; `tradeId` is the LAST individual
 * trade id of the aggregated fills and `count` how many there were. Captures before 2023 lack count/source/seqId.
 */
export interface OkxTrade {
  instId: string;
  tradeId: string;
  px: string;
  sz: string;
  /** Taker side. */
  side: 'buy' | 'sell';
  ts: string;
  count?: string;
  source?: string;
  seqId?: number;
}

/** Item of the `tickers` channel. Spot: vol24h in base, volCcy24h in quote; derivatives: contracts / base. */
export interface OkxTicker {
  instType?: string;
  instId: string;
  last: string;
  lastSz?: string;
  askPx?: string;
  askSz?: string;
  bidPx?: string;
  bidSz?: string;
  open24h?: string;
  high24h?: string;
  low24h?: string;
  volCcy24h?: string;
  vol24h?: string;
  sodUtc0?: string;
  sodUtc8?: string;
  ts: string;
}

/** A book level: [price, size, "0" (retired), number of orders]. Size "0" removes the level. */
export type OkxLevel = [string, string, string, string] | [string, string, string] | [string, string];

/**
 * Item of `books` / `books-l2-tbt` / `books50-l2-tbt` (snapshot then updates, with checksum, seqId and
 * prevSeqId; a snapshot has prevSeqId -1) and of `books5` / `bbo-tbt` (full snapshots, no prevSeqId).
 */
export interface OkxBook {
  asks: OkxLevel[];
  bids: OkxLevel[];
  ts: string;
  checksum?: number;
  seqId?: number;
  prevSeqId?: number;
}

/**
 * Candle row (WS `candle<bar>` and REST candles): [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]. Spot: vol
 * base, volCcy quote; `confirm` "1" marks the final bar. The 2022 form has only the first 7 items.
 */
export type OkxCandleRow =
  | [string, string, string, string, string, string, string, string, string]
  | [string, string, string, string, string, string, string];

/** REST envelope: `{"code":"0","msg":"","data":[...]}`; a non-"0" code is an error (HTTP 200 or 4xx). */
export interface OkxRestResponse<T> {
  code: string;
  msg: string;
  data: T[];
}

/** Item of REST /api/v5/market/history-trades and /trades (no count; `tradeId` as on the stream). */
export interface OkxRestTrade {
  instId: string;
  tradeId: string;
  px: string;
  sz: string;
  side: 'buy' | 'sell';
  ts: string;
  source?: string;
}

/** The part of a /api/v5/public/instruments item Tickwire reads. */
export interface OkxInstrument {
  instType: string;
  instId: string;
  baseCcy: string;
  quoteCcy: string;
  /** Contract value (derivatives); "" for spot. */
  ctVal: string;
  ctValCcy?: string;
  tickSz: string;
  lotSz: string;
  minSz?: string;
  state: string;
}
