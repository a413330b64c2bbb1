import type { BookUpdate } from '../../domain/book.ts';
import type { Candle } from '../../domain/candle.ts';
import { ZERO } from '../../domain/decimal.ts';
import type { Interval } from '../../domain/interval.ts';
import type { Ticker } from '../../domain/ticker.ts';
import type { Side, Trade } from '../../domain/trade.ts';
import {
  decimalText,
  isJsonObject,
  nonEmptyString,
  nonNegativeDecimal,
  optionalInteger,
  optionalNonNegativeDecimal,
  positiveDecimal,
  timeMs,
  tupleLevels,
  type JsonObject,
} from '../json-fields.ts';
import type { VenueCandle } from '../venue.ts';
import { fromCandleChannel, instrumentKey, type BitgetSymbolMap } from './symbols.ts';
import type {
  BitgetArg,
  BitgetBookRow,
  BitgetRestBook,
  BitgetRestTicker,
  BitgetRestTrade,
  BitgetTickerRow,
  BitgetTradeRow,
} from './wire.ts';

/**
 * Pure mapping of Bitget v2 frames and REST items to Tickwire types. Nothing here throws on a socket frame:
 * `parseBitgetFrame` returns `unknown` for what it cannot read, so one odd frame never stops a feed.
 */

/**
 * What one text frame of the public socket means. `ignored`: understood and deliberately not used (a symbol not
 * asked for, a private or legacy channel). `unknown`: not understood (bad JSON, missing or malformed fields);
 * `key` groups such frames so a caller can log each kind once.
 */
export type BitgetFrame =
  | { readonly kind: 'trades'; readonly symbol: string; readonly trades: readonly Trade[] }
  | { readonly kind: 'ticker'; readonly symbol: string; readonly ticker: Ticker }
  | { readonly kind: 'book'; readonly symbol: string; readonly channel: string; readonly book: BookUpdate }
  | {
      readonly kind: 'candles';
      readonly symbol: string;
      readonly interval: Interval;
      readonly snapshot: boolean;
      /** Ascending; a row followed by a later row in the same frame is `closed`. */
      readonly candles: readonly VenueCandle[];
    }
  | { readonly kind: 'pong' }
  | { readonly kind: 'ack'; readonly op: 'subscribe' | 'unsubscribe'; readonly arg: BitgetArg }
  | { readonly kind: 'login'; readonly code: number; readonly message: string }
  | {
      readonly kind: 'error';
      readonly code: number;
      readonly message: string;
      readonly arg: BitgetArg | undefined;
      readonly op: string | undefined;
    }
  | { readonly kind: 'ignored'; readonly key: string; readonly reason: string }
  | { readonly kind: 'unknown'; readonly key: string; readonly reason: string };

function side(value: unknown): Side {
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'buy' || lower === 'sell') return lower;
  }
  throw new Error('field side must be buy or sell');
}

/** Private channels of the v2 private socket: not read by the market feed. */
const PRIVATE_CHANNELS = new Set([
  'orders',
  'orders-algo',
  'orders-crossed',
  'orders-isolated',
  'account',
  'account-crossed',
  'account-isolated',
  'positions',
  'positions-history',
  'fill',
]);

const BOOK_CHANNELS = new Set(['books', 'books1', 'books5', 'books15']);

/** A frame that is not a JSON object, as both Bitget sockets (public and private) report it. */
export interface BitgetUnreadable {
  readonly kind: 'unknown';
  readonly key: 'invalid-json' | 'not-an-object';
  readonly reason: string;
}

/** One text frame of a Bitget socket as a JSON object, or why it is not one. */
export function readBitgetObject(raw: string): { readonly object: JsonObject } | BitgetUnreadable {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { kind: 'unknown', key: 'invalid-json', reason: 'frame is not valid JSON' };
  }
  if (!isJsonObject(value))
    return { kind: 'unknown', key: 'not-an-object', reason: 'frame is not a JSON object' };
  return { object: value };
}

/**
 * Parses one text frame of the Bitget v2 public socket. Symbols are mapped back to canonical form through
 * `symbols`; pushes for other instruments are `ignored`. Never throws.
 */
