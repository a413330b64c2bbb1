import type { BookLevel, BookUpdate } from '../../domain/book.ts';
import type { Candle } from '../../domain/candle.ts';
import { ZERO, type Decimal } from '../../domain/decimal.ts';
import { INTERVAL_MS, type Interval } from '../../domain/interval.ts';
import type { Trade } from '../../domain/trade.ts';
import {
  array,
  decimal,
  decimalTextAt,
  integer,
  isJsonObject,
  isoTime,
  nonNegativeDecimal,
  nonNegativeInteger,
  optionalDecimal,
  optionalInteger,
  positiveDecimal,
  stringValue,
  tupleLevels,
  type JsonObject,
} from '../json-fields.ts';
import type { VenueCandle } from '../venue.ts';
import { fromDydxResolution, fromDydxTicker, splitCandleChannelId } from './symbols.ts';
import type { DydxChannel } from './wire.ts';

/**
 * Pure mapping of dYdX v4 Indexer frames and REST bodies to Tickwire types. Nothing here throws on a stream frame:
 * `parseFrame` returns `unknown` for what it cannot read, so one odd frame never stops a feed. Every result carries
 * the frame's `message_id` where it has one, because the feed checks the per-connection counter on every message,
 * whatever its channel.
 */

/** Schema majors this parser reads, per channel (`version` of channel_data). Other majors are refused. */
export const SUPPORTED_MAJORS: Readonly<Record<DydxChannel, readonly number[]>> = {
  v4_trades: [1, 2],
  v4_orderbook: [1],
  v4_candles: [1],
  v4_markets: [1],
  v4_subaccounts: [1, 2, 3],
  v4_parent_subaccounts: [1, 2, 3],
  v4_block_height: [1],
};

/** A market's parameters and 24 h statistics (v4_markets, /v4/perpetualMarkets). */
export interface DydxMarketInfo {
  readonly ticker: string;
  /** Canonical symbol, undefined for tickers with no canonical form. */
  readonly symbol: string | undefined;
  readonly clobPairId: string;
  readonly status: string;
  readonly atomicResolution: number;
  readonly quantumConversionExponent: number;
  readonly stepBaseQuantums: number;
  readonly subticksPerTick: number;
  readonly tickSize: Decimal;
  readonly stepSize: Decimal;
  /** Undefined when the indexer has no oracle price yet (null or absent). */
  readonly oraclePrice: Decimal | undefined;
  readonly priceChange24h: Decimal | undefined;
  /** 24 h traded notional, USD. */
  readonly volume24hUsd: Decimal | undefined;
  readonly trades24h: number | undefined;
  readonly openInterest: Decimal | undefined;
}

/** A partial change of one market (v4_markets channel_data `trading`). */
export interface DydxMarketChange {
  readonly ticker: string;
  readonly symbol: string | undefined;
  readonly status: string | undefined;
  readonly oraclePrice: Decimal | undefined;
  readonly priceChange24h: Decimal | undefined;
  readonly volume24hUsd: Decimal | undefined;
  readonly trades24h: number | undefined;
  readonly openInterest: Decimal | undefined;
}

/** A new oracle price (v4_markets channel_data `oraclePrices`). */
export interface DydxOracleUpdate {
  readonly ticker: string;
  readonly symbol: string | undefined;
  readonly price: Decimal;
  readonly time: number;
  readonly height: number;
}

/**
 * What one frame of the indexer socket means. `ignored`: understood and deliberately not used (account channels,
 * block height, 30MINS candles, tickers with no canonical form). `unknown`: not understood (bad JSON, missing or
 * malformed fields, a refused schema version); `key` groups such frames so a caller can log each kind once.
 * `messageId` is the frame's per-connection counter, undefined when the frame has none.
 */
