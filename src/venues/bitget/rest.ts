import type { BookUpdate } from '../../domain/book.ts';
import type { Candle } from '../../domain/candle.ts';
import { TickwireError } from '../../domain/errors.ts';
import { bucketStart, DAY_MS, INTERVAL_MS, type Interval } from '../../domain/interval.ts';
import type { Ticker } from '../../domain/ticker.ts';
import type { Trade } from '../../domain/trade.ts';
import type { Logger } from '../../telemetry/logger.ts';
import {
  checkPositiveInt,
  HttpJsonClient,
  parseItem,
  restBase,
  TokenBucket,
  withQuery,
  type HttpJsonClientOptions,
} from '../connection/http.ts';
import type { CandleQuery, TradeQuery, VenueRest } from '../venue.ts';
import {
  BitgetApiError,
  envelopeData,
  parseCandleRow,
  parseRestBook,
  parseTickerRow,
  parseTradeRow,
} from './parse.ts';
import { restGranularity, toBitgetInstrument, USDT_PRODUCT_TYPE, type BitgetInstrument } from './symbols.ts';
import type { BitgetRestBook, BitgetRestTicker, BitgetRestTrade } from './wire.ts';

/** Bitget's page size limit for candles and fills-history. */
const PAGE_LIMIT = 1000;
/** fills-history refuses a time window longer than 7 days. */
const FILLS_WINDOW_MS = 7 * DAY_MS;
/** Futures candles refuse a start-end span longer than 90 days. */
const MIX_CANDLE_SPAN_MS = 90 * DAY_MS;
/** Levels the spot orderbook endpoint returns at most; merge-depth's fixed sizes. */
const SPOT_BOOK_MAX = 150;
const MERGE_DEPTH_LIMITS = [1, 5, 15, 50, 100] as const;

export interface BitgetRestOptions {
  /** Base URL without the /api/v2 path: https://api.bitget.com, or the simulator's http://127.0.0.1:PORT/bitget. */
  readonly restUrl: string;
  readonly logger?: Logger;
  readonly now?: () => number;
  /**
   * Requests per second at most. Default 8: below Bitget's 10/s on fills-history (20/s on candles), leaving room
   * for another client on the same IP.
   */
  readonly requestsPerSecond?: number;
  /** Timeouts and retries; see HttpJsonClientOptions. Defaults: 10 s timeout, 4 retries. */
  readonly http?: Omit<HttpJsonClientOptions, 'name' | 'limiter'>;
  /** Largest number of bars one fetchCandles call returns. Default 100 000. */
  readonly maxCandles?: number;
  /** Largest number of trades one fetchTrades call collects. Default 1 000 000. */
  readonly maxTrades?: number;
  /** Requests one fetchCandles or fetchTrades call makes at most (a guard against ranges far before any data). Default 2000. */
  readonly maxPages?: number;
}

/**
 * History, tickers and book snapshots over Bitget REST v2, spot (`/api/v2/spot`) and USDT futures (`/api/v2/mix`,
 * productType usdt-futures), paced by a token bucket. Results are ascending and exact (decimal strings parsed
 * without float). Errors are TickwireError VENUE_UNREACHABLE / VENUE_RATE_LIMITED / VENUE_REJECTED.
 */
export class BitgetRest implements VenueRest {
  private readonly base: string;
  private readonly http: HttpJsonClient;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private readonly maxCandles: number;
  private readonly maxTrades: number;
  private readonly maxPages: number;

  constructor(options: BitgetRestOptions) {
    this.base = restBase(options.restUrl);
    const perSecond = options.requestsPerSecond ?? 8;
    const limiter = new TokenBucket({ capacity: perSecond, refillPerSecond: perSecond });
    this.http = new HttpJsonClient({ ...options.http, name: 'bitget', limiter });
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.maxCandles = options.maxCandles ?? 100_000;
    this.maxTrades = options.maxTrades ?? 1_000_000;
    this.maxPages = options.maxPages ?? 2000;
  }

  /** See VenueRest.close. */
  close(): void {
    this.http.close();
  }

