/**
 * The public shape of Tickwire's client library (`tickwire/client`): what a browser page or a Node bot holds.
 *
 * One `TickwireClient` keeps one WebSocket to a gateway and gives live views over every channel of
 * docs/PROTOCOL.md. Each view is a small store: `get()` returns its current state (a new object after each
 * change, so React's `useSyncExternalStore` and plain `===` checks see changes), `subscribe(listener)` calls the
 * listener after each change and returns the function that stops it. Views survive reconnects: the client
 * subscribes them again and repairs their state (candles are merged by bar time, account channels are
 * re-snapshotted), so a view never shows a gap or a duplicate because the socket dropped.
 */
import type {
  AccountJson,
  DashboardJson,
  FillJson,
  OrderJson,
  PerformanceJson,
  PositionJson,
} from '../protocol/account-messages.ts';
import type { AlertJson, BarJson, TradeJson } from '../protocol/server-messages.ts';

/**
 * Where the connection is. Over the WebSocket: `connecting` (an attempt is under way), `connected`, `disconnected`
 * (an open socket closed; a retry is scheduled; or `close()` was called), `error` (an attempt failed; a retry is
 * scheduled). While polling (`transport: 'polling'`): `connected` when the last poll worked, `error` when it
 * failed; the socket is retried meanwhile without changing it.
 */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'error';

/** How data reaches the client: the WebSocket, or REST polling while the socket cannot connect. */
export type Transport = 'websocket' | 'polling';