export type DydxFrame =
  | { readonly kind: 'connected'; readonly messageId: number; readonly connectionId: string }
  | {
      readonly kind: 'trades';
      readonly messageId: number | undefined;
      readonly symbol: string;
      /** true for the `subscribed` contents (recent trades), false for live updates. */
      readonly snapshot: boolean;
      /** In the order the indexer sent them (newest first in a snapshot). */
      readonly trades: readonly Trade[];
    }
  | { readonly kind: 'book'; readonly messageId: number | undefined; readonly update: BookUpdate }
  | {
      readonly kind: 'candles';
      readonly messageId: number | undefined;
      readonly symbol: string;
      readonly interval: Interval;
      readonly snapshot: boolean;
      /** Ascending by start time. */
      readonly candles: readonly VenueCandle[];
    }
  | {
      readonly kind: 'markets';
      readonly messageId: number | undefined;
      readonly snapshot: boolean;
      readonly markets: readonly DydxMarketInfo[];
      readonly changes: readonly DydxMarketChange[];
      readonly oraclePrices: readonly DydxOracleUpdate[];
    }
  | {
      readonly kind: 'unsubscribed';
      readonly messageId: number | undefined;
      readonly channel: string;
      readonly id: string | undefined;
    }
  | { readonly kind: 'error'; readonly messageId: number | undefined; readonly message: string }
  | { readonly kind: 'pong'; readonly messageId: number | undefined; readonly id: number | undefined }
  | {
      readonly kind: 'ignored';
      readonly messageId: number | undefined;
      readonly key: string;
      readonly reason: string;
    }
  | {
      readonly kind: 'unknown';
      readonly messageId: number | undefined;
      readonly key: string;
      readonly reason: string;
    };

/** A block height sent as a decimal string ("19183704"). */
function height(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`field ${field} must be a block height`);
  return n;
}

function majorOf(version: unknown): number | undefined {
  if (typeof version !== 'string') return undefined;
  const major = Number(version.split('.')[0]);
  return Number.isSafeInteger(major) ? major : undefined;
}

function messageIdOf(frame: JsonObject): number | undefined {
  const id = frame['message_id'];
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}

const CHANNELS = new Set<string>(Object.keys(SUPPORTED_MAJORS));

/**
 * Parses one text frame of an indexer socket. Symbols are mapped to canonical form from the frame's ticker;
 * frames of tickers with no canonical form are `ignored`. Never throws.
 */
export function parseFrame(text: string, receivedAt: number): DydxFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'unknown', messageId: undefined, key: 'invalid-json', reason: 'frame is not valid JSON' };
  }
  if (!isJsonObject(value)) {
    return {
      kind: 'unknown',
      messageId: undefined,
      key: 'not-an-object',
      reason: 'frame is not a JSON object',
    };
  }
  return parseMessage(value, receivedAt);
}

/** Parses one already decoded indexer message (see parseFrame). Never throws. */
export function parseMessage(frame: JsonObject, receivedAt: number): DydxFrame {
  const messageId = messageIdOf(frame);
  const type = frame['type'];
  const key = typeof type === 'string' ? type : 'frame';
  try {
    switch (type) {
      case 'connected':
        return {
          kind: 'connected',
          messageId: messageId ?? 0,
          connectionId: stringValue(frame['connection_id'], 'connection_id'),
        };
      case 'error':
        return {
          kind: 'error',
          messageId,
          message: typeof frame['message'] === 'string' ? frame['message'] : 'error frame without message',
        };
      case 'pong':
        return { kind: 'pong', messageId, id: typeof frame['id'] === 'number' ? frame['id'] : undefined };
      case 'unsubscribed':
        return {
          kind: 'unsubscribed',
          messageId,
          channel: stringValue(frame['channel'], 'channel'),
          id: typeof frame['id'] === 'string' ? frame['id'] : undefined,
        };
      case 'subscribed':
      case 'channel_data':
      case 'channel_batch_data':
        return parseChannelMessage(frame, type, messageId, receivedAt);
      default:
        return { kind: 'unknown', messageId, key, reason: `message type ${JSON.stringify(type)} is unknown` };
    }
  } catch (err) {
    const channel = typeof frame['channel'] === 'string' ? `${frame['channel']}:${key}` : key;
    return { kind: 'unknown', messageId, key: channel, reason: `${channel}: ${(err as Error).message}` };
  }
}

