/**
 * The simulated Binance spot venue: one market per symbol, REST under `/api/v3/...` and market streams under
 * `/ws/...` and `/stream?streams=...`, all below the simulator's `/binance` prefix.
 */
import type { SimQuoting } from '../market/market.ts';
import { AssembledSimVenue, createSimMarkets } from '../venue-kit.ts';
import type { SimVenue, SimVenueContext, SimVenueDefinition } from '../venue.ts';
import { BinanceSimRest, type BinanceRestSettings } from './rest.ts';
import { BinanceStreamServer, type BinanceStreamSettings } from './stream-server.ts';
import { BinanceSimInstruments } from './symbols.ts';

export type BinanceSimSettings = BinanceStreamSettings & BinanceRestSettings;

/** Binance's published limits; tests shorten the timings. */
export const BINANCE_SIM_DEFAULTS: BinanceSimSettings = {
  pingIntervalMs: 20_000,
  pongTimeoutMs: 60_000,
  klinePushMs: 2_000,
  tickerPushMs: 1_000,
  maxIncomingPerSecond: 5,
  maxStreamsPerConnection: 1024,
  maxPayloadBytes: 64 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  connectionLifetimeMs: 24 * 60 * 60 * 1000,
  depthLevels: 50,
  recycleCloseDelayMs: 1_000,
  weightLimitPerMinute: 6000,
};

/** The deepest spot book leads price discovery: no lag, no premium (its basis only drifts). */
export const BINANCE_SIM_QUOTING: SimQuoting = { basisBps: 0, lagMs: 0 };

export interface BinanceSimUrls {
  /** Base for market streams: append `/stream?streams=...` or `/ws/<stream>`. */
  readonly wsUrl: string;
  /** Base for REST: append `/api/v3/...`. */
  readonly restUrl: string;
}

function createBinanceSimVenue(context: SimVenueContext, settings: BinanceSimSettings): SimVenue {
  const markets = createSimMarkets(context, 'binance', BINANCE_SIM_QUOTING);
  const instruments = new BinanceSimInstruments(markets, context.seed, settings.depthLevels);
  const rest = new BinanceSimRest(instruments, context.faults, context.now, settings);
  const streams = new BinanceStreamServer(instruments, context.faults, context.now, settings, context.logger);
  return new AssembledSimVenue('binance', markets, rest, streams);
}

/** Registry entry; `settings` overrides BINANCE_SIM_DEFAULTS field by field. */
export function binanceSimVenue(
  settings: Partial<BinanceSimSettings> = {},
): SimVenueDefinition<BinanceSimUrls> {
  return {
    id: 'binance',
    create: (context) => createBinanceSimVenue(context, { ...BINANCE_SIM_DEFAULTS, ...settings }),
    urls: (httpBase, wsBase) => ({ wsUrl: `${wsBase}/binance`, restUrl: `${httpBase}/binance` }),
  };
}