export interface ConnectionStatus {
  readonly state: ConnectionState;
  readonly transport: Transport;
  /** Failed connection attempts in a row (0 once connected). */
  readonly attempt: number;
  /** When the next attempt starts, ms since the epoch, while one is scheduled. */
  readonly retryAt?: number;
  /** The last failure: a socket error, a close code and reason, a refused token. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** The minimal WebSocket the client needs: the browser's, Node 22's global, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = new (url: string) => WebSocketLike;

/** Time as the client sees it; tests inject a manual clock. */
export interface ClientClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface TickwireClientOptions {
  /** The gateway's WebSocket address: `ws://localhost:7000/ws` (or `wss://…`). */
  readonly url: string;
  /** The gateway's HTTP base for history paging and polling; by default the `url`'s origin over http(s). */
  readonly httpUrl?: string;
  /** Default: `globalThis.WebSocket` (browsers, Node 22+). On Node 20 pass `WebSocket` from the `ws` package. */
  readonly WebSocket?: WebSocketFactory;
  /** Default: `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /**
   * A token for the account channels (docs/PROTOCOL.md, Authentication): a string, or a function the client
   * calls before each connection and again ahead of the token's expiry (the refresh hook), sending the new
   * token with an `auth` message.
   */
  readonly token?: string | (() => string | Promise<string>);
  /** Reconnect backoff: exponential from `minDelayMs` (500) to `maxDelayMs` (30,000), with full jitter. */
  readonly reconnect?: { readonly minDelayMs?: number; readonly maxDelayMs?: number };
  /** App-level ping every `pingIntervalMs` (15,000); no message for `pongTimeoutMs` (10,000) after it: the path is dead. */
  readonly pingIntervalMs?: number;
  readonly pongTimeoutMs?: number;
  /**
   * REST polling while the WebSocket cannot connect: after `afterFailedAttempts` (3) failed attempts in a row,
   * poll every `intervalMs` (5,000, and never faster than the gateway's RateLimit headers allow), and keep trying
   * the socket; return to it once it connects. `false`: never poll.
   */
  readonly polling?: false | { readonly afterFailedAttempts?: number; readonly intervalMs?: number };
  readonly clock?: ClientClock;
  /** Source of jitter, [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/** A live view: the current state, and change notifications. */
export interface View<T> {
  get(): T;
  subscribe(listener: (state: T) => void): () => void;
  /** Stops the view: unsubscribes on the gateway when no other view needs the room. */
  close(): void;
}

/** The wire bar of docs/PROTOCOL.md ("Candle object"). */
export type Bar = BarJson;

export interface CandleSeriesState {
  readonly symbol: string;
  readonly interval: string;
  /** Oldest first, one per bar time, the newest state of each. */
  readonly bars: readonly Bar[];
  /** Whether the first `initial` has arrived. */
  readonly loaded: boolean;
  /** Set while the gateway's history is partial (`HISTORY_LOADING`, `HISTORY_UNAVAILABLE`); a whole one follows. */
  readonly partial?: string;
  /** What the last change did, so a chart can apply it without redrawing: `reset` = replace everything. */
  readonly change:
    { readonly kind: 'reset' } | { readonly kind: 'update' | 'append' | 'revision'; readonly bar: Bar };
  /** Whether the view holds data received over the live socket (false while polling or disconnected). */
  readonly live: boolean;
  /** The gateway refused the subscription (an unknown symbol, too many subscriptions): its code and text. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface CandleSeries extends View<CandleSeriesState> {
  /** Loads up to `bars` older bars over `/api/candles` and prepends them; resolves to how many were added. */
  loadOlder(bars: number): Promise<number>;
}

export interface CandlesRequest {
  readonly symbol: string;
  readonly interval: string;
  /** History on subscribe (default 300). After a reconnect the client asks for enough to cover the outage. */
  readonly initialBars?: number;
}

export interface TickerState {
  readonly symbol: string;
  readonly venue?: string;
  readonly last?: number;
  readonly bid?: number;
  readonly ask?: number;
  readonly bidSize?: number;
  readonly askSize?: number;
  readonly open24h?: number;
  readonly high24h?: number;
  readonly low24h?: number;
  readonly volume24h?: number;
  readonly quoteVolume24h?: number;
  readonly time?: number;
  /** Composite ticker only (no venue): how `last` was resolved and from which venues. */
  readonly resolution?: string;
  readonly sources?: readonly string[];
  readonly baseVenue?: string;
  /** Composite ticker only: the strategy could not apply as asked (docs/PROTOCOL.md, "Composite ticker"). */
  readonly fallback?: boolean;
  /** False when the state came from polling or the socket has closed since. */
  readonly live: boolean;
}

export interface BookState {
  readonly venue: string;
  readonly symbol: string;
  readonly depth: number;
  readonly bids: readonly (readonly [number, number])[];
  readonly asks: readonly (readonly [number, number])[];
  readonly seq?: number;
  readonly time?: number;
  /** False when the state came from polling or the socket has closed since. */
  readonly live: boolean;
}

export interface TradesState {
  readonly venue: string;
  readonly symbol: string;
  /** The newest trades, newest last, at most `keep` (default 200). */
  readonly trades: readonly TradeJson[];
  /** False while polling or disconnected (trades polled from the gateway's recent ones). */
  readonly live: boolean;
}

export interface AlertsState {
  /** Oldest first, at most `keep` (default 200); ids are unique. */
  readonly alerts: readonly AlertJson[];
  /** False while polling or disconnected. */
  readonly live: boolean;
}

export interface AccountViewState {
  readonly account?: string;
  readonly venue?: string;
  /** Set once a token is accepted; `undefined` before, and after a refusal (then `error` says why). */
  readonly authenticated: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  /** When the accepted token expires, ms UTC (`null`: a static token that never does); renewed ahead of it. */
  readonly tokenExpiresAt?: number | null;
  readonly dashboard?: DashboardJson;
  readonly summary?: AccountJson;
  readonly performance?: PerformanceJson;
  /** Open positions by key (`symbol:side`). */
  readonly positions: ReadonlyMap<string, PositionJson>;
  /** Open orders by `orderId`. */
  readonly orders: ReadonlyMap<string, OrderJson>;
  /** The account's fills, oldest first, each `fillId` once. */
  readonly fills: readonly FillJson[];
  /** False while polling or disconnected. */
  readonly live: boolean;
}

/** One row per instrument and venue, as `/api/websocket/sources` answers (docs/PROTOCOL.md). */
export type { SourceRow } from '../protocol/source-status.ts';

export interface ClientEvents {
  /** Each change of the connection's state or transport. */
  state: (status: ConnectionStatus) => void;
  /**
   * Each gateway `error` (a refused subscription, an invalid message, a rate limit, a refused token), with its
   * code; the view it concerns also shows it where its state has room (`error` of candles and the account).
   */
  error: (error: { readonly code: string; readonly message: string }) => void;
}

/** What `TickwireClient` offers (src/client/tickwire-client.ts); the React hooks and the dashboard use only this. */
export interface TickwireClientApi {
  /** The connection's state now (the state getter). */
  readonly status: ConnectionStatus;
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void;
  candles(request: CandlesRequest): CandleSeries;
  /** With `venue`: that venue's ticker; without: the composite ticker. `undefined` until the first one. */
  ticker(request: { readonly symbol: string; readonly venue?: string }): View<TickerState | undefined>;
  book(request: {
    readonly venue: string;
    readonly symbol: string;
    readonly depth?: number;
  }): View<BookState | undefined>;
  trades(request: {
    readonly venue: string;
    readonly symbol: string;
    readonly keep?: number;
  }): View<TradesState>;
  alerts(request?: {
    readonly minSeverity?: 'info' | 'warning' | 'critical';
    readonly venue?: string;
    readonly symbol?: string;
    readonly keep?: number;
  }): View<AlertsState>;
  /** Every account channel of the client's token, deltas applied by `seq` (a gap asks for a fresh snapshot). */
  account(): View<AccountViewState>;
  /** Connects (the constructor does not); resolves once the first attempt has settled either way. */
  connect(): Promise<void>;
  /** Closes the socket and every view; no reconnect follows. */
  close(): void;
}