  /**
   * Bars of `symbol` ("BTC/USDT" spot, "BTC/USDT:USDT" USDT perpetual), ascending, bars whose start lies in
   * [startTime, endTime]. Without startTime: the latest `limit` (default 1000) bars up to endTime (or now). The bar
   * in progress is included when the range reaches it. Requests are windows of at most 1000 bars (90 days on
   * futures), so the answer does not depend on which end of a range Bitget fills a page from.
   */
  async fetchCandles(symbol: string, interval: Interval, query: CandleQuery): Promise<Candle[]> {
    const inst = toBitgetInstrument(symbol);
    const limit = checkPositiveInt(query.limit, 'limit');
    const ms = INTERVAL_MS[interval];
    // Bars cannot start after the current one: a later endTime would only page through empty windows.
    const end = bucketStart(interval, Math.min(query.endTime ?? Number.POSITIVE_INFINITY, this.now()));
    let cursor: number;
    let wanted: number;
    if (query.startTime === undefined) {
      wanted = Math.min(limit ?? PAGE_LIMIT, this.maxCandles);
      cursor = end - (wanted - 1) * ms;
    } else {
      const first = bucketStart(interval, query.startTime);
      cursor = first < query.startTime ? first + ms : first;
      wanted = Math.min(limit ?? this.maxCandles, this.maxCandles);
    }
    const perPage =
      inst.instType === 'SPOT'
        ? PAGE_LIMIT
        : Math.max(1, Math.min(PAGE_LIMIT, Math.floor(MIX_CANDLE_SPAN_MS / ms)));
    const path = inst.instType === 'SPOT' ? '/api/v2/spot/market/candles' : '/api/v2/mix/market/candles';
    const out: Candle[] = [];
    for (let pages = 0; cursor <= end && out.length < wanted; pages++) {
      if (pages >= this.maxPages) {
        this.logger?.warn(
          { symbol, interval, maxPages: this.maxPages },
          'bitget candles stopped at maxPages',
        );
        break;
      }
      const windowEnd = Math.min(end, cursor + (perPage - 1) * ms);
      const rows = await this.getArray(path, {
        ...this.instrumentParams(inst),
        granularity: restGranularity(interval, inst.instType),
        startTime: cursor,
        endTime: windowEnd,
        limit: PAGE_LIMIT,
      });
      const page = rows
        .map((row, i) => parseItem(`bitget ${path}`, i, () => parseCandleRow(row)))
        .filter((bar) => bar.time >= cursor && bar.time <= windowEnd)
        .sort((a, b) => a.time - b.time);
      for (const bar of page) {
        const last = out[out.length - 1];
        if (last !== undefined && bar.time <= last.time) continue;
        out.push(bar);
        if (out.length >= wanted) break;
      }
      query.onProgress?.(out.length);
      cursor = windowEnd + ms;
    }
    if (limit === undefined && query.startTime !== undefined && out.length >= this.maxCandles) {
      this.logger?.warn(
        { symbol, interval, maxCandles: this.maxCandles },
        'bitget candles capped at maxCandles',
      );
    }
    return out;
  }

  /**
   * Trades of `symbol` in [startTime, endTime] (endTime defaults to now; startTime to one hour before it),
   * ascending by time, from fills-history: each window of at most 7 days is paged backwards with `idLessThan`.
   * With `limit`, the earliest `limit` trades of the range. Without startTime and endTime: the latest `limit`
   * (default 500) trades. Bitget trade ids are not contiguous, so `afterSeq` is refused (VENUE_REJECTED): resume by
   * time and deduplicate by id.
   */
  async fetchTrades(symbol: string, query: TradeQuery): Promise<Trade[]> {
    const inst = toBitgetInstrument(symbol);
    const limit = checkPositiveInt(query.limit, 'limit');
    if (query.afterSeq !== undefined) {
      throw new TickwireError(
        'VENUE_REJECTED',
        'bitget trade ids are not a sequence: fetch trades by startTime/endTime and deduplicate by id',
      );
    }
    const path =
      inst.instType === 'SPOT' ? '/api/v2/spot/market/fills-history' : '/api/v2/mix/market/fills-history';
    if (query.startTime === undefined && query.endTime === undefined) {
      const want = Math.min(limit ?? 500, this.maxTrades);
      return ascending(await this.pageBackwards(symbol, inst, path, undefined, undefined, want));
    }
    const end = query.endTime ?? this.now();
    const start = query.startTime ?? end - 3_600_000;
    if (start > end) return [];
    const collected: Trade[] = [];
    for (let windowEnd = end; windowEnd >= start && collected.length < this.maxTrades;) {
      const windowStart = Math.max(start, windowEnd - FILLS_WINDOW_MS + 1);
      const page = await this.pageBackwards(
        symbol,
        inst,
        path,
        windowStart,
        windowEnd,
        this.maxTrades - collected.length,
      );
      for (const t of page) collected.push(t);
      windowEnd = windowStart - 1;
    }
    if (collected.length >= this.maxTrades) {
      this.logger?.warn({ symbol, maxTrades: this.maxTrades }, 'bitget fills-history capped at maxTrades');
    }
    const sorted = ascending(collected);
    return limit === undefined ? sorted : sorted.slice(0, limit);
  }

