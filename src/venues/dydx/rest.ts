import type { BookUpdate } from '../../domain/book.ts';
import type { Candle } from '../../domain/candle.ts';
import { parseDecimal } from '../../domain/decimal.ts';
import { TickwireError } from '../../domain/errors.ts';
import { bucketStart, DAY_MS, INTERVAL_MS, WEEK_MS, type Interval } from '../../domain/interval.ts';
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
import { isJsonObject } from '../json-fields.ts';
import type { CandleQuery, TradeQuery, VenueRest } from '../venue.ts';
import {
  parseBookSnapshot,
  parseCandlesBody,
  parseMarketsBody,
  parseTrade,
  tradeHeight,
  type DydxMarketInfo,
} from './parse.ts';
import { toDydxResolution, toDydxTicker } from './symbols.ts';
import { rollupWeeks } from './weekly.ts';
import type { DydxResolution } from './wire.ts';

export interface DydxRestOptions {
  /** Base URL without the /v4 path: https://indexer.dydx.trade, or the simulator's http://127.0.0.1:PORT/dydx. */
  readonly restUrl: string;
  readonly logger?: Logger;
  readonly now?: () => number;
  /**
   * Requests per second at most. Default 8: the public indexer limits each IP (100 requests per 10 s at the time of
   * writing), and a second client on the same address still has room.
   */
  readonly requestsPerSecond?: number;
  /** Items asked per page of candles and trades. Default 100 (every indexer deployment serves at least that). */
  readonly pageLimit?: number;
  /** Timeouts and retries; see HttpJsonClientOptions. Defaults: 10 s timeout, 4 retries. */
  readonly http?: Omit<HttpJsonClientOptions, 'name' | 'limiter'>;
  /** Largest number of bars one fetchCandles call returns. Default 100 000. */
  readonly maxCandles?: number;
  /** Largest number of trades one fetchTrades call returns. Default 1 000 000. */
  readonly maxTrades?: number;
}

/** A trade with the block height the indexer reported, for paging. */
interface HeightTrade {
  readonly trade: Trade;
  readonly height: number;
}

/**
 * History over the dYdX v4 Indexer REST API (/v4), paced per request. The indexer answers newest first; results
 * here are ascending and exact. Weekly bars are rolled up from 1DAY bars (Monday-aligned). Errors are
 * TickwireError VENUE_UNREACHABLE / VENUE_RATE_LIMITED / VENUE_REJECTED.
 */
export class DydxRest implements VenueRest {
  private readonly base: string;
  private readonly http: HttpJsonClient;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private readonly pageLimit: number;
  private readonly maxCandles: number;
  private readonly maxTrades: number;

  constructor(options: DydxRestOptions) {
    this.base = restBase(options.restUrl);
    const perSecond = options.requestsPerSecond ?? 8;
    const limiter = new TokenBucket({ capacity: Math.max(1, perSecond), refillPerSecond: perSecond });
    this.http = new HttpJsonClient({ ...options.http, name: 'dydx', limiter });
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.pageLimit = checkPositiveInt(options.pageLimit, 'pageLimit') ?? 100;
    this.maxCandles = options.maxCandles ?? 100_000;
    this.maxTrades = options.maxTrades ?? 1_000_000;
  }

  /** See VenueRest.close. */
  close(): void {
    this.http.close();
  }

