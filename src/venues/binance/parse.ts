import type { BookLevel, BookUpdate } from '../../domain/book.ts';
import type { Candle } from '../../domain/candle.ts';
import type { Decimal } from '../../domain/decimal.ts';
import type { Ticker } from '../../domain/ticker.ts';
import type { Trade } from '../../domain/trade.ts';
import {
  decimalText,
  integer,
  isJsonObject,
  nonNegativeDecimal,
  nonNegativeInteger,
  optionalNonNegativeDecimal,
  positiveDecimal,
  tupleLevels,
  type JsonObject,
} from '../json-fields.ts';
import type { VenueCandle } from '../venue.ts';
import { fromBinanceInterval, streamSymbol, type BinanceSymbolMap } from './symbols.ts';
import type {
  BinanceAggTrade,
  BinanceBookTickerEvent,
  BinanceDepthSnapshot,
  BinanceDepthUpdateEvent,
  BinanceExchangeInfo,
  BinanceKlineBar,
  BinanceRateLimit,
  BinanceRestTicker,
  BinanceRestTrade,
  BinanceSymbolInfo,
  BinanceTickerEvent,
  BinanceTradeEvent,
} from './wire.ts';

/**
 * Pure mapping of Binance spot frames and REST items to Tickwire types. Nothing here throws on a stream frame:
 * `parseFrame` returns `unknown` for what it cannot read, so one odd frame never stops a feed.
 */

/**
 * Times at or above this are microseconds (`timeUnit=MICROSECOND`, public data files since 2025): 1e14 ms is the
 * year 5138, 1e14 µs is 1973, so no real time of either unit is ambiguous.
 */
const MICROSECONDS_FROM = 1e14;

/** A Binance time field (ms or µs) in whole ms. */
export function toMillis(time: number): number {
  return time >= MICROSECONDS_FROM ? Math.floor(time / 1000) : time;
}

/** Best bid and ask (`@bookTicker`). `time` is the event time where the frame has one (newer form only). */
export interface BinanceBookTop {
  readonly symbol: string;
  readonly updateId: number;
  readonly bidPrice: Decimal;
  readonly bidSize: Decimal;
  readonly askPrice: Decimal;
  readonly askSize: Decimal;
  readonly time: number | undefined;
  readonly receivedAt: number;
}

/** Rolling 24 h statistics (`@ticker`). */
export interface BinanceTicker {
  readonly symbol: string;
  /** Event time. */
  readonly time: number;
  readonly last: Decimal;
  readonly open: Decimal;
  readonly high: Decimal;
  readonly low: Decimal;
  readonly volume: Decimal;
  readonly quoteVolume: Decimal;
  readonly bidPrice: Decimal | undefined;
  readonly bidSize: Decimal | undefined;
  readonly askPrice: Decimal | undefined;
  readonly askSize: Decimal | undefined;
  readonly openTime: number;
  readonly closeTime: number;
  readonly firstTradeId: number;
  readonly lastTradeId: number;
  readonly tradeCount: number;
  readonly receivedAt: number;
}

/** A diff of the book (`@depth`): apply after a snapshot per the U/u rules. Size 0 deletes a level. */
export interface BinanceDepthDiff {
  readonly symbol: string;
  readonly time: number;
  readonly firstUpdateId: number;
  readonly lastUpdateId: number;
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
  readonly receivedAt: number;
}

/** The top of the book (`@depth5/10/20`, REST /api/v3/depth). */
export interface BinanceDepthTop {
  readonly symbol: string;
  readonly lastUpdateId: number;
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
  readonly receivedAt: number;
}

/**
 * What one frame of the market-stream connection means. `ignored`: understood and deliberately not used (a symbol
 * or interval not asked for, a stream Tickwire does not read). `unknown`: not understood (bad JSON, missing or
 * malformed fields); `key` groups such frames so a caller can log each kind once.
 */