  /** A book snapshot of at most `depth` levels per side (spot orderbook, futures merge-depth). */
  async fetchBookSnapshot(symbol: string, depth: number): Promise<BookUpdate> {
    const inst = toBitgetInstrument(symbol);
    checkPositiveInt(depth, 'depth');
    let data: unknown;
    if (inst.instType === 'SPOT') {
      data = await this.getData('/api/v2/spot/market/orderbook', {
        symbol: inst.instId,
        type: 'step0',
        limit: Math.min(depth, SPOT_BOOK_MAX),
      });
    } else {
      const size = MERGE_DEPTH_LIMITS.find((n) => n >= depth);
      data = await this.getData('/api/v2/mix/market/merge-depth', {
        ...this.instrumentParams(inst),
        precision: 'scale0',
        limit: size === undefined ? 'max' : size,
      });
    }
    const receivedAt = this.now();
    const book = parseItem('bitget orderbook', 0, () =>
      parseRestBook(data as BitgetRestBook, symbol, receivedAt),
    );
    return book.bids.length <= depth && book.asks.length <= depth
      ? book
      : { ...book, bids: book.bids.slice(0, depth), asks: book.asks.slice(0, depth) };
  }

  /** The current 24 h ticker (spot tickers, futures ticker). */
  async fetchTicker(symbol: string): Promise<Ticker> {
    const inst = toBitgetInstrument(symbol);
    const path = inst.instType === 'SPOT' ? '/api/v2/spot/market/tickers' : '/api/v2/mix/market/ticker';
    const rows = await this.getArray(path, this.instrumentParams(inst));
    const receivedAt = this.now();
    const row = rows.find((r) => (r as { symbol?: unknown }).symbol === inst.instId) ?? rows[0];
    if (row === undefined)
      throw new TickwireError('VENUE_REJECTED', `bitget ${path}: no ticker for ${symbol}`);
    return parseItem(`bitget ${path}`, 0, () => parseTickerRow(row as BitgetRestTicker, symbol, receivedAt));
  }

  private instrumentParams(inst: BitgetInstrument): Record<string, string> {
    return inst.instType === 'SPOT'
      ? { symbol: inst.instId }
      : { symbol: inst.instId, productType: USDT_PRODUCT_TYPE };
  }

  /** Newest-first pages of fills-history within [start, end], until exhausted or `want` trades. */
  private async pageBackwards(
    symbol: string,
    inst: BitgetInstrument,
    path: string,
    start: number | undefined,
    end: number | undefined,
    want: number,
  ): Promise<Trade[]> {
    const out: Trade[] = [];
    let idLessThan: string | undefined;
    for (let pages = 0; out.length < want; pages++) {
      if (pages >= this.maxPages) {
        this.logger?.warn({ symbol, maxPages: this.maxPages }, 'bitget fills-history stopped at maxPages');
        break;
      }
      const size = Math.min(PAGE_LIMIT, want - out.length);
      const items = await this.getArray(path, {
        ...this.instrumentParams(inst),
        startTime: start,
        endTime: end,
        idLessThan,
        limit: size,
      });
      const receivedAt = this.now();
      let oldest: Trade | undefined;
      for (let i = 0; i < items.length; i++) {
        const trade = parseItem(`bitget ${path}`, i, () =>
          parseTradeRow(items[i] as BitgetRestTrade, symbol, receivedAt),
        );
        if (oldest === undefined || compareTrades(trade, oldest) < 0) oldest = trade;
        if ((start !== undefined && trade.time < start) || (end !== undefined && trade.time > end)) continue;
        if (idLessThan !== undefined && compareIds(trade.id, idLessThan) >= 0) continue;
        out.push(trade);
      }
      if (items.length < size || oldest === undefined) break;
      if (idLessThan !== undefined && compareIds(oldest.id, idLessThan) >= 0) break;
      idLessThan = oldest.id;
    }
    return out;
  }

  private async getArray(
    path: string,
    params: Record<string, string | number | undefined>,
  ): Promise<unknown[]> {
    const data = await this.getData(path, params);
    if (!Array.isArray(data)) {
      throw new TickwireError('VENUE_REJECTED', `bitget ${path}: expected a data array, got ${typeof data}`);
    }
    return data as unknown[];
  }

  private async getData(path: string, params: Record<string, string | number | undefined>): Promise<unknown> {
    const { body } = await this.http.getJson(withQuery(`${this.base}${path}`, params));
    try {
      return envelopeData(body);
    } catch (err) {
      if (err instanceof BitgetApiError) {
        throw new TickwireError('VENUE_REJECTED', `bitget ${path}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
}

/** Orders ids of equal length numerically, and shorter ids first (ids are decimal integers beyond 2^53). */
function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareTrades(a: Trade, b: Trade): number {
  return a.time - b.time || compareIds(a.id, b.id);
}

/** Sorted by time then id, duplicates (same id) removed. */
function ascending(trades: Trade[]): Trade[] {
  trades.sort(compareTrades);
  const out: Trade[] = [];
  for (const t of trades) if (out[out.length - 1]?.id !== t.id) out.push(t);
  return out;
}

/** Creates the Bitget REST client. */
export function createBitgetRest(options: BitgetRestOptions): BitgetRest {
  return new BitgetRest(options);
}
