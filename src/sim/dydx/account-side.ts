/**
 * The simulated dYdX venue's private side: one account engine per configured subaccount (address and number),
 * served on the existing socket as `v4_subaccounts` (subscribed `{subaccount, orders, blockHeight}`, then
 * channel_data updates of orders, fills, perpetual and asset positions) and on the indexer's address REST:
 * `/v4/addresses/{a}/subaccountNumber/{n}`, `/v4/orders`, `/v4/fills`, `/v4/perpetualPositions`,
 * `/v4/historical-pnl`. Data is public by address, as on dYdX: no credentials. An unknown subaccount is `{}` on the
 * socket and 404 on REST.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseDecimal, toPlainString } from '../../domain/decimal.ts';
import type { SimDydxAccountConfig } from '../accounts/config.ts';
import { SimAccount, type SimAccountEvent } from '../accounts/engine.ts';
import { SimAccountFaults } from '../accounts/faults.ts';
import { SimTrader } from '../accounts/trader.ts';
import type { SimVenueAccounts } from '../accounts/venue-accounts.ts';
import type { VenueFaultState } from '../faults.ts';
import { hashSeed } from '../random.ts';
import { sendJson, type SimVenue, type SimVenueContext } from '../venue.ts';
import {
  assetPosition,
  fillRest,
  fillUpdate,
  height,
  orderObject,
  positionObject,
  subaccountObject,
  type DydxSimAccount,
} from './account-format.ts';
import type { DydxSimInstrument, DydxSimInstruments } from './instruments.ts';
import type { DydxStreamServer } from './stream-server.ts';

export interface DydxAccountSettings {
  /** The subaccounts served; default `demoAccounts.dydx`. */
  readonly accounts: readonly SimDydxAccountConfig[];
  /** Funding period (dYdX pays funding hourly; the simulator's default is 8 h like the other venue). */
  readonly fundingPeriodMs: number;
}

const ACCOUNT_PATHS = new Set(['/v4/orders', '/v4/fills', '/v4/perpetualPositions', '/v4/historical-pnl']);

class RestError extends Error {
  constructor(
    readonly status: number,
    msg: string,
    readonly param?: string,
  ) {
    super(msg);
  }
}

export class DydxAccountSide implements SimVenueAccounts {
  readonly accounts: SimAccount[] = [];
  readonly faults: SimAccountFaults;
  private readonly byId = new Map<string, DydxSimAccount>();

  constructor(
    context: SimVenueContext,
    instruments: DydxSimInstruments,
    private readonly streams: DydxStreamServer,
    private readonly venueFaults: VenueFaultState,
    settings: DydxAccountSettings,
    private readonly now: () => number,
  ) {
    this.faults = new SimAccountFaults(context.now);
    // dYdX lists USD-quoted perpetuals only: a subaccount trades those (the simulator serves every configured
    // symbol on every venue's public side, but an account's positions must be ones the real venue could hold).
    const listed = [...instruments.all()];
    const all = listed.filter((i) => i.market.spec.symbol.endsWith('/USD'));
    const clock = listed[0];
    if (clock === undefined) throw new RangeError('dydx sim: no market');
    const bySymbol = new Map<string, DydxSimInstrument>(all.map((i) => [i.market.spec.symbol, i]));
    const markets = all.map((i) => ({ symbol: i.market.spec.symbol, market: i.market }));
    settings.accounts.forEach((config, index) => {
      const id = `${config.address}/${config.subaccountNumber}`;
      if (this.byId.has(id)) throw new RangeError(`dydx sim: subaccount ${id} configured twice`);
      const engine = new SimAccount(
        `dydx-${index}`,
        {
          currency: 'USDC',
          initialBalance: parseDecimal(config.balance ?? '10000'),
          makerFeeRate: parseDecimal('0.0001'),
          takerFeeRate: parseDecimal('0.0005'),
          maintenanceMarginRate: parseDecimal('0.03'),
          fundingRate: parseDecimal('0.0001'),
          fundingPeriodMs: settings.fundingPeriodMs,
          defaultLeverage: config.leverage ?? 5,
          defaultMarginMode: 'cross',
        },
        markets,
        context.startMs,
      );
      if (config.trader !== false && markets.length > 0) {
        const seed = hashSeed(context.seed, 'dydx-trader', id);
        engine.schedule(new SimTrader(engine, { seed, ...(config.trader ?? {}) }));
      }
      this.accounts.push(engine);
      const account: DydxSimAccount = {
        address: config.address,
        subaccountNumber: config.subaccountNumber,
        id,
        engine,
        instruments: bySymbol,
        clock,
      };
      this.byId.set(id, account);
      engine.subscribe((event) => this.onEvent(account, event));
    });
    streams.attachSubaccounts({
      faults: this.faults,
      subscribed: (id) => {
        const account = this.byId.get(id);
        if (account === undefined) return {};
        const now = this.now();
        return {
          subaccount: subaccountObject(account, now),
          orders: account.engine.openOrders().map((o) => orderObject(account, o, true)),
          blockHeight: height(account, now),
        };
      },
    });
  }

