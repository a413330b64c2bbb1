import type { BookUpdate } from '../../domain/book.ts';
import type { Candle } from '../../domain/candle.ts';
import { TickwireError } from '../../domain/errors.ts';
import type { Interval } from '../../domain/interval.ts';
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
import { isJsonObject, stringValue } from '../json-fields.ts';
import type { CandleQuery, TradeQuery, VenueRest } from '../venue.ts';
import { parseBook, parseCandleRow, parseTicker, parseTrade } from './parse.ts';
import { toOkxBar, toOkxInstId } from './symbols.ts';
import type { OkxInstrument } from './wire.ts';

/** Endpoints used, with OKX's documented request limit per 2 s per IP and page size. */
const ENDPOINTS = {
  candles: { path: '/api/v5/market/candles', per2s: 40, page: 300 },
  historyCandles: { path: '/api/v5/market/history-candles', per2s: 20, page: 100 },
  historyTrades: { path: '/api/v5/market/history-trades', per2s: 20, page: 100 },
  books: { path: '/api/v5/market/books', per2s: 40, page: 400 },
  ticker: { path: '/api/v5/market/ticker', per2s: 20, page: 1 },
  instruments: { path: '/api/v5/public/instruments', per2s: 20, page: 1 },
} as const;

type Endpoint = keyof typeof ENDPOINTS;

export interface OkxRestOptions {
  /** Base URL without /api/v5: https://www.okx.com, or the simulator's http://127.0.0.1:PORT/okx. */
  readonly restUrl: string;
  readonly logger?: Logger;
  readonly now?: () => number;
  /**
   * Share of each endpoint's documented limit (requests per 2 s per IP) this client spends at most. Default 0.8,
   * so another client on the same IP still has room.
   */
  readonly rateShare?: number;
  /** Timeouts and retries; see HttpJsonClientOptions. Defaults: 10 s timeout, 4 retries, Retry-After honoured. */
  readonly http?: Omit<HttpJsonClientOptions, 'name' | 'limiter'>;
  /** Largest number of bars one fetchCandles call returns. Default 100 000. */
  readonly maxCandles?: number;
  /** Largest number of trades one fetchTrades call collects. Default 200 000. */
  readonly maxTrades?: number;
}

/**
 * History over OKX v5 REST, paced per endpoint. OKX pages newest first with `after` (older than a cursor), so
 * every fetch walks backwards from its end and returns the result ascending. Errors are TickwireError
 * VENUE_UNREACHABLE / VENUE_RATE_LIMITED / VENUE_REJECTED (an OKX body with code ≠ "0" is rejected with its code).
 */
export class OkxRest implements VenueRest {
  private readonly base: string;
  private readonly clients: Record<Endpoint, HttpJsonClient>;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private readonly maxCandles: number;
  private readonly maxTrades: number;

  constructor(options: OkxRestOptions) {
    this.base = restBase(options.restUrl);
    const share = options.rateShare ?? 0.8;
    if (!(share > 0 && share <= 1)) throw new RangeError('okx rest: rateShare must be in (0, 1]');
    const clients = {} as Record<Endpoint, HttpJsonClient>;
    for (const name of Object.keys(ENDPOINTS) as Endpoint[]) {
      const perTwo = Math.max(1, Math.floor(ENDPOINTS[name].per2s * share));
      clients[name] = new HttpJsonClient({
        ...options.http,
        name: `okx ${name}`,
        limiter: new TokenBucket({ capacity: perTwo, refillPerSecond: perTwo / 2 }),
      });
    }
    this.clients = clients;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.maxCandles = options.maxCandles ?? 100_000;
    this.maxTrades = options.maxTrades ?? 200_000;
  }

  /** See VenueRest.close. */
  close(): void {
    for (const client of Object.values(this.clients)) client.close();
  }