export type BinanceFrame =
  | { readonly kind: 'trade'; readonly stream: string; readonly trade: Trade }
  | { readonly kind: 'candle'; readonly stream: string; readonly candle: VenueCandle }
  | { readonly kind: 'ticker'; readonly stream: string; readonly ticker: BinanceTicker }
  | { readonly kind: 'bookTicker'; readonly stream: string; readonly bookTicker: BinanceBookTop }
  | { readonly kind: 'depth'; readonly stream: string; readonly depth: BinanceDepthDiff }
  | { readonly kind: 'depthTop'; readonly stream: string; readonly depth: BinanceDepthTop }
  | { readonly kind: 'ack'; readonly id: number | string | null; readonly result: readonly string[] | null }
  | {
      readonly kind: 'error';
      readonly id: number | string | null;
      readonly code: number;
      readonly message: string;
    }
  | { readonly kind: 'serverShutdown'; readonly time: number }
  | { readonly kind: 'ignored'; readonly key: string; readonly reason: string }
  | { readonly kind: 'unknown'; readonly key: string; readonly reason: string };

function isId(value: unknown): value is number | string | null {
  return value === null || typeof value === 'number' || typeof value === 'string';
}

/** A Binance time field (ms, or µs in newer data) in whole ms. */
function time(value: unknown, field: string): number {
  return toMillis(nonNegativeInteger(value, field));
}

const IGNORED_SYMBOL = 'symbol not subscribed';

/**
 * Parses one text frame of a Binance spot market-stream connection (combined `{stream, data}` or raw). Symbols are
 * mapped back to canonical form through `symbols`; frames for other symbols are `ignored`. Never throws.
 */
export function parseFrame(text: string, symbols: BinanceSymbolMap, receivedAt: number): BinanceFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'unknown', key: 'invalid-json', reason: 'frame is not valid JSON' };
  }
  if (!isJsonObject(value))
    return { kind: 'unknown', key: 'not-an-object', reason: 'frame is not a JSON object' };
  try {
    if (typeof value['stream'] === 'string' && 'data' in value) {
      return parseData(value['stream'], value['data'], symbols, receivedAt);
    }
    // WebSocket-API replies (`status`) and user-data pushes (`subscriptionId`) belong to other connections.
    if ('status' in value && 'id' in value && !isJsonObject(value['error'])) {
      return { kind: 'ignored', key: 'ws-api-response', reason: 'WebSocket API reply' };
    }
    if ('subscriptionId' in value)
      return { kind: 'ignored', key: 'user-data', reason: 'user data stream event' };
    if ('result' in value && isId(value['id'])) return parseResult(value);
    if (isJsonObject(value['error'])) return parseError(value['error'], value['id']);
    if (typeof value['code'] === 'number' && typeof value['msg'] === 'string')
      return parseError(value, value['id']);
    return parseData('', value, symbols, receivedAt);
  } catch (err) {
    const key = keyOf(value);
    return { kind: 'unknown', key, reason: `${key}: ${(err as Error).message}` };
  }
}

function keyOf(frame: JsonObject): string {
  const data = isJsonObject(frame['data']) ? frame['data'] : frame;
  if (typeof data['e'] === 'string') return data['e'];
  if (typeof frame['stream'] === 'string') {
    const stream = frame['stream'];
    const at = stream.indexOf('@');
    return at < 0 ? stream : stream.slice(at + 1);
  }
  return 'frame';
}

function parseResult(frame: JsonObject): BinanceFrame {
  const result = frame['result'];
  const id = frame['id'] as number | string | null;
  if (result === null) return { kind: 'ack', id, result: null };
  if (Array.isArray(result) && result.every((s) => typeof s === 'string')) {
    return { kind: 'ack', id, result: result as string[] };
  }
  return { kind: 'ignored', key: 'result', reason: 'request result that is not a subscription list' };
}

function parseError(body: JsonObject, id: unknown): BinanceFrame {
  return {
    kind: 'error',
    id: isId(id) ? id : null,
    code: typeof body['code'] === 'number' ? body['code'] : NaN,
    message: typeof body['msg'] === 'string' ? body['msg'] : 'error frame without message',
  };
}

function canonical(symbols: BinanceSymbolMap, raw: unknown): string | undefined {
  return typeof raw === 'string' ? symbols.get(raw) : undefined;
}