  /**
   * Bars of `symbol`, ascending. With startTime: bars from it (to endTime, or `limit` of them). Without: the latest
   * `limit` (default 100) bars up to endTime or now. The bar in progress is included when the range reaches it.
   * 1W is built from 1DAY bars, Monday 00:00 UTC aligned.
   */
  async fetchCandles(symbol: string, interval: Interval, query: CandleQuery): Promise<Candle[]> {
    const ticker = toDydxTicker(symbol);
    const limit = checkPositiveInt(query.limit, 'limit');
    const size = INTERVAL_MS[interval];
    const { startTime } = query;
    let first: number | undefined;
    let last = bucketStart(interval, query.endTime ?? this.now());
    if (startTime !== undefined) {
      first = bucketStart(interval, startTime);
      if (first < startTime) first += size;
      if (limit !== undefined) last = Math.min(last, first + (limit - 1) * size);
    } else {
      first = last - ((limit ?? 100) - 1) * size;
    }
    if (last < first) return [];
    const wanted = Math.min(limit ?? this.maxCandles, this.maxCandles);
    let bars: Candle[];
    if (interval === '1W') {
      const days = await this.candleRange(ticker, '1DAY', first, last + WEEK_MS - DAY_MS, Infinity);
      bars = rollupWeeks(days).filter((b) => b.time >= (first as number) && b.time <= last);
    } else {
      const resolution = toDydxResolution(interval) as DydxResolution;
      bars = await this.candleRange(ticker, resolution, first, last, wanted, query.onProgress);
    }
    if (bars.length > wanted) {
      if (startTime === undefined) bars = bars.slice(-wanted);
      else bars = bars.slice(0, wanted);
      if (limit === undefined) {
        this.logger?.warn(
          { symbol, interval, maxCandles: this.maxCandles },
          'dydx candles capped at maxCandles',
        );
      }
    }
    return bars;
  }

  /**
   * Trades of `symbol`, ascending by time (then block height and the indexer's order). dYdX trade ids are not
   * ordered, so `afterSeq` is refused; resume by time (startTime) and dedupe by id. With startTime: every trade from
   * it to endTime (or now), paging back by block height. Without: the latest `limit` (default 100) up to endTime.
   */
  async fetchTrades(symbol: string, query: TradeQuery): Promise<Trade[]> {
    if (query.afterSeq !== undefined) {
      throw new TickwireError(
        'VENUE_REJECTED',
        'dydx trade ids are not ordered: resume with startTime, not afterSeq',
      );
    }
    const ticker = toDydxTicker(symbol);
    const limit = checkPositiveInt(query.limit, 'limit');
    const { startTime, endTime } = query;
    const wanted = Math.min(limit ?? (startTime === undefined ? 100 : this.maxTrades), this.maxTrades);
    const seen = new Set<string>();
    const newestFirst: HeightTrade[] = [];
    let kept = 0;
    let height: number | undefined;
    for (;;) {
      const items = await this.getList(`trades/perpetualMarket/${encodeURIComponent(ticker)}`, 'trades', {
        limit: this.pageLimit,
        startingBeforeOrAtHeight: height,
      });
      const receivedAt = this.now();
      let fresh = 0;
      let oldest: HeightTrade | undefined;
      for (let i = 0; i < items.length; i++) {
        const item = parseItem('dydx trades', i, () => {
          const h = tradeHeight(items[i]);
          if (h === undefined) throw new Error('field createdAtHeight is missing');
          return { trade: parseTrade(items[i], symbol, receivedAt), height: h };
        });
        oldest = item;
        if (seen.has(item.trade.id)) continue;
        seen.add(item.trade.id);
        fresh++;
        newestFirst.push(item);
        const t = item.trade.time;
        if ((endTime === undefined || t <= endTime) && (startTime === undefined || t >= startTime)) kept++;
      }
      if (oldest === undefined) break;
      if (height !== undefined && oldest.height > height) {
        throw new TickwireError(
          'VENUE_REJECTED',
          `dydx trades: asked for heights up to ${height}, got ${oldest.height} (startingBeforeOrAtHeight ignored)`,
        );
      }
      if (startTime !== undefined && oldest.trade.time < startTime) break;
      if (startTime === undefined && kept >= wanted) break;
      if (kept >= this.maxTrades) {
        this.logger?.warn({ symbol, maxTrades: this.maxTrades }, 'dydx trades capped at maxTrades');
        break;
      }
      // A page that brought nothing new ends inside one block: step below it.
      height = fresh === 0 ? oldest.height - 1 : oldest.height;
      if (height < 0) break;
    }
    const out: Trade[] = [];
    for (let i = newestFirst.length - 1; i >= 0; i--) {
      const { trade } = newestFirst[i] as HeightTrade;
      if (startTime !== undefined && trade.time < startTime) continue;
      if (endTime !== undefined && trade.time > endTime) continue;
      out.push(trade);
    }
    // Heights ascend with time; a stable sort by time keeps the indexer's order within one block.
    out.sort((a, b) => a.time - b.time);
    return startTime === undefined ? out.slice(-wanted) : out.slice(0, wanted);
  }