  /**
   * Bars of `symbol`, ascending, bar in progress included. With startTime: every bar from it up to endTime (or
   * now), at most `limit`. Without startTime: the latest `limit` (default 300) bars up to endTime. Walks back over
   * market/candles (the latest 1,440 bars) and continues on market/history-candles where those end.
   */
  async fetchCandles(symbol: string, interval: Interval, query: CandleQuery): Promise<Candle[]> {
    const instId = toOkxInstId(symbol);
    const bar = toOkxBar(interval);
    const limit = checkPositiveInt(query.limit, 'limit');
    const { startTime, endTime } = query;
    const wanted = Math.min(limit ?? (startTime === undefined ? 300 : this.maxCandles), this.maxCandles);
    const newestFirst: Candle[] = [];
    let after = endTime === undefined ? undefined : endTime + 1;
    let endpoint: 'candles' | 'historyCandles' = 'candles';
    while (newestFirst.length < wanted) {
      const size = Math.min(
        ENDPOINTS[endpoint].page,
        startTime === undefined ? wanted - newestFirst.length : Infinity,
      );
      const rows = await this.getData(endpoint, { instId, bar, after, limit: size });
      let reachedStart = false;
      for (let i = 0; i < rows.length; i++) {
        const candle = parseItem(`okx ${endpoint}`, i, () => parseCandleRow(rows[i]).bar);
        if (after !== undefined && candle.time >= after) continue;
        if (startTime !== undefined && candle.time < startTime) {
          reachedStart = true;
          break;
        }
        newestFirst.push(candle);
        after = candle.time;
        if (newestFirst.length >= wanted) break;
      }
      query.onProgress?.(newestFirst.length);
      if (reachedStart || newestFirst.length >= wanted) break;
      if (rows.length < size) {
        // market/candles reaches back 1,440 bars only; older bars are on history-candles.
        if (endpoint === 'candles' && after !== undefined) {
          endpoint = 'historyCandles';
          continue;
        }
        break;
      }
    }
    if (limit === undefined && newestFirst.length >= this.maxCandles) {
      this.logger?.warn(
        { symbol, interval, maxCandles: this.maxCandles },
        'okx candles capped at maxCandles',
      );
    }
    return newestFirst.reverse();
  }

  /**
   * Trades of `symbol`, ascending by tradeId (`seq`). OKX trade ids increase but are not contiguous: one trade
   * stands for `count` fills and carries the last fill's id. With afterSeq: the trades with a larger id; with
   * startTime: those at or after it; endTime (inclusive) bounds either; `limit` keeps the first ones. With neither
   * afterSeq nor startTime: the latest `limit` (default 100) trades up to endTime. Walks back over
   * market/history-trades (type 1 by tradeId; type 2 by time for the first page when endTime is given).
   */
  async fetchTrades(symbol: string, query: TradeQuery): Promise<Trade[]> {
    const instId = toOkxInstId(symbol);
    const limit = checkPositiveInt(query.limit, 'limit');
    const { afterSeq, startTime, endTime } = query;
    if (afterSeq !== undefined && !(Number.isSafeInteger(afterSeq) && afterSeq >= -1)) {
      throw new TickwireError('VENUE_REJECTED', `afterSeq must be an integer ≥ -1, got ${afterSeq}`);
    }
    const bounded = afterSeq !== undefined || startTime !== undefined;
    const wanted = bounded ? this.maxTrades : Math.min(limit ?? 100, this.maxTrades);
    const newestFirst: Trade[] = [];
    let cursor: number | undefined;
    let first = true;
    const receivedAt = this.now();
    while (newestFirst.length < wanted) {
      const params: Record<string, string | number | undefined> =
        first && endTime !== undefined
          ? { instId, type: 2, after: endTime + 1, limit: ENDPOINTS.historyTrades.page }
          : { instId, type: 1, after: cursor, limit: ENDPOINTS.historyTrades.page };
      first = false;
      const items = await this.getData('historyTrades', params);
      let done = false;
      for (let i = 0; i < items.length; i++) {
        const trade = parseItem('okx historyTrades', i, () => parseTrade(items[i], symbol, receivedAt));
        const seq = trade.seq as number;
        if (cursor !== undefined && seq >= cursor) continue;
        cursor = seq;
        if (endTime !== undefined && trade.time > endTime) continue;
        if (
          (afterSeq !== undefined && seq <= afterSeq) ||
          (startTime !== undefined && trade.time < startTime)
        ) {
          done = true;
          break;
        }
        newestFirst.push(trade);
        if (newestFirst.length >= wanted) break;
      }
      if (done || items.length < ENDPOINTS.historyTrades.page || cursor === undefined) break;
    }
    if (bounded && newestFirst.length >= this.maxTrades) {
      this.logger?.warn({ symbol, maxTrades: this.maxTrades }, 'okx trades capped at maxTrades');
    }
    const ascending = newestFirst.reverse();
    return limit !== undefined && bounded ? ascending.slice(0, limit) : ascending;
  }

