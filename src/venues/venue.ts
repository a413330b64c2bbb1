import type { AccountSource } from '../account/contract.ts';
import type { AccountRef } from '../domain/account.ts';
import type { BookRules } from '../domain/book-rules.ts';
import type { BookUpdate } from '../domain/book.ts';
import type { Candle } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import type { Ticker } from '../domain/ticker.ts';
import type { Trade } from '../domain/trade.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Clock } from '../util/clock.ts';

/** Where a venue is reached: the base of its WebSocket streams and of its REST API. */
export interface VenueUrls {
  readonly wsUrl: string;
  readonly restUrl: string;
}

/** What every venue's adapter factory receives: the configured endpoints, a logger and the clock. */
export interface VenueAdapterOptions extends VenueUrls {
  readonly logger: Logger;
  readonly clock?: Clock;
}

/**
 * What a venue's account factory receives: the venue's configured endpoints (the public ones; the venue derives
 * its private endpoint from them) and the account's own settings from the configuration (Bitget: apiKey, secret,
 * passphrase; dYdX: address, subaccountNumber). Settings may hold secrets: never log them.
 */
export interface AccountSourceOptions extends VenueUrls {
  readonly account: AccountRef;
  readonly settings: Readonly<Record<string, string | number>>;
  readonly logger: Logger;
  readonly clock?: Clock;
}

/**
 * A venue as src/venues/registry.ts lists it: what Tickwire knows of it before connecting. The configuration is
 * built from these (`urls.<id>` with `defaultUrls`, read from `<ID>_WS_URL` and `<ID>_REST_URL`), so that adding a
 * venue is its folder and one registry line.
 */
export interface VenueModule<Id extends VenueId = VenueId> {
  readonly id: Id;
  /** The venue's public production endpoints, the defaults of `urls.<id>`. */
  readonly defaultUrls: VenueUrls;
  createAdapter(options: VenueAdapterOptions): VenueAdapter;
  /**
   * A trader's account on this venue (private stream, REST reconcile and polling); absent where Tickwire does not
   * follow accounts yet (Binance, OKX). Throws TickwireError CONFIG_INVALID for settings it cannot use.
   */
  createAccountSource?(options: AccountSourceOptions): AccountSource;
}

/**
 * The contract every exchange adapter meets. Everything venue-specific (URLs, symbols, frames, heartbeats,
 * REST paging) stays behind it; the rest of Tickwire sees only domain types.
 */
export interface VenueAdapter {
  readonly venue: VenueId;
  readonly rest: VenueRest;
  /** The venue's order-book consistency rule, enforced by src/book/. */
  readonly bookRules: BookRules;
  /**
   * Whether trade `seq` numbers run without holes (Binance aggregate ids), so that a jump is a gap to backfill.
   * Default true when absent; OKX and Bitget ids only increase, dYdX trades carry no seq.
   */
  readonly contiguousTradeSeq?: boolean;
  /** Whether the venue lists the canonical symbol (dYdX: USD-quoted perpetuals only). Default: every symbol. */
  supportsSymbol?(symbol: string): boolean;
  /**
   * Opens the venue's public stream for `symbols` (canonical form) and keeps it alive until `close()`.
   * `options.channels` picks what to subscribe; default `['trades', 'candles']`.
   */
  openMarketStream(
    symbols: readonly string[],
    handlers: MarketStreamHandlers,
    options?: MarketStreamOptions,
  ): MarketStream;
}

/** What a market stream subscribes per symbol. */
export type MarketChannel = 'trades' | 'candles' | 'ticker' | 'book';

export interface MarketStreamOptions {
  /** Channels to subscribe for every symbol. Default `['trades', 'candles']`. */
  readonly channels?: readonly MarketChannel[];
  /**
   * With the `book` channel: the symbols whose book is subscribed from the start (default every symbol);
   * `MarketStream.subscribeBook` changes the set later.
   */
  readonly books?: readonly string[];
}

export interface CandleQuery {
  /** Inclusive start of the first bar, ms UTC. */
  readonly startTime?: number;
  /** Inclusive end (bar start), ms UTC. */
  readonly endTime?: number;
  /** Maximum bars; the adapter pages and caps to the venue's own limit. */
  readonly limit?: number;
  /** Told the number of bars fetched so far after each page (progress of a long history load). */
  readonly onProgress?: (fetched: number) => void;
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
  /** A full book snapshot of at most `depth` levels per side (`kind: 'snapshot'`, `seq` set where the venue has one). */
  fetchBookSnapshot?(symbol: string, depth: number): Promise<BookUpdate>;
  /** The current ticker over REST (polling fallback, first value on subscribe). */
  fetchTicker?(symbol: string): Promise<Ticker>;
  /**
   * Stops the venue's REST client for the process's stop: requests under way, retry waits included, fail at once
   * (VENUE_UNREACHABLE), as does any request made later.
   */
  close?(): void;
}

