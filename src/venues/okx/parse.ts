import { crc32 } from 'node:zlib';
import type { BookLevel, BookUpdate } from '../../domain/book.ts';
import type { Candle } from '../../domain/candle.ts';
import { ZERO } from '../../domain/decimal.ts';
import type { Interval } from '../../domain/interval.ts';
import type { Ticker } from '../../domain/ticker.ts';
import type { Trade } from '../../domain/trade.ts';
import {
  integerText,
  isJsonObject,
  nonNegativeDecimal,
  optionalIntegerText,
  optionalNonNegativeDecimal,
  positiveDecimal,
  stringValue,
  timeMs,
  tupleLevels,
  type JsonObject,
} from '../json-fields.ts';
import type { VenueCandle } from '../venue.ts';
import { candleChannelInterval, type OkxSymbolMap } from './symbols.ts';
import type { OkxArg, OkxRestTrade } from './wire.ts';

/**
 * Pure mapping of OKX v5 frames and REST items to Tickwire types. `parseOkxFrame` never throws: what it cannot
 * read comes back as `unknown` (with a key to log each kind once), what it reads but does not use as `ignored`.
 */

/** Book channels that send a snapshot and then updates carrying checksum, seqId and prevSeqId. */
const INCREMENTAL_BOOKS = new Set(['books', 'books-l2-tbt', 'books50-l2-tbt']);
/** Book channels that send the whole (short) book every time. */
const FULL_BOOKS = new Set(['books5', 'bbo-tbt']);
/** Private channels of /ws/v5/private: understood, but not market data. */
const PRIVATE_CHANNELS = new Set([
  'account',
  'positions',
  'balance_and_position',
  'orders',
  'orders-algo',
  'algo-advance',
  'liquidation-warning',
  'account-greeks',
  'fills',
]);

/**
 * What one text frame of an OKX market connection means. Arrays because OKX batches several items in one push.
 * `ack`: one subscribe/unsubscribe confirmation; `error`: OKX's error event (60012 bad arg, 60018 bad channel...);
 * `notice`: 64008, the server will close this connection soon; `pong`: the answer to our text ping.
 */
export type OkxFrame =
  | { readonly kind: 'trades'; readonly trades: readonly Trade[] }
  | { readonly kind: 'candles'; readonly candles: readonly VenueCandle[] }
  | { readonly kind: 'tickers'; readonly tickers: readonly Ticker[] }
  | { readonly kind: 'book'; readonly channel: string; readonly updates: readonly BookUpdate[] }
  | {
      readonly kind: 'ack';
      readonly op: 'subscribe' | 'unsubscribe';
      readonly arg: OkxArg;
      readonly id: string | undefined;
    }
  | {
      readonly kind: 'error';
      readonly code: string;
      readonly message: string;
      readonly id: string | undefined;
    }
  | { readonly kind: 'notice'; readonly code: string; readonly message: string }
  | { readonly kind: 'pong' }
  | { readonly kind: 'ignored'; readonly key: string; readonly reason: string }
  | { readonly kind: 'unknown'; readonly key: string; readonly reason: string };

/**
 * Parses one text frame of an OKX v5 public or business connection. Instruments are mapped back to canonical
 * symbols through `symbols`; pushes for other instruments are `ignored`. Never throws.
 */
export function parseOkxFrame(text: string, symbols: OkxSymbolMap, receivedAt: number): OkxFrame {
  if (text === 'pong') return { kind: 'pong' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'unknown', key: 'invalid-json', reason: 'frame is not valid JSON' };
  }
  if (!isJsonObject(value))
    return { kind: 'unknown', key: 'not-an-object', reason: 'frame is not a JSON object' };
  try {
    if (typeof value['event'] === 'string') return parseEvent(value['event'], value);
    if (isJsonObject(value['arg']) && Array.isArray(value['data'])) {
      return parsePush(value['arg'], value['action'], value['data'], symbols, receivedAt);
    }
    if (typeof value['op'] === 'string' && typeof value['code'] === 'string') {
      return { kind: 'ignored', key: `op:${value['op']}`, reason: 'trading WebSocket API reply' };
    }
    if (typeof value['code'] === 'string' && Array.isArray(value['data'])) {
      return { kind: 'ignored', key: 'rest-response', reason: 'REST response body, not a stream frame' };
    }
    return { kind: 'unknown', key: 'frame', reason: 'frame has neither event nor arg/data' };
  } catch (err) {
    const key = keyOf(value);
    return { kind: 'unknown', key, reason: `${key}: ${(err as Error).message}` };
  }
}

function keyOf(frame: JsonObject): string {
  if (typeof frame['event'] === 'string') return `event:${frame['event']}`;
  const arg = frame['arg'];
  if (isJsonObject(arg) && typeof arg['channel'] === 'string') return arg['channel'];
  return 'frame';
}