function parseChannelMessage(
  frame: JsonObject,
  type: 'subscribed' | 'channel_data' | 'channel_batch_data',
  messageId: number | undefined,
  receivedAt: number,
): DydxFrame {
  const channel = frame['channel'];
  if (typeof channel !== 'string' || !CHANNELS.has(channel)) {
    return {
      kind: 'unknown',
      messageId,
      key: `channel:${String(channel)}`,
      reason: `channel ${JSON.stringify(channel)} is unknown`,
    };
  }
  const ch = channel as DydxChannel;
  if (type !== 'subscribed') {
    const major = majorOf(frame['version']);
    if (major === undefined || !SUPPORTED_MAJORS[ch].includes(major)) {
      return {
        kind: 'unknown',
        messageId,
        key: `${ch}:version`,
        reason: `${ch} schema version ${JSON.stringify(frame['version'])} is not supported`,
      };
    }
  }
  const snapshot = type === 'subscribed';
  const contents = frame['contents'];
  let updates: unknown[];
  if (type === 'channel_batch_data') {
    if (!Array.isArray(contents)) throw new Error('channel_batch_data contents must be an array');
    updates = contents as unknown[];
  } else {
    updates = [contents];
  }
  const id = typeof frame['id'] === 'string' ? frame['id'] : undefined;
  switch (ch) {
    case 'v4_trades':
      return tradesFrame(id, snapshot, updates, messageId, receivedAt);
    case 'v4_orderbook':
      return bookFrame(id, snapshot, updates, messageId, receivedAt);
    case 'v4_candles':
      return candlesFrame(id, snapshot, updates, messageId, receivedAt);
    case 'v4_markets':
      return marketsFrame(snapshot, updates, messageId);
    case 'v4_subaccounts':
    case 'v4_parent_subaccounts':
      return { kind: 'ignored', messageId, key: ch, reason: 'account channel, not market data' };
    case 'v4_block_height':
      return { kind: 'ignored', messageId, key: ch, reason: 'block height is not used' };
  }
}

/**
 * The canonical symbol of a channel's id, or the `ignored` frame for a market that has none (a ticker that is not
 * BASE-QUOTE). Throws when the frame carries no id at all.
 */
function symbolOrIgnored(
  id: string | undefined,
  ch: string,
  messageId: number | undefined,
): string | DydxFrame {
  if (id === undefined) throw new Error(`${ch} frame has no id`);
  return (
    fromDydxTicker(id) ?? {
      kind: 'ignored',
      messageId,
      key: ch,
      reason: `ticker "${id}" has no canonical symbol`,
    }
  );
}

function tradesFrame(
  id: string | undefined,
  snapshot: boolean,
  updates: unknown[],
  messageId: number | undefined,
  receivedAt: number,
): DydxFrame {
  const symbol = symbolOrIgnored(id, 'v4_trades', messageId);
  if (typeof symbol !== 'string') return symbol;
  const trades: Trade[] = [];
  for (const update of updates) {
    if (!isJsonObject(update) || !Array.isArray(update['trades']))
      throw new Error('contents.trades must be an array');
    for (const raw of update['trades'] as unknown[]) trades.push(parseTrade(raw, symbol, receivedAt));
  }
  return { kind: 'trades', messageId, symbol, snapshot, trades };
}

/**
 * Maps one dYdX trade (WS or REST item) to a Trade. The id is hex and not ordered, so `seq` stays undefined and
 * dedupe goes by id; liquidation and deleveraging trades are trades like any other. Throws on a malformed item.
 */