  advanceTo(nowMs: number): void {
    for (const account of this.accounts) account.advanceTo(nowMs);
  }

  /** Wraps the public venue: the account REST paths come here, everything else goes to `venue`. */
  wrap(venue: SimVenue): SimVenue {
    return {
      id: venue.id,
      accounts: this,
      handleRequest: (req: IncomingMessage, res: ServerResponse, path: string, url: URL) => {
        if (ACCOUNT_PATHS.has(path) || path.startsWith('/v4/addresses/')) this.handle(req, res, path, url);
        else venue.handleRequest(req, res, path, url);
      },
      handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer, path: string, url: URL) =>
        venue.handleUpgrade(req, socket, head, path, url),
      advanceTo: (nowMs: number) => {
        venue.advanceTo(nowMs);
        this.advanceTo(nowMs);
      },
      dropConnections: () => venue.dropConnections(),
      close: () => venue.close(),
    };
  }

  private onEvent(account: DydxSimAccount, event: SimAccountEvent): void {
    const engine = account.engine;
    const block = height(account, engine.now);
    let contents: Record<string, unknown>;
    switch (event.kind) {
      case 'order': {
        // An order that just filled goes out with its fill, in one message, as the indexer sends them.
        const last = engine.fills.at(-1);
        if (
          last?.order === event.order &&
          last.time === event.order.updatedAt &&
          event.order.filled.coef > 0n
        )
          return;
        contents = { blockHeight: block, orders: [orderObject(account, event.order, false)] };
        break;
      }
      case 'fill':
        contents = {
          blockHeight: block,
          fills: [fillUpdate(account, event.fill)],
          orders: [orderObject(account, event.fill.order, false)],
          perpetualPositions: [positionObject(account, event.position, 'update')],
          assetPositions: [assetPosition(account, true)],
        };
        break;
      case 'funding':
        contents = {
          blockHeight: block,
          perpetualPositions: [positionObject(account, event.position, 'update')],
          assetPositions: [assetPosition(account, true)],
        };
        break;
      case 'liquidation':
        return;
    }
    this.streams.publishSubaccount(account.id, JSON.stringify(contents));
  }

  private handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void {
    const failure = this.venueFaults.takeRestFailure();
    if (failure !== undefined) {
      const headers: Record<string, string> = {};
      if (failure.status === 429 || failure.status === 418)
        headers['retry-after'] = String(failure.retryAfterSec ?? 1);
      const msg = failure.status >= 500 ? 'Internal Server Error' : 'Too many requests';
      sendJson(res, failure.status, JSON.stringify({ errors: [{ msg }] }), headers);
      return;
    }
    try {
      if (req.method !== 'GET') throw new RestError(405, 'Method not allowed');
      sendJson(res, 200, JSON.stringify(this.route(path, url.searchParams)));
    } catch (err) {
      if (!(err instanceof RestError)) throw err;
      const item: Record<string, string> = { msg: err.message };
      if (err.param !== undefined) {
        item['param'] = err.param;
        item['location'] = 'query';
      }
      sendJson(res, err.status, JSON.stringify({ errors: [item] }));
    }
  }

  private route(path: string, params: URLSearchParams): unknown {
    const now = this.now();
    const match = /^\/v4\/addresses\/([^/]+)\/subaccountNumber\/(\d+)$/.exec(path);
    if (path.startsWith('/v4/addresses/')) {
      if (match === null) throw new RestError(404, 'Not found');
      const account = this.find(decodeURIComponent(match[1] ?? ''), match[2] ?? '');
      return { subaccount: subaccountObject(account, now) };
    }
    const address = params.get('address');
    const number = params.get('subaccountNumber');
    if (address === null || address === '') throw new RestError(400, 'address is required', 'address');
    if (number === null || !/^\d{1,3}$/.test(number))
      throw new RestError(400, 'subaccountNumber must be a non-negative integer', 'subaccountNumber');
    const account = this.find(address, number);
    const engine = account.engine;
    const limit = Math.min(1000, Math.max(1, Number(params.get('limit') ?? '100') || 100));
    switch (path) {
      case '/v4/orders': {
        const statuses = params.get('status')?.split(',');
        const ticker = params.get('ticker');
        return engine
          .orders()
          .filter((o) => o.status !== 'rejected')
          .map((o) => orderObject(account, o, true))
          .filter((o) => statuses === undefined || statuses.includes(String(o['status'])))
          .filter((o) => ticker === null || o['ticker'] === ticker)
          .reverse()
          .slice(0, limit);
      }
      case '/v4/fills': {
        const market = params.get('market');
        const upTo = fillsUpTo(account, params);
        // Newest first, as the indexer pages them: a client reads back with createdBeforeOrAtHeight (inclusive).
        const fills = engine.fills
          .filter((f) => f.time <= upTo.time && account.clock.height(f.time) <= upTo.height)
          .map((f) => fillRest(account, f))
          .filter((f) => market === null || f['market'] === market)
          .reverse()
          .slice(0, limit);
        return { fills };
      }
      case '/v4/perpetualPositions': {
        const statuses = params.get('status')?.split(',');
        const positions = [...engine.closedPositions, ...engine.positions()]
          .sort((a, b) => a.openedAt - b.openedAt || a.seq - b.seq)
          .map((p) => positionObject(account, p, 'full'))
          .filter((p) => statuses === undefined || statuses.includes(String(p['status'])))
          .reverse()
          .slice(0, limit);
        return { positions };
      }
      case '/v4/historical-pnl': {
        const fromRaw = params.get('createdOnOrAfter');
        const from = fromRaw === null ? Number.NEGATIVE_INFINITY : Date.parse(fromRaw);
        if (Number.isNaN(from))
          throw new RestError(400, 'createdOnOrAfter must be a valid ISO 8601 date', 'createdOnOrAfter');
        const historicalPnl = engine.pnlHistory
          .filter((p) => p.time >= from)
          .map((p) => ({
            equity: toPlainString(p.equity),
            totalPnl: toPlainString(p.totalPnl),
            netTransfers: '0',
            createdAt: new Date(p.time).toISOString(),
            blockHeight: height(account, p.time),
          }))
          .reverse()
          .slice(0, limit);
        return { historicalPnl };
      }
    }
    throw new RestError(404, 'Not found');
  }

  private find(address: string, number: string): DydxSimAccount {
    const account = this.byId.get(`${address}/${Number(number)}`);
    if (account === undefined)
      throw new RestError(404, `No subaccount found with address ${address} and subaccountNumber ${number}`);
    return account;
  }
}

/**
 * The indexer's upper bounds of a fills page: `createdBeforeOrAtHeight` (a block height) and `createdBeforeOrAt`
 * (ISO time), both inclusive, both optional (none: up to now).
 */
function fillsUpTo(account: DydxSimAccount, params: URLSearchParams): { height: number; time: number } {
  let height = Number.POSITIVE_INFINITY;
  let time = Number.POSITIVE_INFINITY;
  const rawHeight = params.get('createdBeforeOrAtHeight');
  if (rawHeight !== null) {
    if (!/^\d{1,15}$/.test(rawHeight))
      throw new RestError(
        400,
        'createdBeforeOrAtHeight must be a non-negative integer',
        'createdBeforeOrAtHeight',
      );
    height = Number(rawHeight);
  }
  const rawTime = params.get('createdBeforeOrAt');
  if (rawTime !== null) {
    time = Date.parse(rawTime);
    if (Number.isNaN(time))
      throw new RestError(400, 'createdBeforeOrAt must be a valid ISO 8601 date', 'createdBeforeOrAt');
  }
  return { height, time };
}
