/**
 * What every simulated venue assembles the same way: one seeded market per symbol, and a SimVenue that routes
 * REST to one handler and upgrades to one stream server. Venue folders keep only what differs (instruments,
 * settings, URLs).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { VenueId } from '../domain/instrument.ts';
import { MINUTE_MS } from '../domain/interval.ts';
import { historyStartOf, SimMarket, type SimQuoting } from './market/market.ts';
import { symbolSpec } from './market/symbol-specs.ts';
import { SimUnderlyings } from './market/underlying.ts';
import { hashSeed } from './random.ts';
import type { SimVenue, SimVenueContext } from './venue.ts';

/** A venue's REST side as the HTTP server sees it. */
export interface SimRestHandler {
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void;
}

/** A venue's socket side as the HTTP server sees it. */
export interface SimStreamHandler {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, url: URL): void;
  dropConnections(): number;
  close(): Promise<void>;
}

/**
 * The underlyings of a simulator run started at `startMs` with `historyDays` of history: they begin a minute before
 * the venues' history, so that a venue lagging them (by less than a minute) has a price from its first minute on.
 */
export function createUnderlyings(seed: number, startMs: number, historyDays: number): SimUnderlyings {
  return new SimUnderlyings(seed, historyStartOf(startMs, historyDays) - MINUTE_MS);
}

/**
 * A market for canonical `symbol` starting at the simulator's start, quoting the underlying of its base asset as
 * `quoting` says. Its own draws (basis drift, arrivals, sizes) are seeded from the context seed, `seedParts` and
 * the symbol, so that each venue (and each instrument type within one) has its own trade flow.
 */
export function createSimMarket(
  context: SimVenueContext,
  symbol: string,
  quoting: SimQuoting,
  ...seedParts: readonly string[]
): SimMarket {
  const spec = symbolSpec(symbol);
  const market = new SimMarket({
    spec,
    underlying: context.underlyings.of(spec),
    quoting,
    seed: hashSeed(context.seed, ...seedParts, symbol),
    nowMs: context.startMs,
    historyDays: context.historyDays,
    tradeWindowMs: context.tradeWindowMs,
    tradesPerSecond: context.tradesPerSecond,
  });
  context.markets.push(market);
  return market;
}

/** One market per context symbol, seeded by venue and symbol, each quoting as `quoting` says. */
export function createSimMarkets(context: SimVenueContext, venue: VenueId, quoting: SimQuoting): SimMarket[] {
  return context.symbols.map((symbol) => createSimMarket(context, symbol, quoting, venue));
}

/** A SimVenue over `markets` that sends requests to `rest` and upgrades, drops and closes to `streams`. */
export class AssembledSimVenue implements SimVenue {
  constructor(
    readonly id: VenueId,
    readonly markets: readonly SimMarket[],
    private readonly rest: SimRestHandler,
    private readonly streams: SimStreamHandler,
  ) {}

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