function parseData(
  stream: string,
  data: unknown,
  symbols: BinanceSymbolMap,
  receivedAt: number,
): BinanceFrame {
  if (Array.isArray(data)) return { kind: 'ignored', key: stream, reason: 'all-market array stream' };
  if (!isJsonObject(data))
    return { kind: 'unknown', key: stream || 'data', reason: 'data is not a JSON object' };
  const event = data['e'];
  switch (event) {
    case 'aggTrade': {
      const symbol = canonical(symbols, data['s']);
      if (symbol === undefined) return { kind: 'ignored', key: 'aggTrade', reason: IGNORED_SYMBOL };
      return {
        kind: 'trade',
        stream,
        trade: parseAggTrade(data as unknown as BinanceAggTrade, symbol, receivedAt),
      };
    }
    case 'trade': {
      const symbol = canonical(symbols, data['s']);
      if (symbol === undefined) return { kind: 'ignored', key: 'trade', reason: IGNORED_SYMBOL };
      return {
        kind: 'trade',
        stream,
        trade: parseTradeEvent(data as unknown as BinanceTradeEvent, symbol, receivedAt),
      };
    }
    case 'kline':
      return parseKlineEvent(stream, data, symbols, receivedAt);
    case '24hrTicker': {
      const symbol = canonical(symbols, data['s']);
      if (symbol === undefined) return { kind: 'ignored', key: '24hrTicker', reason: IGNORED_SYMBOL };
      return {
        kind: 'ticker',
        stream,
        ticker: parseTicker(data as unknown as BinanceTickerEvent, symbol, receivedAt),
      };
    }
    case 'depthUpdate': {
      const symbol = canonical(symbols, data['s']);
      if (symbol === undefined) return { kind: 'ignored', key: 'depthUpdate', reason: IGNORED_SYMBOL };
      if ('pu' in data) return { kind: 'ignored', key: 'depthUpdate', reason: 'futures book diff' };
      const d = data as unknown as BinanceDepthUpdateEvent;
      const depth: BinanceDepthDiff = {
        symbol,
        time: time(d.E, 'E'),
        firstUpdateId: integer(d.U, 'U'),
        lastUpdateId: integer(d.u, 'u'),
        bids: tupleLevels(d.b, 'b'),
        asks: tupleLevels(d.a, 'a'),
        receivedAt,
      };
      return { kind: 'depth', stream, depth };
    }
    case 'serverShutdown':
      return { kind: 'serverShutdown', time: time(data['E'], 'E') };
    case 'bookTicker':
    case undefined:
      break;
    default:
      return typeof event === 'string'
        ? { kind: 'ignored', key: event, reason: 'event Tickwire does not read' }
        : { kind: 'unknown', key: 'data', reason: 'field e is not a string' };
  }
  // Frames without `e`: the old bookTicker form and partial depth.
  if (typeof data['u'] === 'number' && typeof data['b'] === 'string') {
    const symbol = canonical(symbols, data['s']);
    if (symbol === undefined) return { kind: 'ignored', key: 'bookTicker', reason: IGNORED_SYMBOL };
    if ('ps' in data) return { kind: 'ignored', key: 'bookTicker', reason: 'futures book ticker' };
    return {
      kind: 'bookTicker',
      stream,
      bookTicker: parseBookTicker(data as unknown as BinanceBookTickerEvent, symbol, receivedAt),
    };
  }
  if (typeof data['lastUpdateId'] === 'number') {
    const raw = streamSymbol(stream);
    const symbol = raw === undefined ? undefined : symbols.get(raw);
    if (symbol === undefined) return { kind: 'ignored', key: 'depthTop', reason: IGNORED_SYMBOL };
    return {
      kind: 'depthTop',
      stream,
      depth: parseDepthTop(data as unknown as BinanceDepthSnapshot, symbol, receivedAt),
    };
  }
  return {
    kind: 'unknown',
    key: stream === '' ? 'frame' : keyOf({ stream }),
    reason: 'frame of no known shape',
  };
}

function parseKlineEvent(
  stream: string,
  data: JsonObject,
  symbols: BinanceSymbolMap,
  receivedAt: number,
): BinanceFrame {
  const symbol = canonical(symbols, data['s']);
  if (symbol === undefined) return { kind: 'ignored', key: 'kline', reason: IGNORED_SYMBOL };
  const k = data['k'];
  if (!isJsonObject(k)) throw new Error('field k must be an object');
  const bar = k as unknown as BinanceKlineBar;
  const interval = typeof bar.i === 'string' ? fromBinanceInterval(bar.i) : undefined;
  if (interval === undefined)
    return { kind: 'ignored', key: 'kline', reason: `interval "${String(bar.i)}" not kept` };
  if (typeof bar.x !== 'boolean') throw new Error('field k.x must be a boolean');
  const candle: VenueCandle = {
    venue: 'binance',
    symbol,
    interval,
    bar: {
      time: time(bar.t, 'k.t'),
      open: positiveDecimal(bar.o, 'k.o'),
      high: positiveDecimal(bar.h, 'k.h'),
      low: positiveDecimal(bar.l, 'k.l'),
      close: positiveDecimal(bar.c, 'k.c'),
      volume: nonNegativeDecimal(bar.v, 'k.v'),
      quoteVolume: nonNegativeDecimal(bar.q, 'k.q'),
      takerBuyVolume: nonNegativeDecimal(bar.V, 'k.V'),
      takerBuyQuoteVolume: nonNegativeDecimal(bar.Q, 'k.Q'),
      trades: nonNegativeInteger(bar.n, 'k.n'),
    },
    closed: bar.x,
    receivedAt,
  };
  return { kind: 'candle', stream, candle };
}

