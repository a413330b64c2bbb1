/**
 * The simulated dYdX v4 Indexer: one perpetual market per symbol (canonical "BTC/USD" is ticker "BTC-USD"), REST
 * under `/v4/...` and the socket at `/v4/ws`, all below the simulator's `/dydx` prefix; and simulated subaccounts
 * (account-side.ts) on `v4_subaccounts` and the address REST endpoints.
 */
import { demoAccounts } from '../accounts/config.ts';
import { MINUTE_MS } from '../../domain/interval.ts';
import type { SimQuoting } from '../market/market.ts';
import { hashSeed } from '../random.ts';
import { AssembledSimVenue, createSimMarkets } from '../venue-kit.ts';
import type { SimVenue, SimVenueContext, SimVenueDefinition } from '../venue.ts';
import { DydxAccountSide, type DydxAccountSettings } from './account-side.ts';
import { DydxSimInstruments } from './instruments.ts';
import { DydxSimRest, type DydxRestSettings } from './rest.ts';
import { DydxStreamServer, type DydxStreamSettings } from './stream-server.ts';

export interface DydxSimSettings extends DydxStreamSettings, DydxRestSettings, DydxAccountSettings {
  /** Block time; must divide a minute, so that a block never spans two candles. */
  readonly blockMs: number;
}

/** The indexer's published limits and defaults; tests shorten the timings. */
export const DYDX_SIM_DEFAULTS: DydxSimSettings = {
  pingIntervalMs: 30_000,
  pongTimeoutMs: 10_000,
  batchFlushMs: 250,
  marketsPushMs: 5_000,
  maxSubscriptionsPerChannel: 32,
  subscribesPerSecond: 2,
  invalidMessagesPerSecond: 2,
  bookDepth: 25,
  initialTrades: 100,
  initialCandles: 100,
  maxPayloadBytes: 64 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  restMaxLimit: 100,
  restDefaultLimit: 100,
  blockMs: 1_000,
  accounts: demoAccounts.dydx,
  fundingPeriodMs: 8 * 60 * 60 * 1000,
};

/**
 * A perpetual at a small premium, priced by its own order book but behind the centralised venues: orders and
 * fills go through blocks and the indexer, about half a second.
 */
export const DYDX_SIM_QUOTING: SimQuoting = { basisBps: 1.5, lagMs: 500 };

export interface DydxSimUrls {
  /** The socket URL itself: `ws://…/dydx/v4/ws`. */
  readonly wsUrl: string;
  /** Base for REST: append `/v4/...`. */
  readonly restUrl: string;
}

function createDydxSimVenue(context: SimVenueContext, settings: DydxSimSettings): SimVenue {
  if (!(settings.blockMs >= 1 && MINUTE_MS % settings.blockMs === 0)) {
    throw new RangeError('dydx sim: blockMs must divide 60000');
  }
  const markets = createSimMarkets(context, 'dydx', DYDX_SIM_QUOTING);
  const instruments = new DydxSimInstruments(markets, settings.blockMs);
  const streams = new DydxStreamServer(
    instruments,
    context.faults,
    context.now,
    settings,
    context.logger,
    hashSeed(context.seed, 'dydx-book'),
  );
  const rest = new DydxSimRest(instruments, streams.books, context.faults, context.now, settings);
  const accounts = new DydxAccountSide(context, instruments, streams, context.faults, settings, context.now);
  return accounts.wrap(new AssembledSimVenue('dydx', markets, rest, streams));
}

/** Registry entry; `settings` overrides DYDX_SIM_DEFAULTS field by field. */
export function dydxSimVenue(settings: Partial<DydxSimSettings> = {}): SimVenueDefinition<DydxSimUrls> {
  return {
    id: 'dydx',
    create: (context) => createDydxSimVenue(context, { ...DYDX_SIM_DEFAULTS, ...settings }),
    urls: (httpBase, wsBase) => ({ wsUrl: `${wsBase}/dydx/v4/ws`, restUrl: `${httpBase}/dydx` }),
  };
}