export function parseTrade(raw: unknown, symbol: string, receivedAt: number): Trade {
  if (!isJsonObject(raw)) throw new Error('trade item must be an object');
  const side = raw['side'];
  if (side !== 'BUY' && side !== 'SELL') throw new Error('field side must be BUY or SELL');
  const id = stringValue(raw['id'], 'id');
  if (id === '') throw new Error('field id must not be empty');
  return {
    venue: 'dydx',
    symbol,
    id,
    price: positiveDecimal(raw['price'], 'price'),
    size: nonNegativeDecimal(raw['size'], 'size'),
    side: side === 'BUY' ? 'buy' : 'sell',
    fills: 1,
    time: isoTime(raw['createdAt'], 'createdAt'),
    receivedAt,
  };
}

/** The block height of a trade item (`createdAtHeight`), undefined where the item has none (WS trades). */
export function tradeHeight(raw: unknown): number | undefined {
  if (!isJsonObject(raw) || raw['createdAtHeight'] === undefined) return undefined;
  return height(raw['createdAtHeight'], 'createdAtHeight');
}

function objectLevels(value: unknown, field: string): BookLevel[] {
  if (value === undefined) return [];
  const levels = array(value, field, '{price, size}');
  const out = new Array<BookLevel>(levels.length);
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (!isJsonObject(level)) throw new Error(`field ${field}[${i}] must be {price, size}`);
    out[i] = {
      price: decimalTextAt(level['price'], field, i, '.price'),
      size: decimalTextAt(level['size'], field, i, '.size'),
    };
  }
  return out;
}

/** Appends update tuples, a later change of one price replacing an earlier one in place. */
function mergeTuples(value: unknown, field: string, out: BookLevel[], index: Map<string, number>): void {
  if (value === undefined) return;
  for (const level of tupleLevels(value, field)) {
    const at = index.get(level.price);
    if (at === undefined) {
      index.set(level.price, out.length);
      out.push(level);
    } else {
      out[at] = level;
    }
  }
}

/**
 * v4_orderbook: a `subscribed` snapshot of {price,size} objects, or updates of [price,size] tuples (either side may
 * be missing). A batch becomes one delta in which the last change of each price wins. `seq` is the message_id; the
 * indexer has no per-book sequence or checksum, so there is no `prevSeq`, and book time is the receive time.
 */
function bookFrame(
  id: string | undefined,
  snapshot: boolean,
  updates: unknown[],
  messageId: number | undefined,
  receivedAt: number,
): DydxFrame {
  const symbol = symbolOrIgnored(id, 'v4_orderbook', messageId);
  if (typeof symbol !== 'string') return symbol;
  if (snapshot) {
    const contents = updates[0];
    if (!isJsonObject(contents)) throw new Error('contents must be an object');
    return { kind: 'book', messageId, update: parseBookSnapshot(contents, symbol, receivedAt, messageId) };
  }
  const bids: BookLevel[] = [];
  const asks: BookLevel[] = [];
  const bidIndex = new Map<string, number>();
  const askIndex = new Map<string, number>();
  for (let i = 0; i < updates.length; i++) {
    const u = updates[i];
    if (!isJsonObject(u)) throw new Error(`contents[${i}] must be an object`);
    mergeTuples(u['bids'], 'bids', bids, bidIndex);
    mergeTuples(u['asks'], 'asks', asks, askIndex);
  }
  const update: BookUpdate = {
    venue: 'dydx',
    symbol,
    kind: 'delta',
    bids,
    asks,
    seq: messageId,
    time: receivedAt,
    receivedAt,
  };
  return { kind: 'book', messageId, update };
}

/**
 * Maps a book snapshot ({bids:[{price,size}], asks:[...]}, the WS `subscribed` contents and the REST
 * /v4/orderbooks body) to a BookUpdate of kind `snapshot`. Throws on a malformed body.
 */