/**
 * Maps one aggregate trade (REST item or stream payload) to a Trade. `m` = buyer is maker, so the taker sold.
 * A µs trade time is converted to ms. Throws (DecimalFormatError or Error) when a field is missing or malformed;
 * callers decide whether to skip.
 */
export function parseAggTrade(raw: BinanceAggTrade, symbol: string, receivedAt: number): Trade {
  const id = integer(raw.a, 'a');
  const first = integer(raw.f, 'f');
  const last = integer(raw.l, 'l');
  if (last < first) throw new Error('aggTrade last trade id l must not be below the first f');
  if (typeof raw.m !== 'boolean') throw new Error('aggTrade flag m must be a boolean');
  return {
    venue: 'binance',
    symbol,
    id: String(id),
    seq: id,
    price: positiveDecimal(raw.p, 'p'),
    size: nonNegativeDecimal(raw.q, 'q'),
    side: raw.m ? 'sell' : 'buy',
    fills: last - first + 1,
    time: time(raw.T, 'T'),
    receivedAt,
  };
}

/**
 * Maps a `@trade` payload (one individual fill) to a Trade with `fills` 1. `seq` is the individual trade id, which
 * is ordered like the aggregate id but a different sequence: do not mix both streams for one symbol.
 */
export function parseTradeEvent(raw: BinanceTradeEvent, symbol: string, receivedAt: number): Trade {
  const id = integer(raw.t, 't');
  if (typeof raw.m !== 'boolean') throw new Error('trade flag m must be a boolean');
  return {
    venue: 'binance',
    symbol,
    id: String(id),
    seq: id,
    price: positiveDecimal(raw.p, 'p'),
    size: nonNegativeDecimal(raw.q, 'q'),
    side: raw.m ? 'sell' : 'buy',
    fills: 1,
    time: time(raw.T, 'T'),
    receivedAt,
  };
}

/** Maps an item of REST /api/v3/trades or /historicalTrades to a Trade. Throws on a malformed item. */
export function parseRestTrade(raw: BinanceRestTrade, symbol: string, receivedAt: number): Trade {
  if (!isJsonObject(raw)) throw new Error('trade item must be an object');
  const id = integer(raw.id, 'id');
  if (typeof raw.isBuyerMaker !== 'boolean') throw new Error('field isBuyerMaker must be a boolean');
  return {
    venue: 'binance',
    symbol,
    id: String(id),
    seq: id,
    price: positiveDecimal(raw.price, 'price'),
    size: nonNegativeDecimal(raw.qty, 'qty'),
    side: raw.isBuyerMaker ? 'sell' : 'buy',
    fills: 1,
    time: time(raw.time, 'time'),
    receivedAt,
  };
}

/** Maps a row of REST /api/v3/klines to a Candle, exactly from its decimal strings. Throws on a malformed row. */
export function parseKlineRow(row: unknown): Candle {
  if (!Array.isArray(row) || row.length < 11)
    throw new Error('kline row must be an array of at least 11 items');
  const r = row as unknown[];
  return {
    time: time(r[0], '[0] open time'),
    open: positiveDecimal(r[1], '[1] open'),
    high: positiveDecimal(r[2], '[2] high'),
    low: positiveDecimal(r[3], '[3] low'),
    close: positiveDecimal(r[4], '[4] close'),
    volume: nonNegativeDecimal(r[5], '[5] volume'),
    quoteVolume: nonNegativeDecimal(r[7], '[7] quote volume'),
    trades: nonNegativeInteger(r[8], '[8] trade count'),
    takerBuyVolume: nonNegativeDecimal(r[9], '[9] taker-buy base volume'),
    takerBuyQuoteVolume: nonNegativeDecimal(r[10], '[10] taker-buy quote volume'),
  };
}

