import type { BookUpdate } from '../../domain/book.ts';
import type { Candle } from '../../domain/candle.ts';
import { TickwireError } from '../../domain/errors.ts';
import { bucketStart, INTERVAL_MS, type Interval } from '../../domain/interval.ts';
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
  depthTopToBookSnapshot,
  parseAggTrade,
  parseDepthTop,
  parseExchangeInfo,
  parseKlineRow,
  parseRestTicker,
  parseRestTrade,
} from './parse.ts';
import { toBinanceInterval, toBinanceSymbol } from './symbols.ts';
import type {
  BinanceAggTrade,
  BinanceDepthSnapshot,
  BinanceExchangeInfo,
  BinanceRestTicker,
  BinanceRestTrade,
} from './wire.ts';

/** Binance's page size limit for klines, aggTrades and trades. */
const PAGE_LIMIT = 1000;
/** Binance refuses aggTrades time windows longer than one hour. */
const AGG_TRADES_WINDOW_MS = 3_600_000;
/** Request weights of the endpoints used (rest-api.md). */
const WEIGHT = { klines: 2, aggTrades: 4, trades: 25, exchangeInfo: 20, ticker24hr: 2 } as const;
/** Depth limits Binance accepts, and the weight of each band. */
const DEPTH_MAX = 5000;
function depthWeight(limit: number): number {
  return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
}

export interface BinanceRestOptions {
  /** Base URL without the /api/v3 path: https://api.binance.com, or the simulator's http://127.0.0.1:PORT/binance. */
  readonly restUrl: string;
  readonly logger?: Logger;
  readonly now?: () => number;
  /**
   * Request weight spent per minute at most. Default 1000: below the 1200/min Binance has published since 2021, so a
   * second client on the same IP still has room. The used weight Binance reports in X-MBX-USED-WEIGHT-1M slows us
   * further when others spend from the same budget.
   */
  readonly weightPerMinute?: number;
  /** Timeouts and retries; see HttpJsonClientOptions. Defaults: 10 s timeout, 4 retries. */
  readonly http?: Omit<HttpJsonClientOptions, 'name' | 'limiter'>;
  /** Largest number of bars one fetchCandles call returns. Default 100 000. */
  readonly maxCandles?: number;
  /** Largest number of trades one fetchTrades call returns. Default 1 000 000. */
  readonly maxTrades?: number;
}

/**
 * History over Binance spot REST /api/v3, paced by request weight. Results are ascending and exact (decimal
 * strings parsed without float). Errors are TickwireError VENUE_UNREACHABLE / VENUE_RATE_LIMITED / VENUE_REJECTED.
 */
export class BinanceRest implements VenueRest {
  private readonly base: string;
  private readonly http: HttpJsonClient;
  private readonly limiter: TokenBucket;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private readonly maxCandles: number;
  private readonly maxTrades: number;

  constructor(options: BinanceRestOptions) {
    this.base = restBase(options.restUrl);
    const perMinute = options.weightPerMinute ?? 1000;
    this.limiter = new TokenBucket({ capacity: perMinute, refillPerSecond: perMinute / 60 });
    this.http = new HttpJsonClient({ ...options.http, name: 'binance', limiter: this.limiter });
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.maxCandles = options.maxCandles ?? 100_000;
    this.maxTrades = options.maxTrades ?? 1_000_000;
  }

  /** See VenueRest.close. */
  close(): void {
    this.http.close();
  }

  /**
   * Bars of `symbol` from /api/v3/klines, ascending, paging forward 1000 at a time. With startTime and endTime and
   * no limit: every bar in the range. With a limit and no startTime: the latest `limit` bars up to endTime (or now).
   * With neither: the latest 1000 bars. The bar in progress is included when the range reaches it.
   */
  async fetchCandles(symbol: string, interval: Interval, query: CandleQuery): Promise<Candle[]> {
    const pair = toBinanceSymbol(symbol);
    const name = toBinanceInterval(interval);
    const limit = checkPositiveInt(query.limit, 'limit');
    const { endTime } = query;
    let start = query.startTime;
    if (start === undefined) {
      const latest = limit ?? PAGE_LIMIT;
      if (latest <= PAGE_LIMIT) {
        const rows = await this.getArray('klines', { symbol: pair, interval: name, endTime, limit: latest });
        return this.readKlines(rows, endTime, []);
      }
      start = bucketStart(interval, endTime ?? this.now()) - (latest - 1) * INTERVAL_MS[interval];
    }
    const wanted = Math.min(limit ?? this.maxCandles, this.maxCandles);
    const out: Candle[] = [];
    for (let cursor = start; out.length < wanted;) {
      const size = Math.min(PAGE_LIMIT, wanted - out.length);
      const rows = await this.getArray('klines', {
        symbol: pair,
        interval: name,
        startTime: cursor,
        endTime,
        limit: size,
      });
      const before = out.length;
      const done = this.readKlines(rows, endTime, out).length === before || rows.length < size;
      query.onProgress?.(out.length);
      const last = out[out.length - 1];
      if (done || last === undefined) break;
      if (endTime !== undefined && last.time >= endTime) break;
      cursor = last.time + 1;
    }
    if (limit === undefined && out.length >= this.maxCandles) {
      this.logger?.warn(
        { symbol, interval, maxCandles: this.maxCandles },
        'binance klines capped at maxCandles',
      );
    }
    return out;
  }

