import type {
  AccountSnapshot,
  AccountSummary,
  Balance,
  Fill,
  Order,
  Position,
} from '../../domain/account.ts';
import { ZERO } from '../../domain/decimal.ts';
import { systemClock, type Clock } from '../../util/clock.ts';
import { HttpJsonClient, restBase, TokenBucket, type HttpJsonClientOptions } from '../connection/http.ts';
import {
  parseRestFills,
  parseRestFuturesAccounts,
  parseRestOrders,
  parseRestPositions,
  parseRestSpotAssets,
} from './account-parse.ts';
import { bitgetRestHeaders, type BitgetCredentials } from './account-sign.ts';
import { BitgetApiError, envelopeData } from './parse.ts';
import { toBitgetInstrument } from './symbols.ts';

/** Bitget's page size for fills and pending orders. */
const PAGE_LIMIT = 100;
/** Fills older than this cannot be asked for (Bitget keeps 90 days; a day of margin for clock skew). */
const FILLS_RETENTION_MS = 89 * 24 * 60 * 60 * 1000;
/** Bitget answers refused requests with 4xx and its own code in an envelope; read those as answers. */
const ENVELOPE_STATUSES = [400, 401, 403, 404];

export interface BitgetAccountRestOptions {
  /** Base URL without /api/v2: https://api.bitget.com, or the simulator's http://127.0.0.1:PORT/bitget. */
  readonly restUrl: string;
  readonly credentials: BitgetCredentials;
  /** Futures product: `USDT-FUTURES`, or `SUSDT-FUTURES` for Bitget's demo trading. Default USDT-FUTURES. */
  readonly productType?: string;
  /** Also read the spot account (balances, open orders, fills of `spotSymbols`). Default true. */
  readonly spot?: boolean;
  /**
   * Spot pairs ("BTC/USDT") whose fills a reconcile fetches: Bitget's spot fills endpoint wants a symbol. Without
   * them, spot fills come from the stream only.
   */
  readonly spotSymbols?: readonly string[];
  /** Requests per second at most. Default 5 (Bitget: 10/s per UID on these endpoints, 5/s on all-position). */
  readonly requestsPerSecond?: number;
  /** Pages one `fillsSince` call reads at most per market. Default 50 (5,000 fills). */
  readonly maxPages?: number;
  /** Signature timestamps and the pacing; default the system clock. */
  readonly clock?: Clock;
  readonly http?: Omit<HttpJsonClientOptions, 'name' | 'limiter' | 'clock'>;
}

/**
 * An account's state over Bitget's signed REST v2 (EXCHANGES.md §6): what the private socket would carry, for the
 * polling fallback and for the reconcile after every gap. Every request is signed afresh (also on a retry). Errors:
 * BitgetApiError with Bitget's code for an envelope other than "00000" (a refused key reads `40006`, `40009`...),
 * TickwireError VENUE_UNREACHABLE / VENUE_RATE_LIMITED / VENUE_REJECTED from the HTTP layer.
 */
export class BitgetAccountRest {
  private readonly base: string;
  private readonly http: HttpJsonClient;
  private readonly credentials: BitgetCredentials;
  private readonly clock: Clock;
  private readonly productType: string;
  private readonly spot: boolean;
  private readonly spotSymbols: readonly string[];
  private readonly maxPages: number;

  constructor(options: BitgetAccountRestOptions) {
    this.base = restBase(options.restUrl);
    this.credentials = options.credentials;
    this.clock = options.clock ?? systemClock;
    const perSecond = options.requestsPerSecond ?? 5;
    const limiter = new TokenBucket({ capacity: perSecond, refillPerSecond: perSecond, clock: this.clock });
    this.http = new HttpJsonClient({ ...options.http, name: 'bitget', limiter, clock: this.clock });
    this.productType = options.productType ?? 'USDT-FUTURES';
    this.spot = options.spot ?? true;
    this.spotSymbols = (options.spotSymbols ?? []).map((s) => toBitgetInstrument(s).instId);
    this.maxPages = options.maxPages ?? 50;
  }
  /** Stops the client for the process's stop: requests under way and later ones fail at once (HttpJsonClient.close). */
  close(): void {
    this.http.close();
  }

  /** The futures account (`mix/account/accounts`) as the summary; undefined when Bitget lists no account. */
  async summary(): Promise<AccountSummary | undefined> {
    const data = await this.get('/api/v2/mix/account/accounts', { productType: this.productType });
    return parseRestFuturesAccounts(data, this.clock.now());
  }

  /** Spot coins (`spot/account/assets`); empty when spot is off. */
  async balances(): Promise<Balance[]> {
    if (!this.spot) return [];
    return parseRestSpotAssets(await this.get('/api/v2/spot/account/assets', {}));
  }