function parseTicker(t: BinanceTickerEvent, symbol: string, receivedAt: number): BinanceTicker {
  // Checked as before, but not kept: no Ticker field carries them, and a Decimal each (a BigInt) per frame of
  // every symbol's ticker was built only to be dropped.
  nonNegativeText(t.Q, 'Q');
  decimalText(t.p, 'p');
  decimalText(t.P, 'P');
  decimalText(t.w, 'w');
  return {
    symbol,
    time: time(t.E, 'E'),
    last: positiveDecimal(t.c, 'c'),
    open: nonNegativeDecimal(t.o, 'o'),
    high: nonNegativeDecimal(t.h, 'h'),
    low: nonNegativeDecimal(t.l, 'l'),
    volume: nonNegativeDecimal(t.v, 'v'),
    quoteVolume: nonNegativeDecimal(t.q, 'q'),
    bidPrice: optionalNonNegativeDecimal(t.b, 'b'),
    bidSize: optionalNonNegativeDecimal(t.B, 'B'),
    askPrice: optionalNonNegativeDecimal(t.a, 'a'),
    askSize: optionalNonNegativeDecimal(t.A, 'A'),
    openTime: time(t.O, 'O'),
    closeTime: time(t.C, 'C'),
    firstTradeId: integer(t.F, 'F'),
    lastTradeId: integer(t.L, 'L'),
    tradeCount: integer(t.n, 'n'),
    receivedAt,
  };
}

/** A decimal text not below zero, checked as nonNegativeDecimal checks it, without building the Decimal. */
function nonNegativeText(value: unknown, field: string): void {
  const text = decimalText(value, field);
  if (text.charCodeAt(0) === 45 /* - */) nonNegativeDecimal(value, field); // "-0" passes, anything else throws
}

function parseBookTicker(t: BinanceBookTickerEvent, symbol: string, receivedAt: number): BinanceBookTop {
  const eventTime = t.E ?? t.T;
  return {
    symbol,
    updateId: integer(t.u, 'u'),
    bidPrice: nonNegativeDecimal(t.b, 'b'),
    bidSize: nonNegativeDecimal(t.B, 'B'),
    askPrice: nonNegativeDecimal(t.a, 'a'),
    askSize: nonNegativeDecimal(t.A, 'A'),
    time: eventTime === undefined ? undefined : time(eventTime, 'E'),
    receivedAt,
  };
}

/** Maps a partial-depth payload or a REST /api/v3/depth body. Throws on a malformed body. */
export function parseDepthTop(
  raw: BinanceDepthSnapshot,
  symbol: string,
  receivedAt: number,
): BinanceDepthTop {
  return {
    symbol,
    lastUpdateId: integer(raw.lastUpdateId, 'lastUpdateId'),
    bids: tupleLevels(raw.bids, 'bids'),
    asks: tupleLevels(raw.asks, 'asks'),
    receivedAt,
  };
}

/** Reads the parts of REST /api/v3/exchangeInfo Tickwire uses. Throws on a body without symbols/rateLimits. */
export function parseExchangeInfo(body: unknown): BinanceExchangeInfo {
  if (!isJsonObject(body)) throw new Error('exchangeInfo must be an object');
  const { rateLimits, symbols } = body;
  if (!Array.isArray(rateLimits) || !Array.isArray(symbols))
    throw new Error('exchangeInfo lacks rateLimits/symbols');
  const limits: BinanceRateLimit[] = [];
  for (const item of rateLimits as unknown[]) {
    if (!isJsonObject(item)) throw new Error('rateLimits item must be an object');
    const { rateLimitType, interval, intervalNum, limit } = item;
    if (typeof rateLimitType !== 'string' || typeof interval !== 'string')
      throw new Error('malformed rateLimits item');
    limits.push({
      rateLimitType,
      interval,
      intervalNum: integer(intervalNum, 'intervalNum'),
      limit: integer(limit, 'limit'),
    });
  }
  const infos: BinanceSymbolInfo[] = [];
  for (const item of symbols as unknown[]) {
    if (!isJsonObject(item)) throw new Error('symbols item must be an object');
    const { symbol, status, baseAsset, quoteAsset } = item;
    if (
      typeof symbol !== 'string' ||
      typeof status !== 'string' ||
      typeof baseAsset !== 'string' ||
      typeof quoteAsset !== 'string'
    ) {
      throw new Error('malformed symbols item');
    }
    infos.push({ symbol, status, baseAsset, quoteAsset });
  }
  return {
    ...(typeof body['timezone'] === 'string' ? { timezone: body['timezone'] } : {}),
    ...(typeof body['serverTime'] === 'number' ? { serverTime: body['serverTime'] } : {}),
    rateLimits: limits,
    symbols: infos,
  };
}