function optId(frame: JsonObject): string | undefined {
  return typeof frame['id'] === 'string' ? frame['id'] : undefined;
}

function parseEvent(event: string, frame: JsonObject): OkxFrame {
  switch (event) {
    case 'subscribe':
    case 'unsubscribe': {
      const arg = frame['arg'];
      if (!isJsonObject(arg) || typeof arg['channel'] !== 'string')
        throw new Error('ack without arg.channel');
      return { kind: 'ack', op: event, arg: arg as unknown as OkxArg, id: optId(frame) };
    }
    case 'error':
      return {
        kind: 'error',
        code: typeof frame['code'] === 'string' ? frame['code'] : String(frame['code'] ?? ''),
        message: typeof frame['msg'] === 'string' ? frame['msg'] : 'error event without message',
        id: optId(frame),
      };
    case 'notice':
      return {
        kind: 'notice',
        code: typeof frame['code'] === 'string' ? frame['code'] : '',
        message: typeof frame['msg'] === 'string' ? frame['msg'] : '',
      };
    case 'login':
    case 'channel-conn-count':
    case 'channel-conn-count-error':
      return { kind: 'ignored', key: `event:${event}`, reason: 'private-connection event' };
    default:
      return { kind: 'unknown', key: `event:${event}`, reason: `unknown event "${event}"` };
  }
}

function parsePush(
  arg: JsonObject,
  action: unknown,
  data: unknown[],
  symbols: OkxSymbolMap,
  receivedAt: number,
): OkxFrame {
  const channel = stringValue(arg['channel'], 'arg.channel');
  if (PRIVATE_CHANNELS.has(channel)) {
    return { kind: 'ignored', key: channel, reason: 'private channel' };
  }
  const instId = arg['instId'];
  const symbol = typeof instId === 'string' ? symbols.get(instId) : undefined;
  if (symbol === undefined) {
    return { kind: 'ignored', key: channel, reason: 'instrument not subscribed' };
  }
  if (channel === 'trades' || channel === 'trades-all') {
    const trades = new Array<Trade>(data.length);
    for (let i = 0; i < data.length; i++) trades[i] = parseTrade(data[i], symbol, receivedAt);
    return { kind: 'trades', trades };
  }
  if (channel === 'tickers') {
    const tickers = new Array<Ticker>(data.length);
    for (let i = 0; i < data.length; i++) tickers[i] = parseTicker(data[i], symbol, receivedAt);
    return { kind: 'tickers', tickers };
  }
  if (INCREMENTAL_BOOKS.has(channel) || FULL_BOOKS.has(channel)) {
    const full = FULL_BOOKS.has(channel);
    if (!full && action !== 'snapshot' && action !== 'update') {
      throw new Error('book push without action snapshot|update');
    }
    const kind = full || action === 'snapshot' ? 'snapshot' : 'delta';
    const updates = new Array<BookUpdate>(data.length);
    for (let i = 0; i < data.length; i++) updates[i] = parseBook(data[i], symbol, kind, receivedAt);
    return { kind: 'book', channel, updates };
  }
  const interval = candleChannelInterval(channel);
  if (interval !== undefined) {
    const candles = new Array<VenueCandle>(data.length);
    for (let i = 0; i < data.length; i++) {
      const { bar, closed } = parseCandleRow(data[i]);
      candles[i] = { venue: 'okx', symbol, interval, bar, closed, receivedAt };
    }
    return { kind: 'candles', candles };
  }
  return { kind: 'ignored', key: channel, reason: 'channel not used by Tickwire' };
}

/** Maps a `trades` push item (or a REST trade item) to a Trade. Throws on a malformed item. */
export function parseTrade(raw: unknown, symbol: string, receivedAt: number): Trade {
  if (!isJsonObject(raw)) throw new Error('trade item must be an object');
  const id = stringValue(raw['tradeId'], 'tradeId');
  const seq = integerText(id, 'tradeId');
  const side = raw['side'];
  if (side !== 'buy' && side !== 'sell') throw new Error('field side must be "buy" or "sell"');
  const count = optionalIntegerText(raw['count'], 'count');
  if (count !== undefined && count < 1) throw new Error('field count must be ≥ 1');
  return {
    venue: 'okx',
    symbol,
    id,
    seq,
    price: positiveDecimal(raw['px'], 'px'),
    size: nonNegativeDecimal(raw['sz'], 'sz'),
    side,
    fills: count ?? 1,
    time: timeMs(raw['ts'], 'ts'),
    receivedAt,
  };
}

/** Maps a REST /api/v5/market/history-trades item. Throws on a malformed item. */
export function parseRestTrade(raw: OkxRestTrade | unknown, symbol: string, receivedAt: number): Trade {
  return parseTrade(raw, symbol, receivedAt);
}