  /**
   * Aggregate trades of `symbol` from /api/v3/aggTrades, ascending by id (`seq`). With afterSeq: trades with a
   * larger id, paging with fromId. With startTime: trades from that time, found through windows of at most 1 h,
   * then paged with fromId. endTime (inclusive) stops either. With neither: the latest `limit` (default 1000)
   * trades, or those of the hour before endTime.
   */
  async fetchTrades(symbol: string, query: TradeQuery): Promise<Trade[]> {
    const pair = toBinanceSymbol(symbol);
    const limit = checkPositiveInt(query.limit, 'limit');
    const { startTime, endTime } = query;
    if (query.afterSeq !== undefined && !(Number.isSafeInteger(query.afterSeq) && query.afterSeq >= -1)) {
      throw new TickwireError('VENUE_REJECTED', `afterSeq must be an integer ≥ -1, got ${query.afterSeq}`);
    }
    const out: Trade[] = [];
    if (query.afterSeq === undefined && startTime === undefined) {
      if (endTime !== undefined) {
        const all = await this.fetchTrades(symbol, {
          startTime: endTime - AGG_TRADES_WINDOW_MS + 1,
          endTime,
        });
        return limit === undefined ? all : all.slice(-limit);
      }
      return this.latestAggTrades(pair, symbol, limit ?? PAGE_LIMIT);
    }
    const wanted = Math.min(limit ?? this.maxTrades, this.maxTrades);
    let fromId = query.afterSeq === undefined ? undefined : query.afterSeq + 1;
    if (fromId === undefined) {
      // Find the first trade at or after startTime one window at a time.
      const until = endTime ?? this.now();
      for (let from = startTime ?? 0; from <= until && fromId === undefined; from += AGG_TRADES_WINDOW_MS) {
        const to = Math.min(from + AGG_TRADES_WINDOW_MS - 1, until);
        const size = Math.min(PAGE_LIMIT, wanted);
        const items = await this.getArray('aggTrades', {
          symbol: pair,
          startTime: from,
          endTime: to,
          limit: size,
        });
        const page = this.readAggTrades(items, symbol, startTime, endTime, wanted, out);
        if (page.stop || (page.lastSeq !== undefined && items.length < size && to >= until)) return out;
        if (page.lastSeq !== undefined) fromId = page.lastSeq + 1;
      }
      if (fromId === undefined) return out;
    }
    while (out.length < wanted) {
      const size = Math.min(PAGE_LIMIT, wanted - out.length);
      const items = await this.getArray('aggTrades', { symbol: pair, fromId, limit: size });
      const page = this.readAggTrades(items, symbol, startTime, endTime, wanted, out);
      if (page.stop || items.length < size || page.lastSeq === undefined) break;
      fromId = page.lastSeq + 1;
    }
    if (limit === undefined && out.length >= this.maxTrades) {
      this.logger?.warn({ symbol, maxTrades: this.maxTrades }, 'binance aggTrades capped at maxTrades');
    }
    return out;
  }

  /** The latest individual trades (/api/v3/trades, at most 1000), ascending, each with `fills` 1. */
  async fetchLatestTrades(symbol: string, limit = 500): Promise<Trade[]> {
    const pair = toBinanceSymbol(symbol);
    const n = Math.min(checkPositiveInt(limit, 'limit') ?? 500, PAGE_LIMIT);
    const items = await this.getArray('trades', { symbol: pair, limit: n });
    const receivedAt = this.now();
    return items.map((item, i) =>
      parseItem('binance trades', i, () => parseRestTrade(item as BinanceRestTrade, symbol, receivedAt)),
    );
  }

  /**
   * The book of `symbol` from /api/v3/depth, `depth` levels per side (1..5000), as a snapshot whose `seq` is
   * Binance's `lastUpdateId`. Binance's depth has no event time, so `time` is the receive time.
   */
  async fetchBookSnapshot(symbol: string, depth: number): Promise<BookUpdate> {
    const pair = toBinanceSymbol(symbol);
    const limit = Math.min(checkPositiveInt(depth, 'depth') ?? 100, DEPTH_MAX);
    const { body } = await this.get('depth', { symbol: pair, limit }, depthWeight(limit));
    const receivedAt = this.now();
    const top = parseItem('binance depth', 0, () =>
      parseDepthTop(body as BinanceDepthSnapshot, symbol, receivedAt),
    );
    return depthTopToBookSnapshot(top, receivedAt);
  }

