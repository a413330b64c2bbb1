/**
 * The simulated OKX v5 venue: one market per symbol (spot instIds "BTC-USDT"), REST under `/api/v5/...` and the
 * WebSocket endpoints `/ws/v5/public` and `/ws/v5/business`, all below the simulator's `/okx` prefix.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { SimMarket } from '../market/market.ts';
import { symbolSpec } from '../market/symbol-specs.ts';
import { hashSeed } from '../random.ts';
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

export interface OkxSimUrls {
  /** Base of the WebSocket endpoints: append `/ws/v5/public` or `/ws/v5/business`. */
  readonly wsUrl: string;
  /** Base of REST: append `/api/v5/...`. */
  readonly restUrl: string;
}

class OkxSimVenue implements SimVenue {
  readonly id = 'okx' as const;
  readonly markets: readonly SimMarket[];
  private readonly rest: OkxSimRest;
  private readonly streams: OkxStreamServer;

  constructor(context: SimVenueContext, settings: OkxSimSettings) {
    const start = context.now();
    this.markets = context.symbols.map(
      (symbol) =>
        new SimMarket({
          spec: symbolSpec(symbol),
          seed: hashSeed(context.seed, 'okx', symbol),
          nowMs: start,
          historyDays: context.historyDays,
          tradeWindowMs: context.tradeWindowMs,
          tradesPerSecond: context.tradesPerSecond,
        }),
    );
    const instruments = new OkxSimInstruments(this.markets, context.seed, settings.bookDepth);
    this.rest = new OkxSimRest(instruments, context.faults, context.now, settings);
    this.streams = new OkxStreamServer(instruments, context.faults, context.now, settings, context.logger);
  }

  handleRequest(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void {
    this.rest.handle(req, res, path, url);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): void {
    this.streams.handleUpgrade(req, socket, head, path);
  }

  advanceTo(nowMs: number): void {
    for (const m of this.markets) m.advanceTo(nowMs);
  }

  dropConnections(): number {
    return this.streams.dropConnections();
  }

  close(): Promise<void> {
    return this.streams.close();
  }
}

/** Registry entry; `settings` overrides OKX_SIM_DEFAULTS field by field. */
export function okxSimVenue(settings: Partial<OkxSimSettings> = {}): SimVenueDefinition<OkxSimUrls> {
  return {
    id: 'okx',
    create: (context) => new OkxSimVenue(context, { ...OKX_SIM_DEFAULTS, ...settings }),
    urls: (httpBase, wsBase) => ({ wsUrl: `${wsBase}/okx`, restUrl: `${httpBase}/okx` }),
  };
}