  /** The book from /v4/orderbooks/perpetualMarket/{ticker}, at most `depth` levels a side, as a snapshot. */
  async fetchBookSnapshot(symbol: string, depth: number): Promise<BookUpdate> {
    const n = checkPositiveInt(depth, 'depth') ?? 100;
    const { body } = await this.get(
      `orderbooks/perpetualMarket/${encodeURIComponent(toDydxTicker(symbol))}`,
      {},
    );
    const book = parseItem('dydx orderbooks', 0, () => parseBookSnapshot(body, symbol, this.now()));
    return { ...book, bids: book.bids.slice(0, n), asks: book.asks.slice(0, n) };
  }

  /**
   * A ticker assembled from three reads, since the indexer has none: the last trade (price), the book top (bid/ask)
   * and the market's 24 h statistics (quoteVolume24h is the market's USD volume24H).
   */
  async fetchTicker(symbol: string): Promise<Ticker> {
    const [markets, book, trades] = await Promise.all([
      this.fetchMarkets(toDydxTicker(symbol)),
      this.fetchBookSnapshot(symbol, 1),
      this.fetchTrades(symbol, { limit: 1 }),
    ]);
    const market = markets.find((m) => m.symbol === symbol);
    const lastTrade = trades.at(-1);
    const last = lastTrade?.price ?? market?.oraclePrice;
    if (last === undefined) {
      throw new TickwireError('VENUE_REJECTED', `dydx has no trade or oracle price for ${symbol}`);
    }
    const bid = book.bids[0];
    const ask = book.asks[0];
    // Book strings were validated when the snapshot was parsed.
    const dec = (s: string | undefined) => (s === undefined ? undefined : parseDecimal(s));
    return {
      venue: 'dydx',
      symbol,
      last,
      bid: dec(bid?.price),
      bidSize: dec(bid?.size),
      ask: dec(ask?.price),
      askSize: dec(ask?.size),
      quoteVolume24h: market?.volume24hUsd,
      time: lastTrade?.time ?? book.time,
      receivedAt: this.now(),
    };
  }

  /** Markets from /v4/perpetualMarkets (one ticker, or all), with their chain parameters. */
  async fetchMarkets(ticker?: string): Promise<DydxMarketInfo[]> {
    const { body } = await this.get('perpetualMarkets', { ticker });
    return parseItem('dydx perpetualMarkets', 0, () => parseMarketsBody(body));
  }

  /** Bars of one resolution with start in [from, to], ascending, paging back from `to` with toISO. */
  private async candleRange(
    ticker: string,
    resolution: DydxResolution,
    from: number,
    to: number,
    wanted: number,
    onProgress?: (fetched: number) => void,
  ): Promise<Candle[]> {
    const pages: Candle[][] = [];
    let count = 0;
    let cursor = to;
    const fromISO = new Date(from).toISOString();
    while (count < wanted && cursor >= from) {
      const { body } = await this.get(`candles/perpetualMarkets/${encodeURIComponent(ticker)}`, {
        resolution,
        fromISO,
        toISO: new Date(cursor).toISOString(),
        limit: this.pageLimit,
      });
      const page = parseItem('dydx candles', 0, () => parseCandlesBody(body)).filter(
        (c) => c.time >= from && c.time <= cursor,
      );
      const oldest = page[0];
      if (oldest === undefined) break;
      pages.unshift(page);
      count += page.length;
      onProgress?.(count);
      if (page.length < this.pageLimit) break;
      cursor = oldest.time - 1;
    }
    return pages.flat();
  }

  private async getList(
    path: string,
    field: string,
    params: Record<string, string | number | undefined>,
  ): Promise<unknown[]> {
    const { body } = await this.get(path, params);
    const list = isJsonObject(body) ? body[field] : undefined;
    if (!Array.isArray(list)) {
      throw new TickwireError('VENUE_REJECTED', `dydx ${path}: expected {${field}: [...]}`);
    }
    return list as unknown[];
  }

  private async get(
    path: string,
    params: Record<string, string | number | undefined>,
  ): Promise<{ body: unknown }> {
    return this.http.getJson(withQuery(`${this.base}/v4/${path}`, params));
  }
}

/** Creates the dYdX REST history client. */
export function createDydxRest(options: DydxRestOptions): DydxRest {
  return new DydxRest(options);
}
