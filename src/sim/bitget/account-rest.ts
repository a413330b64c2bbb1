/**
 * Bitget v2 signed REST of the simulated accounts (EXCHANGES.md §6): futures `/api/v2/mix/account/accounts`,
 * `/api/v2/mix/position/all-position`, `/api/v2/mix/order/orders-pending` (`{entrustedList, endId}`),
 * `/api/v2/mix/order/fills` (`{fillList, endId}`, newest first); spot `/api/v2/spot/account/assets`,
 * `/api/v2/spot/trade/unfilled-orders` and `/api/v2/spot/trade/fills` (the simulated account does not trade spot:
 * both are empty). Every request is signed (account-auth.ts); a failure answers HTTP 400 with Bitget's code in the
 * usual envelope, and a missing or wrong productType 40019/40020.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { add, toPlainString } from '../../domain/decimal.ts';
import type { VenueFaultState } from '../faults.ts';
import { sendJson } from '../venue.ts';
import { verifyRest } from './account-auth.ts';
import { fillRow, orderRow, positionRow } from './account-format.ts';
import type { BitgetSimAccount } from './account-format.ts';
import { bitgetInstId } from './instruments.ts';

/** Venue paths this handler answers. */
export const BITGET_ACCOUNT_PATHS: ReadonlySet<string> = new Set([
  '/api/v2/mix/account/accounts',
  '/api/v2/mix/position/all-position',
  '/api/v2/mix/order/orders-pending',
  '/api/v2/mix/order/fills',
  '/api/v2/spot/account/assets',
  '/api/v2/spot/trade/unfilled-orders',
  '/api/v2/spot/trade/fills',
]);

class RestError extends Error {
  constructor(
    readonly code: string,
    msg: string,
  ) {
    super(msg);
  }
}

export class BitgetAccountRest {
  constructor(
    private readonly accounts: ReadonlyMap<string, BitgetSimAccount>,
    private readonly venueFaults: VenueFaultState,
    private readonly now: () => number,
  ) {}

  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void {
    const failure = this.venueFaults.takeRestFailure();
    if (failure !== undefined) {
      const msg =
        failure.status === 429 || failure.status === 418 ? 'Too Many Requests' : 'Internal Server Error';
      const headers: Record<string, string> =
        failure.retryAfterSec !== undefined ? { 'retry-after': String(failure.retryAfterSec) } : {};
      sendJson(res, failure.status, this.body(String(failure.status), msg, null), headers);
      return;
    }
    const auth = verifyRest(req, url.pathname, path, url.search, this.accounts, this.now());
    if (!auth.ok) {
      sendJson(res, 400, this.body(String(auth.code), auth.msg, null));
      return;
    }
    try {
      if (req.method !== 'GET') throw new RestError('40404', 'Request URL NOT FOUND');
      sendJson(res, 200, this.body('00000', 'success', this.route(auth.account, path, url.searchParams)));
    } catch (err) {
      if (!(err instanceof RestError)) throw err;
      sendJson(res, 400, this.body(err.code, err.message, null));
    }
  }

  private body(code: string, msg: string, data: unknown): string {
    return JSON.stringify({ code, msg, requestTime: this.now(), data });
  }

  private route(account: BitgetSimAccount, path: string, params: URLSearchParams): unknown {
    const futures = account.futures;
    const index = account.index;
    switch (path) {
      case '/api/v2/mix/account/accounts':
        this.product(params);
        return [this.futuresAccount(account)];
      case '/api/v2/mix/position/all-position':
        this.product(params);
        return futures.positions().map((p) => positionRow(futures, index, p, true));
      case '/api/v2/mix/order/orders-pending': {
        this.product(params);
        const symbol = params.get('symbol');
        const list = futures
          .openOrders()
          .filter((o) => symbol === null || bitgetInstId(o.symbol) === symbol)
          .reverse()
          .map((o) => restOrder(orderRow(futures, index, o)));
        return { entrustedList: list.length > 0 ? list : null, endId: lastId(list, 'orderId') };
      }
      case '/api/v2/mix/order/fills': {
        this.product(params);
        const limit = Math.min(100, Math.max(1, Number(params.get('limit') ?? '100') || 100));
        const symbol = params.get('symbol');
        const list = futures.fills
          .filter((f) => symbol === null || bitgetInstId(f.symbol) === symbol)
          .slice(-limit)
          .reverse()
          .map((f) => fillRow(futures, index, f));
        return { fillList: list.length > 0 ? list : null, endId: lastId(list, 'tradeId') };
      }
      case '/api/v2/spot/account/assets':
        return [...account.spot].map(([coin, amount]) => ({
          coin,
          available: toPlainString(amount),
          frozen: '0',
          locked: '0',
          limitAvailable: '0',
          uTime: String(account.spotTime),
        }));
      case '/api/v2/spot/trade/unfilled-orders':
      case '/api/v2/spot/trade/fills':
        return [];
      default:
        throw new RestError('40404', 'Request URL NOT FOUND');
    }
  }

  /** `productType` is required; only USDT futures are simulated (either case accepted, as Bitget does). */
  private product(params: URLSearchParams): void {
    const raw = params.get('productType');
    if (raw === null || raw === '') throw new RestError('40019', 'Parameter productType cannot be empty');
    if (raw.toLowerCase() !== 'usdt-futures') throw new RestError('40020', 'Parameter productType error');
  }

  private futuresAccount(account: BitgetSimAccount): Record<string, string> {
    const f = account.futures;
    const equity = toPlainString(f.equity());
    const upl = toPlainString(f.totalUnrealizedPnl());
    const free = f.available();
    const freeText = free.coef > 0n ? toPlainString(free) : '0';
    return {
      marginCoin: f.settings.currency,
      locked: toPlainString(f.orderMargin()),
      available: toPlainString(add(f.balance, { coef: -f.orderMargin().coef, scale: f.orderMargin().scale })),
      crossedMaxAvailable: freeText,
      isolatedMaxAvailable: freeText,
      maxTransferOut: freeText,
      accountEquity: equity,
      usdtEquity: equity,
      btcEquity: '0',
      crossedRiskRate: '0',
      unrealizedPL: upl,
      coupon: '0',
      crossedUnrealizedPL: upl,
      isolatedUnrealizedPL: '0',
    };
  }
}

/** REST order rows name the instrument `symbol`. */
function restOrder(row: Record<string, unknown>): Record<string, unknown> {
  const { instId, ...rest } = row;
  return { symbol: instId, ...rest };
}

function lastId(list: readonly Record<string, unknown>[], field: string): string | null {
  const last = list.at(-1);
  return last === undefined ? null : String(last[field]);
}
