/**
 * The simulated Bitget venue's private side: one account per configured API key (a USDT-futures trading account
 * driven by the simulator's account engine, plus spot balances that stay as configured), the private socket at
 * `/v2/ws/private`, and the signed account REST paths. Everything else goes to the public venue.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseDecimal } from '../../domain/decimal.ts';
import type { SimBitgetAccountConfig } from '../accounts/config.ts';
import { SimAccount } from '../accounts/engine.ts';
import { SimAccountFaults } from '../accounts/faults.ts';
import { SimTrader } from '../accounts/trader.ts';
import type { SimVenueAccounts } from '../accounts/venue-accounts.ts';
import { hashSeed } from '../random.ts';
import type { SimVenue, SimVenueContext } from '../venue.ts';
import type { BitgetSimAccount } from './account-format.ts';
import { BITGET_ACCOUNT_PATHS, BitgetAccountRest } from './account-rest.ts';
import { BitgetAccountStream, type BitgetAccountStreamSettings } from './account-stream.ts';
import type { BitgetSimInstruments } from './instruments.ts';

export interface BitgetAccountSettings extends Omit<BitgetAccountStreamSettings, 'maxPayloadBytes'> {
  /** The accounts served; default `demoAccounts.bitget`. */
  readonly accounts: readonly SimBitgetAccountConfig[];
  /** Funding period of the simulated perpetuals (Bitget: 8 h). */
  readonly fundingPeriodMs: number;
  readonly maxPayloadBytes: number;
}

const DEFAULT_SPOT: Readonly<Record<string, string>> = { USDT: '2500', BTC: '0.05' };

export class BitgetAccountSide implements SimVenueAccounts {
  readonly accounts: SimAccount[] = [];
  readonly faults: SimAccountFaults;
  private readonly byKey = new Map<string, BitgetSimAccount>();
  private readonly stream: BitgetAccountStream;
  private readonly rest: BitgetAccountRest;

  constructor(context: SimVenueContext, instruments: BitgetSimInstruments, settings: BitgetAccountSettings) {
    this.faults = new SimAccountFaults(context.now);
    const markets = [...instruments.all()]
      .filter((i) => i.instType === 'USDT-FUTURES')
      .map((i) => ({ symbol: i.symbol, market: i.market }));
    settings.accounts.forEach((config, index) => {
      if (this.byKey.has(config.apiKey)) throw new RangeError('bitget sim: two accounts share one apiKey');
      const futures = new SimAccount(
        `bitget-${index}`,
        {
          currency: 'USDT',
          initialBalance: parseDecimal(config.balance ?? '10000'),
          makerFeeRate: parseDecimal('0.0002'),
          takerFeeRate: parseDecimal('0.0006'),
          maintenanceMarginRate: parseDecimal('0.004'),
          fundingRate: parseDecimal('0.0001'),
          fundingPeriodMs: settings.fundingPeriodMs,
          defaultLeverage: config.leverage ?? 10,
          defaultMarginMode: config.marginMode ?? 'cross',
        },
        markets,
        context.startMs,
      );
      if (config.trader !== false) {
        const seed = hashSeed(context.seed, 'bitget-trader', index);
        futures.schedule(new SimTrader(futures, { seed, ...(config.trader ?? {}) }));
      }
      this.accounts.push(futures);
      const spot = new Map(
        Object.entries(config.spot ?? DEFAULT_SPOT).map(([coin, amount]) => [coin, parseDecimal(amount)]),
      );
      this.byKey.set(config.apiKey, {
        index,
        apiKey: config.apiKey,
        secret: config.secret,
        passphrase: config.passphrase,
        futures,
        spot,
        spotTime: context.startMs,
      });
    });
    this.stream = new BitgetAccountStream(
      this.byKey,
      context.faults,
      this.faults,
      context.now,
      settings,
      context.logger,
    );
    this.rest = new BitgetAccountRest(this.byKey, context.faults, context.now);
  }

  advanceTo(nowMs: number): void {
    for (const account of this.accounts) account.advanceTo(nowMs);
  }

  /** Wraps the public venue: private paths come here, the rest goes to `venue`. */
  wrap(venue: SimVenue): SimVenue {
    return {
      id: venue.id,
      accounts: this,
      handleRequest: (req: IncomingMessage, res: ServerResponse, path: string, url: URL) => {
        // The simulator has advanced this venue (markets and accounts) to the clock before routing here.
        if (BITGET_ACCOUNT_PATHS.has(path)) this.rest.handle(req, res, path, url);
        else venue.handleRequest(req, res, path, url);
      },
      handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer, path: string, url: URL) => {
        if (path === '/v2/ws/private') this.stream.handleUpgrade(req, socket, head);
        else venue.handleUpgrade(req, socket, head, path, url);
      },
      advanceTo: (nowMs: number) => {
        venue.advanceTo(nowMs);
        this.advanceTo(nowMs);
      },
      dropConnections: () => venue.dropConnections() + this.stream.dropConnections(),
      close: async () => {
        await Promise.all([venue.close(), this.stream.close()]);
      },
    };
  }
}
