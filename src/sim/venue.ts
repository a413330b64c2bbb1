/**
 * The contract between the simulator's HTTP server and one simulated venue. Each venue lives in its own folder,
 * owns its markets and sockets, and is listed once in registry.ts; the server only routes by path prefix.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { VenueId } from '../domain/instrument.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SimVenueAccounts } from './accounts/venue-accounts.ts';
import type { VenueFaultState } from './faults.ts';
import type { SimMarket } from './market/market.ts';
import type { SimUnderlyings } from './market/underlying.ts';

export interface SimVenueContext {
  readonly seed: number;
  /** Canonical symbols ("BTC/USDT"). */
  readonly symbols: readonly string[];
  readonly historyDays: number;
  /** Clock time at start: every venue's history ends here. */
  readonly startMs: number;
  /** The underlying market of each base asset, shared by every venue. */
  readonly underlyings: SimUnderlyings;
  readonly tradeWindowMs: number;
  readonly tradesPerSecond: number;
  readonly logger: Logger;
  readonly now: () => number;
  readonly faults: VenueFaultState;
  /** Every market the venues create (createSimMarket adds each), for the simulator's history warm-up. */
  readonly markets: SimMarket[];
}

export interface SimVenue {
  readonly id: VenueId;
  /** The venue's simulated trader accounts, when it serves a private side (Bitget, dYdX). */
  readonly accounts?: SimVenueAccounts;
  /** Serves an HTTP request whose path, with the venue prefix removed, is `path` ('' or starting with '/'). */
  handleRequest(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void;
  /** Takes over a WebSocket upgrade under the venue prefix. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, url: URL): void;
  /** Advances the venue's markets to clock time `nowMs` (called by the simulator's driver timer). */
  advanceTo(nowMs: number): void;
  /** Terminates every client socket at once, as a network failure would; returns how many. */
  dropConnections(): number;
  /** Closes sockets and stops timers. */
  close(): Promise<void>;
}

/** One registry entry: how to build the venue and which URLs point a client at it. */
export interface SimVenueDefinition<Urls> {
  readonly id: VenueId;
  create(context: SimVenueContext): SimVenue;
  /** `httpBase`/`wsBase` are the server's origins without a path, e.g. "http://127.0.0.1:4100". */
  urls(httpBase: string, wsBase: string): Urls;
}

/** Writes a JSON body with the given status; `body` is already serialised. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