/** Maps a `tickers` item. Spot volumes: vol24h is base, volCcy24h quote. Throws on a malformed item. */
export function parseTicker(raw: unknown, symbol: string, receivedAt: number): Ticker {
  if (!isJsonObject(raw)) throw new Error('ticker item must be an object');
  return {
    venue: 'okx',
    symbol,
    last: positiveDecimal(raw['last'], 'last'),
    bid: optionalNonNegativeDecimal(raw['bidPx'], 'bidPx'),
    bidSize: optionalNonNegativeDecimal(raw['bidSz'], 'bidSz'),
    ask: optionalNonNegativeDecimal(raw['askPx'], 'askPx'),
    askSize: optionalNonNegativeDecimal(raw['askSz'], 'askSz'),
    open24h: optionalNonNegativeDecimal(raw['open24h'], 'open24h'),
    high24h: optionalNonNegativeDecimal(raw['high24h'], 'high24h'),
    low24h: optionalNonNegativeDecimal(raw['low24h'], 'low24h'),
    volume24h: optionalNonNegativeDecimal(raw['vol24h'], 'vol24h'),
    quoteVolume24h: optionalNonNegativeDecimal(raw['volCcy24h'], 'volCcy24h'),
    time: timeMs(raw['ts'], 'ts'),
    receivedAt,
  };
}

/**
 * Maps a book push item. `seq`/`prevSeq` are seqId/prevSeqId (a snapshot's prevSeqId -1 becomes undefined);
 * `checksum` is OKX's signed CRC-32. Throws on a malformed item.
 */
export function parseBook(
  raw: unknown,
  symbol: string,
  kind: 'snapshot' | 'delta',
  receivedAt: number,
): BookUpdate {
  if (!isJsonObject(raw)) throw new Error('book item must be an object');
  const checksum = optionalIntegerText(raw['checksum'], 'checksum');
  const prevSeq = optionalIntegerText(raw['prevSeqId'], 'prevSeqId');
  return {
    venue: 'okx',
    symbol,
    kind,
    bids: tupleLevels(raw['bids'], 'bids'),
    asks: tupleLevels(raw['asks'], 'asks'),
    seq: optionalIntegerText(raw['seqId'], 'seqId'),
    prevSeq: kind === 'snapshot' || prevSeq === undefined || prevSeq < 0 ? undefined : prevSeq,
    checksum,
    time: timeMs(raw['ts'], 'ts'),
    receivedAt,
  };
}

/**
 * Maps a candle row (WS or REST; 9 items, or 7 in the 2022 form) by index. OKX sends no trade count and no
 * taker-buy split, so those are zero; `quoteVolume` is volCcyQuote, or volCcy (quote for spot) in the old form.
 * `closed` is `confirm === "1"` (false when absent). Throws on a malformed row.
 */
export function parseCandleRow(row: unknown): { bar: Candle; closed: boolean } {
  if (!Array.isArray(row) || row.length < 7)
    throw new Error('candle row must be an array of at least 7 items');
  const r = row as unknown[];
  const quote = r.length >= 8 ? r[7] : r[6];
  return {
    bar: {
      time: timeMs(r[0], '[0] ts'),
      open: positiveDecimal(r[1], '[1] o'),
      high: positiveDecimal(r[2], '[2] h'),
      low: positiveDecimal(r[3], '[3] l'),
      close: positiveDecimal(r[4], '[4] c'),
      volume: nonNegativeDecimal(r[5], '[5] vol'),
      quoteVolume: nonNegativeDecimal(quote, r.length >= 8 ? '[7] volCcyQuote' : '[6] volCcy'),
      takerBuyVolume: ZERO,
      takerBuyQuoteVolume: ZERO,
      trades: 0,
    },
    closed: r[8] === '1',
  };
}

/** A candle row as a VenueCandle of `symbol`/`interval`. Throws on a malformed row. */
export function parseVenueCandle(
  row: unknown,
  symbol: string,
  interval: Interval,
  receivedAt: number,
): VenueCandle {
  const { bar, closed } = parseCandleRow(row);
  return { venue: 'okx', symbol, interval, bar, closed, receivedAt };
}

/**
 * The OKX book checksum over the top 25 levels of each side, best first, from the original strings:
 * "bid1px:bid1sz:ask1px:ask1sz:..." (a shorter side's missing entries are skipped), CRC-32 as a signed int32.
 */
export function okxBookChecksum(bids: readonly BookLevel[], asks: readonly BookLevel[]): number {
  const parts: string[] = [];
  for (let i = 0; i < 25; i++) {
    const b = bids[i];
    const a = asks[i];
    if (b !== undefined) parts.push(b.price, b.size);
    if (a !== undefined) parts.push(a.price, a.size);
  }
  return crc32(parts.join(':')) | 0;
}