export function parseBookSnapshot(
  body: unknown,
  symbol: string,
  receivedAt: number,
  seq?: number,
): BookUpdate {
  if (!isJsonObject(body)) throw new Error('book body must be an object');
  return {
    venue: 'dydx',
    symbol,
    kind: 'snapshot',
    bids: objectLevels(body['bids'], 'bids'),
    asks: objectLevels(body['asks'], 'asks'),
    seq,
    time: receivedAt,
    receivedAt,
  };
}

/**
 * Maps one dYdX candle object to a Candle. dYdX gives no taker-buy split, so takerBuyVolume and
 * takerBuyQuoteVolume are 0. Throws on a malformed candle.
 */
export function parseCandle(raw: unknown): Candle {
  if (!isJsonObject(raw)) throw new Error('candle must be an object');
  return {
    time: isoTime(raw['startedAt'], 'startedAt'),
    open: positiveDecimal(raw['open'], 'open'),
    high: positiveDecimal(raw['high'], 'high'),
    low: positiveDecimal(raw['low'], 'low'),
    close: positiveDecimal(raw['close'], 'close'),
    volume: nonNegativeDecimal(raw['baseTokenVolume'], 'baseTokenVolume'),
    quoteVolume: nonNegativeDecimal(raw['usdVolume'], 'usdVolume'),
    takerBuyVolume: ZERO,
    takerBuyQuoteVolume: ZERO,
    trades: nonNegativeInteger(raw['trades'], 'trades'),
  };
}

/** Parses a candles body ({candles:[...]}, newest first) into bars in ascending time order. Throws when malformed. */
export function parseCandlesBody(body: unknown): Candle[] {
  if (!isJsonObject(body) || !Array.isArray(body['candles']))
    throw new Error('body must be {candles: [...]}');
  const rows = body['candles'] as unknown[];
  const out = rows.map((row, i) => {
    try {
      return parseCandle(row);
    } catch (err) {
      throw new Error(`candles[${i}]: ${(err as Error).message}`, { cause: err });
    }
  });
  return out.sort((a, b) => a.time - b.time);
}

function candlesFrame(
  id: string | undefined,
  snapshot: boolean,
  updates: unknown[],
  messageId: number | undefined,
  receivedAt: number,
): DydxFrame {
  const parts = id === undefined ? undefined : splitCandleChannelId(id);
  if (parts === undefined) throw new Error('v4_candles id must be TICKER/RESOLUTION');
  const interval = fromDydxResolution(parts.resolution);
  if (interval === undefined) {
    return {
      kind: 'ignored',
      messageId,
      key: 'v4_candles',
      reason: `resolution ${parts.resolution} is not a Tickwire interval`,
    };
  }
  const symbol = symbolOrIgnored(parts.ticker, 'v4_candles', messageId);
  if (typeof symbol !== 'string') return symbol;
  const rows: unknown[] = [];
  for (const u of updates) {
    if (snapshot) {
      if (!isJsonObject(u) || !Array.isArray(u['candles']))
        throw new Error('contents.candles must be an array');
      rows.push(...(u['candles'] as unknown[]));
    } else {
      rows.push(u);
    }
  }
  const size = INTERVAL_MS[interval];
  const candles: VenueCandle[] = rows.map((row) => {
    const bar = parseCandle(row);
    return { venue: 'dydx', symbol, interval, bar, closed: bar.time + size <= receivedAt, receivedAt };
  });
  candles.sort((a, b) => a.bar.time - b.bar.time);
  return { kind: 'candles', messageId, symbol, interval, snapshot, candles };
}

