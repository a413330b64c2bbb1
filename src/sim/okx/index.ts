/**
 * The simulated OKX v5 venue: one market per symbol (spot instIds "BTC-USDT"), REST under `/api/v5/...` and the
 * WebSocket endpoints `/ws/v5/public` and `/ws/v5/business`, all below the simulator's `/okx` prefix.
 */
import type { SimQuoting } from '../market/market.ts';
import { AssembledSimVenue, createSimMarkets } from '../venue-kit.ts';
import type { SimVenue, SimVenueContext, SimVenueDefinition } from '../venue.ts';
import { OkxSimInstruments } from './instruments.ts';
import { OkxSimRest, type OkxRestSettings } from './rest.ts';
import { OkxStreamServer, type OkxStreamSettings } from './stream-server.ts';

export type OkxSimSettings = OkxStreamSettings & OkxRestSettings;

/** OKX's published numbers; tests shorten the timings. */
export const OKX_SIM_DEFAULTS: OkxSimSettings = {
  idleTimeoutMs: 30_000,
  tickerPushMs: 500,
  candlePushMs: 1_000,
  bookPushMs: 100,
  bookKeepAliveMs: 60_000,
  bookDepth: 400,
  maxRequestsPerHour: 480,
  maxConnectionsPerSecond: 3,
  recycleCloseMs: 60_000,
  maxPayloadBytes: 64 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  restLimitPer2s: 0,
};

/** A large spot venue: a fraction of a basis point below the leader, a few tens of milliseconds behind it. */
export const OKX_SIM_QUOTING: SimQuoting = { basisBps: -0.5, lagMs: 40 };

export interface OkxSimUrls {
  /** Base of the WebSocket endpoints: append `/ws/v5/public` or `/ws/v5/business`. */
  readonly wsUrl: string;
  /** Base of REST: append `/api/v5/...`. */
  readonly restUrl: string;
}

function createOkxSimVenue(context: SimVenueContext, settings: OkxSimSettings): SimVenue {
  const markets = createSimMarkets(context, 'okx', OKX_SIM_QUOTING);
  const instruments = new OkxSimInstruments(markets, context.seed, settings.bookDepth);
  const rest = new OkxSimRest(instruments, context.faults, context.now, settings);
  const streams = new OkxStreamServer(instruments, context.faults, context.now, settings, context.logger);
  return new AssembledSimVenue('okx', markets, rest, streams);
}

/** Registry entry; `settings` overrides OKX_SIM_DEFAULTS field by field. */
export function okxSimVenue(settings: Partial<OkxSimSettings> = {}): SimVenueDefinition<OkxSimUrls> {
  return {
    id: 'okx',
    create: (context) => createOkxSimVenue(context, { ...OKX_SIM_DEFAULTS, ...settings }),
    urls: (httpBase, wsBase) => ({ wsUrl: `${wsBase}/okx`, restUrl: `${httpBase}/okx` }),
  };
}