/** A venue's native candle, used for cross-checking our own bars. */
export interface VenueCandle {
  readonly venue: VenueId;
  readonly symbol: string;
  readonly interval: Interval;
  readonly bar: Candle;
  readonly closed: boolean;
  /**
   * Closed because a later bar began, with the last state received of it (Bitget and dYdX send no closed flag):
   * the venue's final state of it was not received, and this one may lack its last trades.
   */
  readonly lastSeen?: boolean;
  readonly receivedAt: number;
}

export type StreamStatus =
  | { readonly kind: 'connected'; readonly at: number }
  | { readonly kind: 'disconnected'; readonly at: number; readonly reason: string }
  | { readonly kind: 'error'; readonly at: number; readonly message: string };

/**
 * Connection events beyond connect/disconnect, for status pages, logs and the feed's gap handling. Times are ms
 * UTC on the local clock.
 */
export type StreamEvent =
  /** The stream switched between WebSocket and REST polling. */
  | {
      readonly kind: 'mode';
      readonly at: number;
      readonly mode: 'websocket' | 'polling';
      readonly reason: string;
    }
  /**
   * Live data stopped between `from` (last message before the outage) and `to` (first message after it, or the
   * switch to polling). Whatever happened in between must be fetched over REST.
   */
  | {
      readonly kind: 'gap';
      readonly at: number;
      readonly from: number;
      readonly to: number;
      readonly reason: string;
    }
  /** One symbol sent nothing for `silentMs` while its connection stayed live. */
  | { readonly kind: 'stale'; readonly at: number; readonly symbol: string; readonly silentMs: number }
  /** A stale symbol delivers data again. */
  | { readonly kind: 'fresh'; readonly at: number; readonly symbol: string }
  /** The venue refused a subscription; `message` is the venue's own error text. */
  | { readonly kind: 'rejected'; readonly at: number; readonly message: string }
  /**
   * The stream lost book messages it cannot attribute (dYdX: a jump in the connection-wide message_id); the
   * books of `symbol`, or all books when undefined, must be rebuilt.
   */
  | {
      readonly kind: 'book-gap';
      readonly at: number;
      readonly symbol?: string | undefined;
      readonly detail: string;
    }
  /** The connection is replaced on purpose (venue recycle notice, watchdog, heartbeat timeout). */
  | { readonly kind: 'recycle'; readonly at: number; readonly reason: string };

export interface MarketStreamHandlers {
  trade(trade: Trade): void;
  candle?(candle: VenueCandle): void;
  ticker?(ticker: Ticker): void;
  /** Book snapshots and deltas as the venue sent them; src/book/ checks their sequence and checksum. */
  book?(update: BookUpdate): void;
  status(status: StreamStatus): void;
  event?(event: StreamEvent): void;
}

export interface MarketStream {
  /** The connection's status, in the shape the status endpoints serve. */
  status(): ConnectionStatus;
  /**
   * Asks the venue for a fresh book of one symbol on the live stream (resubscribe), for venues whose book
   * snapshot comes from the stream. False when the symbol's book is not subscribed.
   */
  resyncBook?(symbol: string): boolean;
  /**
   * Subscribes (`subscribed`) or unsubscribes one symbol's book channel on the live connection, and on every
   * later connection: a book nobody reads is not received at all. Book messages already on their way may still
   * arrive after an unsubscribe. A subscribe brings the venue's snapshot (stream source) or its deltas again (REST
   * source). Ignored without the `book` channel or for a symbol the stream does not carry.
   */
  subscribeBook?(symbol: string, subscribed: boolean): void;
  close(): Promise<void>;
}

/**
 * One connection's status in the shape of the status endpoint the operators already use (snake_case fields, ISO
 * time), plus latency, counters and the fallback mode. The one status shape of a venue stream: the endpoints serve
 * it as is, and the ingest, the source monitor and the tests read it.
 */
export interface ConnectionStatus {
  readonly connected: boolean;
  /** Connected, heartbeats answered, data flowing and no symbol stale. */
  readonly is_healthy: boolean;
  readonly ws_url: string;
  readonly subscriptions: readonly string[];
  readonly reconnect_count: number;
  /** Last message or pong received, ISO 8601; null before the first. */
  readonly last_heartbeat: string | null;
  /** Last ping → pong round trip; null until one was measured (venues whose server pings have none). */
  readonly latency_ms: number | null;
  readonly messages_received: number;
  readonly errors: number;
  readonly mode: 'websocket' | 'polling';
  readonly stale_symbols: readonly string[];
  /** Failed connection attempts since the last healthy connection. */
  readonly consecutive_failures: number;
  readonly malformed_frames: number;
  readonly rejected_subscriptions: number;
  readonly last_error: string | null;
}