  /** The top `depth` (≤ 400) levels per side from market/books, as a snapshot (REST books carry no seqId). */
  async fetchBookSnapshot(symbol: string, depth: number): Promise<BookUpdate> {
    const instId = toOkxInstId(symbol);
    const sz = Math.min(checkPositiveInt(depth, 'limit') ?? 400, ENDPOINTS.books.page);
    const data = await this.getData('books', { instId, sz });
    return parseItem('okx books', 0, () => parseBook(data[0], symbol, 'snapshot', this.now()));
  }

  /** The current ticker from market/ticker. */
  async fetchTicker(symbol: string): Promise<Ticker> {
    const data = await this.getData('ticker', { instId: toOkxInstId(symbol) });
    return parseItem('okx ticker', 0, () => parseTicker(data[0], symbol, this.now()));
  }

  /**
   * Instruments of one type from public/instruments (tick and lot sizes; `ctVal`, the contract value that turns
   * derivative sizes in contracts into base units).
   */
  async fetchInstruments(
    instType: 'SPOT' | 'SWAP' | 'FUTURES' = 'SPOT',
    instId?: string,
  ): Promise<OkxInstrument[]> {
    const data = await this.getData('instruments', { instType, instId });
    return data.map((raw, i) => parseItem('okx instruments', i, () => readInstrument(raw)));
  }

  /** GETs an endpoint and returns the `data` array of a `code: "0"` body. */
  private async getData(
    endpoint: Endpoint,
    params: Record<string, string | number | undefined>,
  ): Promise<unknown[]> {
    const url = withQuery(`${this.base}${ENDPOINTS[endpoint].path}`, params);
    const { body } = await this.clients[endpoint].getJson(url);
    if (!isJsonObject(body)) {
      throw new TickwireError('VENUE_REJECTED', `okx ${endpoint}: answer is not an OKX body`);
    }
    const { code, msg, data } = body;
    if (code !== '0') {
      const text = `okx ${endpoint}: code ${String(code)} ${typeof msg === 'string' ? msg : ''}`.trim();
      throw new TickwireError(code === '50011' ? 'VENUE_RATE_LIMITED' : 'VENUE_REJECTED', text);
    }
    if (!Array.isArray(data))
      throw new TickwireError('VENUE_REJECTED', `okx ${endpoint}: data is not an array`);
    return data as unknown[];
  }
}

function readInstrument(raw: unknown): OkxInstrument {
  if (!isJsonObject(raw)) throw new Error('instrument must be an object');
  const r = raw;
  const s = (k: string): string => stringValue(r[k], k);
  return {
    instType: s('instType'),
    instId: s('instId'),
    baseCcy: s('baseCcy'),
    quoteCcy: s('quoteCcy'),
    ctVal: s('ctVal'),
    tickSz: s('tickSz'),
    lotSz: s('lotSz'),
    state: s('state'),
    ...(typeof r['ctValCcy'] === 'string' ? { ctValCcy: r['ctValCcy'] } : {}),
    ...(typeof r['minSz'] === 'string' ? { minSz: r['minSz'] } : {}),
  };
}

/** Creates the OKX REST history client. */
export function createOkxRest(options: OkxRestOptions): OkxRest {
  return new OkxRest(options);
}
