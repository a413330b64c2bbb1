import type { AccountSummary, Fill, Order } from '../../domain/account.ts';
import { TickwireError } from '../../domain/errors.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { Clock } from '../../util/clock.ts';
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
import {
  emptySnapshot,
  fillHeight,
  isOpenStatus,
  parseFill,
  parseOrder,
  parsePnlPoint,
  parsePosition,
  parseSubaccount,
  type DydxAccountState,
  type DydxPnlPoint,
  type DydxPositionChange,
} from './account-parse.ts';
import type { DydxOrderStatus } from './account-wire.ts';

/** The order statuses the indexer puts in a `subscribed` snapshot; the REST snapshot asks for the same. */
export const SNAPSHOT_ORDER_STATUSES: readonly DydxOrderStatus[] = [
  'OPEN',
  'UNTRIGGERED',
  'BEST_EFFORT_OPENED',
  'BEST_EFFORT_CANCELED',
];

/** Highest subaccount number the indexer accepts on v4_subaccounts (128 parents × 1000 children). */
export const MAX_SUBACCOUNT_NUMBER = 128_000 - 1;

export interface DydxSubaccountRef {
  /** The dYdX chain address, "dydx1…". */
  readonly address: string;
  /** 0–127 cross margin; 128 and above isolated (children of a parent subaccount). */
  readonly subaccountNumber: number;
}

/** Checks an address and subaccount number from the configuration; CONFIG_INVALID when either is not usable. */
export function checkSubaccountRef(ref: DydxSubaccountRef): DydxSubaccountRef {
  if (!/^dydx1[0-9a-z]{20,90}$/.test(ref.address))
    throw new TickwireError('CONFIG_INVALID', 'dydx account address must be a dydx1… bech32 address');
  const n = ref.subaccountNumber;
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SUBACCOUNT_NUMBER)
    throw new TickwireError(
      'CONFIG_INVALID',
      `dydx subaccountNumber must be an integer from 0 to ${MAX_SUBACCOUNT_NUMBER}`,
    );
  return ref;
}

export interface DydxAccountRestOptions extends DydxSubaccountRef {
  /** Base URL without /v4: https://indexer.dydx.trade, or the simulator's http://127.0.0.1:PORT/dydx. */
  readonly restUrl: string;
  readonly logger?: Logger;
  /** Requests per second at most. Default 4: the public indexer limits each IP, and market data shares it. */
  readonly requestsPerSecond?: number;
  /** Fills asked per page. Default 100. */
  readonly pageLimit?: number;
  /** Most fills one `fetchFillsSince` returns; older ones beyond it are left out (and logged). Default 10 000. */
  readonly maxFills?: number;
  /** Timeouts and retries; see HttpJsonClientOptions. */
  readonly http?: Omit<HttpJsonClientOptions, 'name' | 'limiter' | 'clock'>;
  /** Time for request pacing, timeouts and retries. Default the system clock. */
  readonly clock?: Clock;
}

/** A fill and the block it happened in. */
export interface HeightFill {
  readonly fill: Fill;
  readonly height: number;
}

/** Where fills resume: from a block height (inclusive), or from a time (inclusive) when no height is known. */
export type FillsFrom = { readonly height: number } | { readonly time: number };

const HTTP_STATUS = /: HTTP (\d{3})\b/;

/**
 * One subaccount over the dYdX v4 Indexer REST API: snapshot (subaccount + working orders, as the socket's
 * `subscribed`), fills since a point, orders, positions, historical PnL. No authentication. The address never
 * appears in an error message (it is replaced by "<address>"). Errors are TickwireError: VENUE_REJECTED (a 403
 * names the blocked address case), VENUE_UNREACHABLE, VENUE_RATE_LIMITED.
 */
export class DydxAccountRest {
  readonly address: string;
  readonly subaccountNumber: number;
  private readonly base: string;
  private readonly http: HttpJsonClient;
  private readonly logger: Logger | undefined;
  private readonly pageLimit: number;
  private readonly maxFills: number;