  /** Rolling 24 h statistics with the best prices, from /api/v3/ticker/24hr. */
  async fetchTicker(symbol: string): Promise<Ticker> {
    const pair = toBinanceSymbol(symbol);
    const { body } = await this.get('ticker/24hr', { symbol: pair }, WEIGHT.ticker24hr);
    const receivedAt = this.now();
    return parseItem('binance ticker/24hr', 0, () =>
      parseRestTicker(body as BinanceRestTicker, symbol, receivedAt),
    );
  }

  /** Symbols and rate limits of /api/v3/exchangeInfo, optionally for some canonical symbols only. */
  async fetchExchangeInfo(symbols?: readonly string[]): Promise<BinanceExchangeInfo> {
    const params: Record<string, string | undefined> = {};
    if (symbols !== undefined && symbols.length > 0) {
      params['symbols'] = JSON.stringify(symbols.map(toBinanceSymbol));
    }
    const { body } = await this.get('exchangeInfo', params, WEIGHT.exchangeInfo);
    try {
      return parseExchangeInfo(body);
    } catch (err) {
      throw new TickwireError(
        'VENUE_REJECTED',
        `binance exchangeInfo is malformed: ${(err as Error).message}`,
      );
    }
  }

  private async latestAggTrades(pair: string, symbol: string, wanted: number): Promise<Trade[]> {
    const pages: Trade[][] = [];
    let need = Math.min(wanted, this.maxTrades);
    let before: number | undefined;
    while (need > 0) {
      const size = Math.min(PAGE_LIMIT, need);
      const fromId = before === undefined ? undefined : Math.max(0, before - size);
      const count = before === undefined || fromId === undefined ? size : before - fromId;
      if (count <= 0) break;
      const items = await this.getArray('aggTrades', { symbol: pair, fromId, limit: count });
      const page: Trade[] = [];
      this.readAggTrades(items, symbol, undefined, undefined, Infinity, page);
      const kept = before === undefined ? page : page.filter((t) => (t.seq ?? 0) < (before ?? 0));
      if (kept.length === 0) break;
      pages.unshift(kept);
      need -= kept.length;
      before = kept[0]?.seq;
      if (before === undefined || before === 0 || items.length < count) break;
    }
    return pages.flat();
  }

  /** Appends parsed bars up to endTime, keeping the order strictly ascending. Returns `out`. */
  private readKlines(rows: unknown[], endTime: number | undefined, out: Candle[]): Candle[] {
    for (let i = 0; i < rows.length; i++) {
      const bar = parseItem('binance klines', i, () => parseKlineRow(rows[i]));
      if (endTime !== undefined && bar.time > endTime) break;
      const last = out[out.length - 1];
      if (last !== undefined && bar.time <= last.time) continue;
      out.push(bar);
    }
    return out;
  }

  /**
   * Appends the page's trades within [startTime, endTime] in id order. `stop`: endTime or `wanted` was reached;
   * `lastSeq`: the last id of the page, where the next page starts after.
   */
  private readAggTrades(
    items: unknown[],
    symbol: string,
    startTime: number | undefined,
    endTime: number | undefined,
    wanted: number,
    out: Trade[],
  ): { stop: boolean; lastSeq: number | undefined } {
    const receivedAt = this.now();
    let lastSeq: number | undefined;
    for (let i = 0; i < items.length; i++) {
      const trade = parseItem('binance aggTrades', i, () =>
        parseAggTrade(items[i] as BinanceAggTrade, symbol, receivedAt),
      );
      if (endTime !== undefined && trade.time > endTime) return { stop: true, lastSeq };
      lastSeq = trade.seq;
      if (startTime !== undefined && trade.time < startTime) continue;
      const last = out[out.length - 1];
      if (last?.seq !== undefined && trade.seq !== undefined && trade.seq <= last.seq) continue;
      out.push(trade);
      if (out.length >= wanted) return { stop: true, lastSeq };
    }
    return { stop: false, lastSeq };
  }

  private async getArray(
    endpoint: 'klines' | 'aggTrades' | 'trades',
    params: Record<string, string | number | undefined>,
  ): Promise<unknown[]> {
    const { body } = await this.get(endpoint, params, WEIGHT[endpoint]);
    if (!Array.isArray(body)) {
      throw new TickwireError(
        'VENUE_REJECTED',
        `binance ${endpoint}: expected a JSON array, got ${typeof body}`,
      );
    }
    return body as unknown[];
  }

  private async get(
    endpoint: string,
    params: Record<string, string | number | undefined>,
    weight: number,
  ): Promise<{ body: unknown }> {
    const response = await this.http.getJson(withQuery(`${this.base}/api/v3/${endpoint}`, params), weight);
    const used = Number(response.headers.get('x-mbx-used-weight-1m'));
    if (Number.isFinite(used) && used > 0) this.limiter.limitTo(this.limiter.capacity - used);
    return response;
  }
}

/** Creates the Binance REST history client. */
export function createBinanceRest(options: BinanceRestOptions): BinanceRest {
  return new BinanceRest(options);
}
