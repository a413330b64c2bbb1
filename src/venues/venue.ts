import type { Candle } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';

/**
 * The contract every exchange adapter meets. Everything venue-specific (URLs, symbols, frames, heartbeats,
 * REST paging) stays behind it; the rest of Tickwire sees only domain types.
 */
export interface VenueAdapter {
  readonly venue: VenueId;
  readonly rest: VenueRest;
  /** Opens the venue's public stream for `symbols` (canonical form) and keeps it alive until `close()`. */
  openMarketStream(symbols: readonly string[], handlers: MarketStreamHandlers): MarketStream;
}

export interface CandleQuery {
  /** Inclusive start of the first bar, ms UTC. */
  readonly startTime?: number;
  /** Inclusive end (bar start), ms UTC. */
  readonly endTime?: number;
  /** Maximum bars; the adapter pages and caps to the venue's own limit. */
  readonly limit?: number;
}

export interface TradeQuery {
  /** Resume after this trade: returns trades with seq > afterSeq (venues with ordered ids). */
  readonly afterSeq?: number;
  readonly startTime?: number;
  readonly endTime?: number;
  readonly limit?: number;
}

/** History over the venue's REST API. Results are in ascending time order. */
export interface VenueRest {
  fetchCandles(symbol: string, interval: Interval, query: CandleQuery): Promise<Candle[]>;
  fetchTrades(symbol: string, query: TradeQuery): Promise<Trade[]>;
}

/** A venue's native candle, used for cross-checking our own bars. */
export interface VenueCandle {
  readonly venue: VenueId;
  readonly symbol: string;
  readonly interval: Interval;
  readonly bar: Candle;
  readonly closed: boolean;
  readonly receivedAt: number;
}

export type StreamStatus =
  | { readonly kind: 'connected'; readonly at: number }
  | { readonly kind: 'disconnected'; readonly at: number; readonly reason: string }
  | { readonly kind: 'error'; readonly at: number; readonly message: string };

export interface MarketStreamHandlers {
  trade(trade: Trade): void;
  candle?(candle: VenueCandle): void;
  status(status: StreamStatus): void;
}

export interface MarketStream {
  /** Current connection state, counters and timings. */
  stats(): MarketStreamStats;
  close(): Promise<void>;
}

export interface MarketStreamStats {
  readonly venue: VenueId;
  readonly connected: boolean;
  readonly url: string;
  readonly subscriptions: readonly string[];
  readonly reconnectCount: number;
  readonly messagesReceived: number;
  readonly errors: number;
  readonly unparsedFrames: number;
  readonly lastMessageAt: number | null;
}