  /** Every open futures position (`mix/position/all-position`): the complete list. */
  async positions(): Promise<Position[]> {
    const data = await this.get('/api/v2/mix/position/all-position', {
      productType: this.productType,
      marginCoin: 'USDT',
    });
    return parseRestPositions(data);
  }

  /** Open orders: futures `orders-pending` (paged) and spot `unfilled-orders`. */
  async openOrders(): Promise<Order[]> {
    const out: Order[] = [];
    let idLessThan: string | undefined;
    for (let page = 0; page < this.maxPages; page++) {
      const data = await this.get('/api/v2/mix/order/orders-pending', {
        productType: this.productType,
        limit: String(PAGE_LIMIT),
        ...(idLessThan !== undefined ? { idLessThan } : {}),
      });
      const orders = parseRestOrders(data, 'perpetual');
      out.push(...orders);
      idLessThan = nextCursor(data, orders.length);
      if (idLessThan === undefined) break;
    }
    if (this.spot)
      out.push(...parseRestOrders(await this.get('/api/v2/spot/trade/unfilled-orders', {}), 'spot'));
    return out;
  }

  /**
   * Fills at or after `from` (ms), oldest first: futures (paged back with idLessThan) and spot for `spotSymbols`.
   * The window is clamped to Bitget's retention.
   */
  async fillsSince(from: number): Promise<Fill[]> {
    const start = String(Math.max(Math.floor(from), this.clock.now() - FILLS_RETENTION_MS));
    const out: Fill[] = [];
    out.push(...(await this.pagedFills('/api/v2/mix/order/fills', { productType: this.productType }, start)));
    if (this.spot)
      for (const symbol of this.spotSymbols)
        out.push(...(await this.pagedFills('/api/v2/spot/trade/fills', { symbol }, start)));
    return out.filter((f) => f.time >= from).sort((a, b) => a.time - b.time);
  }

  /** Everything at once, for the reconcile after a gap. */
  async snapshot(): Promise<AccountSnapshot> {
    const [summary, balances, positions, openOrders] = await Promise.all([
      this.summary(),
      this.balances(),
      this.positions(),
      this.openOrders(),
    ]);
    const time = this.clock.now();
    return {
      summary: summary ?? { equity: ZERO, currency: 'USDT', available: ZERO, unrealizedPnl: ZERO, time },
      balances,
      positions,
      openOrders,
      time,
    };
  }

  private async pagedFills(
    path: string,
    params: Readonly<Record<string, string>>,
    startTime: string,
  ): Promise<Fill[]> {
    const market = path.includes('/spot/') ? 'spot' : 'perpetual';
    const out: Fill[] = [];
    let idLessThan: string | undefined;
    for (let page = 0; page < this.maxPages; page++) {
      const data = await this.get(path, {
        ...params,
        startTime,
        limit: String(PAGE_LIMIT),
        ...(idLessThan !== undefined ? { idLessThan } : {}),
      });
      const fills = parseRestFills(data, market);
      out.push(...fills);
      idLessThan =
        nextCursor(data, fills.length) ?? (fills.length === PAGE_LIMIT ? oldestId(fills) : undefined);
      if (idLessThan === undefined) break;
    }
    return out;
  }

  /** A signed GET; the `data` of a "00000" envelope, else BitgetApiError with Bitget's code. */
  private async get(path: string, params: Readonly<Record<string, string>>): Promise<unknown> {
    const query = new URLSearchParams(params).toString();
    const url = `${this.base}${path}${query === '' ? '' : `?${query}`}`;
    const response = await this.http.getJson(url, 1, {
      headers: () => ({
        ...bitgetRestHeaders(this.credentials, { method: 'GET', path, query, body: '' }, this.clock.now()),
      }),
      answerStatuses: ENVELOPE_STATUSES,
    });
    try {
      return envelopeData(response.body);
    } catch (err) {
      if (err instanceof BitgetApiError) throw new BitgetApiError(err.code, `${path}: ${messageOf(err)}`);
      throw err;
    }
  }
}

/** The next page's `idLessThan`: the answer's `endId` when the page was full. */
function nextCursor(data: unknown, count: number): string | undefined {
  if (count < PAGE_LIMIT || typeof data !== 'object' || data === null) return undefined;
  const endId = (data as { endId?: unknown }).endId;
  return typeof endId === 'string' && endId !== '' ? endId : undefined;
}

/** Spot fills come as a bare list: page on the smallest trade id (ids grow with time). */
function oldestId(fills: readonly Fill[]): string | undefined {
  let oldest: Fill | undefined;
  for (const f of fills) if (oldest === undefined || f.time < oldest.time) oldest = f;
  return oldest?.fillId;
}

function messageOf(err: BitgetApiError): string {
  return err.message.replace(/^bitget API error \S+: /, '');
}