/** Request weight allowed per minute by exchangeInfo `rateLimits` (REQUEST_WEIGHT), or undefined when absent. */
export function requestWeightPerMinute(info: BinanceExchangeInfo): number | undefined {
  let perMinute: number | undefined;
  for (const l of info.rateLimits) {
    if (l.rateLimitType !== 'REQUEST_WEIGHT' || l.intervalNum <= 0) continue;
    const minutes =
      l.interval === 'SECOND' ? l.intervalNum / 60 : l.interval === 'MINUTE' ? l.intervalNum : undefined;
    if (minutes === undefined) continue;
    const rate = l.limit / minutes;
    perMinute = perMinute === undefined ? rate : Math.min(perMinute, rate);
  }
  return perMinute;
}

/** A book diff as a domain delta: `seq = u`, `prevSeq = U - 1` (the 'binance-range' rule of src/book/). */
export function depthDiffToBookUpdate(d: BinanceDepthDiff): BookUpdate {
  return {
    venue: 'binance',
    symbol: d.symbol,
    kind: 'delta',
    bids: d.bids,
    asks: d.asks,
    seq: d.lastUpdateId,
    prevSeq: d.firstUpdateId - 1,
    time: d.time,
    receivedAt: d.receivedAt,
  };
}

/** A REST /api/v3/depth body (or partial-depth frame) as a domain snapshot with `seq = lastUpdateId`. */
export function depthTopToBookSnapshot(d: BinanceDepthTop, time: number): BookUpdate {
  return {
    venue: 'binance',
    symbol: d.symbol,
    kind: 'snapshot',
    bids: d.bids,
    asks: d.asks,
    seq: d.lastUpdateId,
    time,
    receivedAt: d.receivedAt,
  };
}

/** The 24 h ticker as a domain Ticker. */
export function tickerToDomain(t: BinanceTicker): Ticker {
  return {
    venue: 'binance',
    symbol: t.symbol,
    last: t.last,
    bid: t.bidPrice,
    bidSize: t.bidSize,
    ask: t.askPrice,
    askSize: t.askSize,
    open24h: t.open,
    high24h: t.high,
    low24h: t.low,
    volume24h: t.volume,
    quoteVolume24h: t.quoteVolume,
    time: t.time,
    receivedAt: t.receivedAt,
  };
}

/** A ticker with the best prices of a newer bookTicker frame. */
export function withBookTop(t: Ticker, top: BinanceBookTop): Ticker {
  return {
    ...t,
    bid: top.bidPrice,
    bidSize: top.bidSize,
    ask: top.askPrice,
    askSize: top.askSize,
    time: top.time ?? t.time,
    receivedAt: top.receivedAt,
  };
}

/** REST GET /api/v3/ticker/24hr?symbol=X as a domain Ticker. Throws on a malformed body. */
export function parseRestTicker(raw: BinanceRestTicker, symbol: string, receivedAt: number): Ticker {
  if (!isJsonObject(raw)) throw new Error('ticker must be an object');
  return {
    venue: 'binance',
    symbol,
    last: positiveDecimal(raw.lastPrice, 'lastPrice'),
    bid: optionalNonNegativeDecimal(raw.bidPrice, 'bidPrice'),
    bidSize: optionalNonNegativeDecimal(raw.bidQty, 'bidQty'),
    ask: optionalNonNegativeDecimal(raw.askPrice, 'askPrice'),
    askSize: optionalNonNegativeDecimal(raw.askQty, 'askQty'),
    open24h: optionalNonNegativeDecimal(raw.openPrice, 'openPrice'),
    high24h: optionalNonNegativeDecimal(raw.highPrice, 'highPrice'),
    low24h: optionalNonNegativeDecimal(raw.lowPrice, 'lowPrice'),
    volume24h: optionalNonNegativeDecimal(raw.volume, 'volume'),
    quoteVolume24h: optionalNonNegativeDecimal(raw.quoteVolume, 'quoteVolume'),
    time: time(raw.closeTime, 'closeTime'),
    receivedAt,
  };
}
