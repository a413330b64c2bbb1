/**
 * The simulated Binance spot venue: one market per symbol, REST under `/api/v3/...` and market streams under
 * `/ws/...` and `/stream?streams=...`, all below the simulator's `/binance` prefix.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { SimMarket } from '../market/market.ts';
import { symbolSpec } from '../market/symbol-specs.ts';
import { hashSeed } from '../random.ts';
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

export interface BinanceSimUrls {
  /** Base for market streams: append `/stream?streams=...` or `/ws/<stream>`. */
  readonly wsUrl: string;
  /** Base for REST: append `/api/v3/...`. */
  readonly restUrl: string;
}

class BinanceSimVenue implements SimVenue {
  readonly id = 'binance' as const;
  readonly markets: readonly SimMarket[];
  private readonly rest: BinanceSimRest;
  private readonly streams: BinanceStreamServer;

  constructor(context: SimVenueContext, settings: BinanceSimSettings) {
    const start = context.now();
    this.markets = context.symbols.map(
      (symbol) =>
        new SimMarket({
          spec: symbolSpec(symbol),
          seed: hashSeed(context.seed, 'binance', symbol),
          nowMs: start,
          historyDays: context.historyDays,
          tradeWindowMs: context.tradeWindowMs,
          tradesPerSecond: context.tradesPerSecond,
        }),
    );
    const instruments = new BinanceSimInstruments(this.markets);
    this.rest = new BinanceSimRest(instruments, context.faults, context.now, settings);
    this.streams = new BinanceStreamServer(
      instruments,
      context.faults,
      context.now,
      settings,
      context.logger,
    );
  }

  handleRequest(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void {
    this.rest.handle(req, res, path, url);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, url: URL): void {
    this.streams.handleUpgrade(req, socket, head, path, url);
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

/** Registry entry; `settings` overrides BINANCE_SIM_DEFAULTS field by field. */
export function binanceSimVenue(
  settings: Partial<BinanceSimSettings> = {},
): SimVenueDefinition<BinanceSimUrls> {
  return {
    id: 'binance',
    create: (context) => new BinanceSimVenue(context, { ...BINANCE_SIM_DEFAULTS, ...settings }),
    urls: (httpBase, wsBase) => ({ wsUrl: `${wsBase}/binance`, restUrl: `${httpBase}/binance` }),
  };
}