export function parseBitgetFrame(raw: string, symbols: BitgetSymbolMap, receivedAt: number): BitgetFrame {
  if (raw === 'pong') return { kind: 'pong' };
  const read = readBitgetObject(raw);
  if (!('object' in read)) return read;
  const value = read.object;
  try {
    const event = value['event'];
    if (typeof event === 'string') return parseEvent(event, value);
    if (typeof value['action'] === 'string' && isJsonObject(value['arg']))
      return parsePush(value['action'], value['arg'], value['data'], symbols, receivedAt);
    return { kind: 'unknown', key: 'no-event-or-action', reason: 'frame has neither event nor action' };
  } catch (err) {
    const key = keyOf(value);
    return { kind: 'unknown', key, reason: `${key}: ${(err as Error).message}` };
  }
}

function keyOf(value: JsonObject): string {
  const arg = value['arg'];
  const channel = isJsonObject(arg) ? (arg['channel'] ?? arg['topic']) : undefined;
  return `${String(value['event'] ?? value['action'] ?? '?')}:${String(channel ?? '?')}`;
}

function readArg(value: unknown): BitgetArg | undefined {
  if (!isJsonObject(value)) return undefined;
  const { instType, channel, instId, coin } = value;
  if (typeof instType !== 'string' || typeof channel !== 'string') return undefined;
  return {
    instType,
    channel,
    ...(typeof instId === 'string' ? { instId } : {}),
    ...(typeof coin === 'string' ? { coin } : {}),
  };
}

function parseEvent(event: string, value: JsonObject): BitgetFrame {
  if (event === 'subscribe' || event === 'unsubscribe') {
    const arg = readArg(value['arg']);
    if (arg === undefined) throw new Error('ack without a valid arg');
    return { kind: 'ack', op: event, arg };
  }
  if (event === 'error') {
    const code = value['code'];
    const code_ = typeof code === 'number' ? code : Number(code);
    if (!Number.isInteger(code_)) throw new Error('error without a numeric code');
    const msg = value['msg'];
    const op = value['op'];
    return {
      kind: 'error',
      code: code_,
      message: typeof msg === 'string' ? msg : '',
      arg: readArg(value['arg']),
      op: typeof op === 'string' ? op : undefined,
    };
  }
  if (event === 'login') {
    const code = Number(value['code']);
    const msg = value['msg'];
    return {
      kind: 'login',
      code: Number.isInteger(code) ? code : -1,
      message: typeof msg === 'string' ? msg : '',
    };
  }
  return {
    kind: 'ignored',
    key: `event:${event}`,
    reason: `event "${event}" is not used by the market feed`,
  };
}

function parsePush(
  action: string,
  arg: JsonObject,
  data: unknown,
  symbols: BitgetSymbolMap,
  receivedAt: number,
): BitgetFrame {
  if (typeof arg['topic'] === 'string') {
    return { kind: 'ignored', key: 'v3-uta', reason: 'Bitget v3 (UTA) push; this adapter speaks v2' };
  }
  const instType = nonEmptyString(arg['instType'], 'arg.instType');
  const channel = nonEmptyString(arg['channel'], 'arg.channel');
  if (PRIVATE_CHANNELS.has(channel)) {
    return { kind: 'ignored', key: `private:${channel}`, reason: `private channel "${channel}"` };
  }
  if (instType === 'sp' || instType === 'mc') {
    return { kind: 'ignored', key: 'v1-legacy', reason: 'Bitget v1 push (instType sp/mc); retired protocol' };
  }
  if (action !== 'snapshot' && action !== 'update') throw new Error(`unknown action "${action}"`);
  if (!Array.isArray(data)) throw new Error('field data must be an array');
  const instId = nonEmptyString(arg['instId'], 'arg.instId');
  const symbol = symbols.get(instrumentKey(instType, instId));
  if (symbol === undefined) {
    return { kind: 'ignored', key: 'symbol-not-subscribed', reason: `${instType} ${instId} not subscribed` };
  }
  const snapshot = action === 'snapshot';
  if (channel === 'trade')
    return { kind: 'trades', symbol, trades: parseTradeRows(data, symbol, receivedAt) };
  if (channel === 'ticker') {
    const row: unknown = data[data.length - 1];
    if (!isJsonObject(row)) throw new Error('ticker push without a row');
    return {
      kind: 'ticker',
      symbol,
      ticker: parseTickerRow(row as unknown as BitgetTickerRow, symbol, receivedAt),
    };
  }
  if (BOOK_CHANNELS.has(channel)) {
    const row: unknown = data[0];
    if (!isJsonObject(row) || data.length !== 1) throw new Error('book push must carry exactly one row');
    const book = parseBookRow(row as unknown as BitgetBookRow, symbol, channel, snapshot, receivedAt);
    return { kind: 'book', symbol, channel, book };
  }
  if (channel.startsWith('candle')) {
    const interval = fromCandleChannel(channel);
    if (interval === undefined) {
      return {
        kind: 'ignored',
        key: `channel:${channel}`,
        reason: `candle channel "${channel}" is not kept`,
      };
    }
    return {
      kind: 'candles',
      symbol,
      interval,
      snapshot,
      candles: parseCandleRows(data, symbol, interval, receivedAt),
    };
  }
  return { kind: 'ignored', key: `channel:${channel}`, reason: `channel "${channel}" is not used` };
}