  constructor(options: DydxAccountRestOptions) {
    checkSubaccountRef(options);
    this.address = options.address;
    this.subaccountNumber = options.subaccountNumber;
    this.base = restBase(options.restUrl);
    const perSecond = options.requestsPerSecond ?? 4;
    const limiter = new TokenBucket({
      capacity: Math.max(1, perSecond),
      refillPerSecond: perSecond,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.http = new HttpJsonClient({
      ...options.http,
      name: 'dydx',
      limiter,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.logger = options.logger;
    this.pageLimit = checkPositiveInt(options.pageLimit, 'pageLimit') ?? 100;
    this.maxFills = checkPositiveInt(options.maxFills, 'maxFills') ?? 10_000;
  }
  /** Stops the client for the process's stop: requests under way and later ones fail at once (HttpJsonClient.close). */
  close(): void {
    this.http.close();
  }

  /**
   * The subaccount and its working orders, as one snapshot stamped `time`. A subaccount the indexer has not
   * indexed yet (404) is the empty snapshot (`indexed: false`), as on the socket.
   */
  async fetchSnapshot(time: number): Promise<DydxAccountState> {
    const subaccountUrl = `${this.base}/v4/addresses/${this.address}/subaccountNumber/${this.subaccountNumber}`;
    let body: unknown;
    let rawOrders: unknown;
    try {
      [body, rawOrders] = await Promise.all([
        this.get(subaccountUrl),
        this.get(this.url('/v4/orders', { status: SNAPSHOT_ORDER_STATUSES.join(',') })),
      ]);
    } catch (err) {
      if (err instanceof TickwireError && httpStatus(err) === 404)
        return { snapshot: emptySnapshot(time), indexed: false, blockHeight: undefined };
      throw err;
    }
    if (!isJsonObject(body)) throw this.rejected('subaccount answer is not an object');
    if (!Array.isArray(rawOrders)) throw this.rejected('orders answer is not an array');
    const orders = rawOrders as unknown[];
    return parseItem('dydx subaccount', 0, () => parseSubaccount(body['subaccount'], orders, time));
  }

  /**
   * The subaccount's summary alone (equity, free collateral), stamped `time`: one request, for the refresh while
   * streaming. undefined for a subaccount the indexer has not indexed yet (404).
   */
  async fetchSummary(time: number): Promise<AccountSummary | undefined> {
    const subaccountUrl = `${this.base}/v4/addresses/${this.address}/subaccountNumber/${this.subaccountNumber}`;
    let body: unknown;
    try {
      body = await this.get(subaccountUrl);
    } catch (err) {
      if (err instanceof TickwireError && httpStatus(err) === 404) return undefined;
      throw err;
    }
    if (!isJsonObject(body)) throw this.rejected('subaccount answer is not an object');
    return parseItem('dydx subaccount', 0, () => parseSubaccount(body['subaccount'], [], time)).snapshot
      .summary;
  }

  /**
   * Every fill from `from` on, ascending by block height, each once. Pages back from the newest with
   * `createdBeforeOrAtHeight` (inclusive, so the page boundary block is read again and deduplicated). A block
   * with more fills than one page cannot be read past its first page; the rest of it is skipped and logged.
   */
  async fetchFillsSince(from: FillsFrom): Promise<HeightFill[]> {
    const byId = new Map<string, HeightFill>();
    const reached = (f: HeightFill): boolean =>
      'height' in from ? f.height >= from.height : f.fill.time >= from.time;
    let before: number | undefined;
    let steppedDown = false;
    for (;;) {
      const url = this.url('/v4/fills', {
        limit: this.pageLimit,
        ...(before === undefined ? {} : { createdBeforeOrAtHeight: before }),
      });
      const body = await this.get(url);
      if (!isJsonObject(body) || !Array.isArray(body['fills']))
        throw this.rejected('fills answer has no fills[]');
      const items = body['fills'] as unknown[];
      let oldest: HeightFill | undefined;
      let added = 0;
      for (let i = 0; i < items.length; i++) {
        const item = parseItem('dydx fills', i, () => ({
          fill: parseFill(items[i]),
          height: fillHeight(items[i]),
        }));
        if (oldest === undefined || item.height < oldest.height) oldest = item;
        if (reached(item) && !byId.has(item.fill.fillId)) {
          byId.set(item.fill.fillId, item);
          added++;
        }
      }
      if (oldest === undefined || items.length < this.pageLimit || !reached(oldest)) break;
      if (byId.size >= this.maxFills) {
        this.logger?.warn({ maxFills: this.maxFills }, 'dydx fills capped at maxFills; older fills left out');
        break;
      }
      if (before === undefined || oldest.height < before) {
        before = oldest.height;
        steppedDown = false;
        continue;
      }
      // The page did not reach below `before`: one block holds more fills than a page. Step below it once; a
      // server that ignores createdBeforeOrAtHeight answers the same page again, and paging stops.
      if (steppedDown && added === 0) {
        this.logger?.warn({ height: before }, 'dydx fills paging made no progress; stopped');
        break;
      }
      this.logger?.warn(
        { height: before },
        'dydx block holds more fills than one page; the rest of it is skipped',
      );
      before--;
      steppedDown = true;
    }
    return [...byId.values()].sort((a, b) => a.height - b.height || a.fill.time - b.fill.time);
  }

  /** Orders of the subaccount, newest first, optionally of some statuses only (`limit` default 100). */
  async fetchOrders(
    query: { statuses?: readonly DydxOrderStatus[]; limit?: number },
    time: number,
  ): Promise<Order[]> {
    const url = this.url('/v4/orders', {
      limit: checkPositiveInt(query.limit, 'limit') ?? this.pageLimit,
      ...(query.statuses === undefined ? {} : { status: query.statuses.join(',') }),
    });
    const body = await this.get(url);
    if (!Array.isArray(body)) throw this.rejected('orders answer is not an array');
    const out: Order[] = [];
    (body as unknown[]).forEach((raw, i) => {
      const order = parseItem('dydx orders', i, () => parseOrder(raw, undefined, time));
      if (order === undefined) throw this.rejected(`order ${i} lacks side, size or ticker`);
      out.push(order);
    });
    return out;
  }

  /** Working orders only (open or partially filled). */
  async fetchOpenOrders(time: number): Promise<Order[]> {
    const orders = await this.fetchOrders({ statuses: SNAPSHOT_ORDER_STATUSES }, time);
    return orders.filter((o) => isOpenStatus(o.status));
  }

  /** Perpetual positions (`status` OPEN, CLOSED or LIQUIDATED; all when absent), as position changes. */
  async fetchPositions(
    query: { status?: 'OPEN' | 'CLOSED' | 'LIQUIDATED'; limit?: number },
    time: number,
  ): Promise<DydxPositionChange[]> {
    const url = this.url('/v4/perpetualPositions', {
      limit: checkPositiveInt(query.limit, 'limit') ?? this.pageLimit,
      status: query.status,
    });
    const body = await this.get(url);
    if (!isJsonObject(body) || !Array.isArray(body['positions']))
      throw this.rejected('perpetualPositions answer has no positions[]');
    return (body['positions'] as unknown[]).map((raw, i) =>
      parseItem('dydx perpetualPositions', i, () => parsePosition(raw, time, this.subaccountNumber)),
    );
  }

  /** The indexer's equity and total PnL snapshots (hourly), ascending, from `from` (ms) when given. */
  async fetchHistoricalPnl(query: { from?: number; limit?: number }): Promise<DydxPnlPoint[]> {
    const url = this.url('/v4/historical-pnl', {
      limit: checkPositiveInt(query.limit, 'limit') ?? this.pageLimit,
      createdOnOrAfter: query.from === undefined ? undefined : new Date(query.from).toISOString(),
    });
    const body = await this.get(url);
    if (!isJsonObject(body) || !Array.isArray(body['historicalPnl']))
      throw this.rejected('historical-pnl answer has no historicalPnl[]');
    return (body['historicalPnl'] as unknown[])
      .map((raw, i) => parseItem('dydx historical-pnl', i, () => parsePnlPoint(raw)))
      .sort((a, b) => a.time - b.time);
  }

  private url(path: string, params: Readonly<Record<string, string | number | undefined>>): string {
    return withQuery(`${this.base}${path}`, {
      address: this.address,
      subaccountNumber: this.subaccountNumber,
      ...params,
    });
  }

  /** GETs JSON; errors lose the address, and a 403 says what it means. */
  private async get(url: string): Promise<unknown> {
    try {
      return (await this.http.getJson(url)).body;
    } catch (err) {
      if (!(err instanceof TickwireError)) throw err;
      const message = this.redact(err.message);
      if (httpStatus(err) === 403)
        throw new TickwireError(
          'VENUE_REJECTED',
          `dydx refused the account (HTTP 403: address blocked by the indexer's compliance or geo check): ${message}`,
        );
      throw new TickwireError(err.code, message);
    }
  }

  private rejected(why: string): TickwireError {
    return new TickwireError('VENUE_REJECTED', `dydx account REST: ${why}`);
  }

  /** `text` with the account's address replaced by "<address>". */
  redact(text: string): string {
    return text.split(this.address).join('<address>');
  }
}

/** The HTTP status a REST error names ("…: HTTP 404 …"), undefined when it names none. */
export function httpStatus(err: TickwireError): number | undefined {
  const m = HTTP_STATUS.exec(err.message);
  return m === null ? undefined : Number(m[1]);
}