/** Maps one market object of /v4/perpetualMarkets or v4_markets `subscribed`. Throws on a malformed market. */
export function parseMarket(raw: unknown, tickerKey?: string): DydxMarketInfo {
  if (!isJsonObject(raw)) throw new Error('market must be an object');
  const ticker = typeof raw['ticker'] === 'string' ? raw['ticker'] : stringValue(tickerKey, 'ticker');
  return {
    ticker,
    symbol: fromDydxTicker(ticker),
    clobPairId: stringValue(raw['clobPairId'], 'clobPairId'),
    status: stringValue(raw['status'], 'status'),
    atomicResolution: integer(raw['atomicResolution'], 'atomicResolution'),
    quantumConversionExponent: integer(raw['quantumConversionExponent'], 'quantumConversionExponent'),
    stepBaseQuantums: integer(raw['stepBaseQuantums'], 'stepBaseQuantums'),
    subticksPerTick: integer(raw['subticksPerTick'], 'subticksPerTick'),
    tickSize: decimal(raw['tickSize'], 'tickSize'),
    stepSize: decimal(raw['stepSize'], 'stepSize'),
    oraclePrice: optionalDecimal(raw['oraclePrice'], 'oraclePrice'),
    priceChange24h: optionalDecimal(raw['priceChange24H'], 'priceChange24H'),
    volume24hUsd: optionalDecimal(raw['volume24H'], 'volume24H'),
    trades24h: optionalInteger(raw['trades24H'], 'trades24H'),
    openInterest: optionalDecimal(raw['openInterest'], 'openInterest'),
  };
}

/** Parses a markets body ({markets: {TICKER: {...}}}), in the body's order. Throws on a malformed body. */
export function parseMarketsBody(body: unknown): DydxMarketInfo[] {
  if (!isJsonObject(body) || !isJsonObject(body['markets'])) throw new Error('body must be {markets: {...}}');
  return Object.entries(body['markets']).map(([key, raw]) => {
    try {
      return parseMarket(raw, key);
    } catch (err) {
      throw new Error(`markets.${key}: ${(err as Error).message}`, { cause: err });
    }
  });
}

function marketsFrame(snapshot: boolean, updates: unknown[], messageId: number | undefined): DydxFrame {
  const markets: DydxMarketInfo[] = [];
  const changes: DydxMarketChange[] = [];
  const oraclePrices: DydxOracleUpdate[] = [];
  for (const u of updates) {
    if (snapshot) {
      markets.push(...parseMarketsBody(u));
      continue;
    }
    if (!isJsonObject(u)) throw new Error('contents must be an object');
    const trading = u['trading'];
    if (trading !== undefined) {
      if (!isJsonObject(trading)) throw new Error('contents.trading must be an object');
      for (const [ticker, raw] of Object.entries(trading)) {
        if (!isJsonObject(raw)) throw new Error(`trading.${ticker} must be an object`);
        changes.push({
          ticker,
          symbol: fromDydxTicker(ticker),
          status: typeof raw['status'] === 'string' ? raw['status'] : undefined,
          oraclePrice: optionalDecimal(raw['oraclePrice'], 'oraclePrice'),
          priceChange24h: optionalDecimal(raw['priceChange24H'], 'priceChange24H'),
          volume24hUsd: optionalDecimal(raw['volume24H'], 'volume24H'),
          trades24h: optionalInteger(raw['trades24H'], 'trades24H'),
          openInterest: optionalDecimal(raw['openInterest'], 'openInterest'),
        });
      }
    }
    const prices = u['oraclePrices'];
    if (prices !== undefined) {
      if (!isJsonObject(prices)) throw new Error('contents.oraclePrices must be an object');
      for (const [ticker, raw] of Object.entries(prices)) {
        if (!isJsonObject(raw)) throw new Error(`oraclePrices.${ticker} must be an object`);
        oraclePrices.push({
          ticker,
          symbol: fromDydxTicker(ticker),
          price: decimal(raw['oraclePrice'], 'oraclePrice'),
          time: isoTime(raw['effectiveAt'], 'effectiveAt'),
          height: height(raw['effectiveAtHeight'], 'effectiveAtHeight'),
        });
      }
    }
  }
  return { kind: 'markets', messageId, snapshot, markets, changes, oraclePrices };
}