/** Trade rows of one push, ascending by time (Bitget sends snapshots newest first). Throws on a malformed row. */
function parseTradeRows(data: unknown[], symbol: string, receivedAt: number): Trade[] {
  const out = new Array<Trade>(data.length);
  for (let i = 0; i < data.length; i++) {
    const row: unknown = data[i];
    if (!isJsonObject(row)) throw new Error(`data[${i}] must be a trade object`);
    out[i] = parseTradeRow(row as unknown as BitgetTradeRow, symbol, receivedAt);
  }
  if (out.length > 1 && (out[0] as Trade).time > (out[out.length - 1] as Trade).time) out.reverse();
  return out;
}

/**
 * Maps a `trade` row or a REST fills item to a Trade. Bitget trade ids are not contiguous (and exceed 2^53), so
 * `seq` stays undefined: deduplicate by `id`, never detect gaps from ids. Throws on a malformed row.
 */
export function parseTradeRow(
  row: BitgetTradeRow | BitgetRestTrade,
  symbol: string,
  receivedAt: number,
): Trade {
  return {
    venue: 'bitget',
    symbol,
    id: nonEmptyString(row.tradeId, 'tradeId'),
    price: positiveDecimal(row.price, 'price'),
    size: nonNegativeDecimal(row.size, 'size'),
    side: side(row.side),
    fills: 1,
    time: timeMs(row.ts, 'ts'),
    receivedAt,
  };
}

/** Maps a socket `ticker` row or a REST ticker item. Throws on a malformed row. */
export function parseTickerRow(
  row: BitgetTickerRow | BitgetRestTicker,
  symbol: string,
  receivedAt: number,
): Ticker {
  const open = 'open24h' in row && row.open24h !== undefined ? row.open24h : (row as BitgetRestTicker).open;
  return {
    venue: 'bitget',
    symbol,
    last: positiveDecimal(row.lastPr, 'lastPr'),
    bid: optionalNonNegativeDecimal(row.bidPr, 'bidPr'),
    bidSize: optionalNonNegativeDecimal(row.bidSz, 'bidSz'),
    ask: optionalNonNegativeDecimal(row.askPr, 'askPr'),
    askSize: optionalNonNegativeDecimal(row.askSz, 'askSz'),
    open24h: optionalNonNegativeDecimal(open, 'open24h'),
    high24h: optionalNonNegativeDecimal(row.high24h, 'high24h'),
    low24h: optionalNonNegativeDecimal(row.low24h, 'low24h'),
    volume24h: optionalNonNegativeDecimal(row.baseVolume, 'baseVolume'),
    quoteVolume24h: optionalNonNegativeDecimal(row.quoteVolume, 'quoteVolume'),
    time: timeMs(row.ts, 'ts'),
    receivedAt,
  };
}

/** A level's price or size as printed; a number (REST merge-depth) is printed back as JavaScript prints it. */
function levelText(value: unknown, field: string): string {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : decimalText(value, field);
}

/**
 * Maps a book row. `books`: a snapshot (checksum 0 on the wire: not carried) or a delta with `prevSeq` = `pseq`
 * and the checksum to verify after applying. `books1/5/15`: every push is a whole top-N snapshot; their checksums
 * cover the deeper book, so they are not carried. Throws on a malformed row.
 */
export function parseBookRow(
  row: BitgetBookRow,
  symbol: string,
  channel: string,
  snapshot: boolean,
  receivedAt: number,
): BookUpdate {
  const full = channel === 'books';
  const seq = optionalInteger(row.seq, 'seq');
  const pseq = optionalInteger(row.pseq, 'pseq');
  const checksum = optionalInteger(row.checksum, 'checksum');
  const delta = full && !snapshot;
  return {
    venue: 'bitget',
    symbol,
    kind: delta ? 'delta' : 'snapshot',
    bids: tupleLevels(row.bids, 'bids', levelText),
    asks: tupleLevels(row.asks, 'asks', levelText),
    seq,
    prevSeq: delta && pseq !== undefined && pseq !== 0 ? pseq : undefined,
    checksum: delta ? checksum : undefined,
    time: timeMs(row.ts, 'ts'),
    receivedAt,
  };
}

/** Maps REST orderbook / merge-depth data to a snapshot (prices may be JSON numbers there). Throws on bad data. */
export function parseRestBook(body: BitgetRestBook, symbol: string, receivedAt: number): BookUpdate {
  return {
    venue: 'bitget',
    symbol,
    kind: 'snapshot',
    bids: tupleLevels(body.bids, 'bids', levelText),
    asks: tupleLevels(body.asks, 'asks', levelText),
    time: timeMs(body.ts, 'ts'),
    receivedAt,
  };
}

/**
 * Maps a candle row (socket or REST; 7 or 8 items, read by index) to a Candle. Bitget sends neither the trade
 * count nor taker-buy volumes: those are 0. Throws on a malformed row.
 */
export function parseCandleRow(row: unknown): Candle {
  if (!Array.isArray(row) || row.length < 7) throw new Error('candle row must have at least 7 items');
  const r = row as unknown[];
  return {
    time: timeMs(r[0], 'row[0]'),
    open: positiveDecimal(r[1], 'row[1]'),
    high: positiveDecimal(r[2], 'row[2]'),
    low: positiveDecimal(r[3], 'row[3]'),
    close: positiveDecimal(r[4], 'row[4]'),
    volume: nonNegativeDecimal(r[5], 'row[5]'),
    quoteVolume: nonNegativeDecimal(r[6], 'row[6]'),
    takerBuyVolume: ZERO,
    takerBuyQuoteVolume: ZERO,
    trades: 0,
  };
}

function parseCandleRows(
  data: unknown[],
  symbol: string,
  interval: Interval,
  receivedAt: number,
): VenueCandle[] {
  const bars = data.map(parseCandleRow).sort((a, b) => a.time - b.time);
  const out = new Array<VenueCandle>(bars.length);
  for (let i = 0; i < bars.length; i++) {
    const bar = bars[i] as Candle;
    const next = bars[i + 1];
    out[i] = {
      venue: 'bitget',
      symbol,
      interval,
      bar,
      closed: next !== undefined && next.time > bar.time,
      receivedAt,
    };
  }
  return out;
}

/** Error a REST envelope carries: code other than "00000". */
export class BitgetApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`bitget API error ${code}: ${message}`);
    this.name = 'BitgetApiError';
  }
}

/** The `data` of a REST envelope; throws BitgetApiError for a non-"00000" code or a body that is not an envelope. */
export function envelopeData(body: unknown): unknown {
  if (!isJsonObject(body) || typeof body['code'] !== 'string') {
    throw new BitgetApiError('?', 'answer is not a Bitget envelope {code, msg, data}');
  }
  if (body['code'] !== '00000') {
    throw new BitgetApiError(body['code'], typeof body['msg'] === 'string' ? body['msg'] : 'no message');
  }
  return body['data'];
}
