/**
 * TickwireClient: one WebSocket to a gateway, kept up (reconnect with backoff and full jitter, an app-level ping
 * that finds a dead path, a token renewed ahead of its expiry), the rooms its views need subscribed on every
 * fresh connection, and REST polling while the socket cannot connect. The views' state lives in the rooms
 * (candle-room.ts, market-rooms.ts, alerts-room.ts, account-room.ts); this file owns the connection and routes
 * each message to its room.
 */
import { AccountRoom } from './account-room.ts';
import { AlertsRoom, passes, type AlertFilter } from './alerts-room.ts';
import { backoffDelay, checkBackoffOptions, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { CandleRoom, candleKey } from './candle-room.ts';
import { HttpApi } from './http-api.ts';
import { BookRoom, bookKey, TickerRoom, tickerKey, TradesRoom, tradesKey } from './market-rooms.ts';
import { ALERTS_KEY, errorRoomKeyOf, roomKeyOf } from './message-routing.ts';
import { PingWatch } from './ping-watch.ts';
import { Poller } from './polling.ts';
import type { Room, RoomContext, WireMessage } from './room.ts';
import { refreshDelay } from './token-refresh.ts';
import type {
  AccountViewState,
  AlertsState,
  BookState,
  CandleSeries,
  CandlesRequest,
  ClientClock,
  ClientEvents,
  ConnectionStatus,
  TickerState,
  TickwireClientApi,
  TickwireClientOptions,
  TradesState,
  View,
  WebSocketFactory,
  WebSocketLike,
} from './types.ts';
import {
  checkCount,
  checkInitialBars,
  checkInterval,
  checkSeverity,
  checkSymbol,
  checkVenue,
  MAX_BOOK_DEPTH,
} from './validate.ts';
import { Store, viewOf } from './view-store.ts';

const DEFAULT_INITIAL_BARS = 300;
const DEFAULT_KEEP = 200;
const DEFAULT_BOOK_DEPTH = 10;
const OPEN = 1;

const systemClock: ClientClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

type ErrorInfo = { readonly code: string; readonly message: string };

/** A room shared by the views that use it: subscribed while at least one is open. */
interface Shared<R extends Room> {
  readonly room: R;
  users: number;
}

/** `ws://host:port/ws` → `http://host:port`. */
function httpBaseOf(url: string): string {
  const u = new URL(url);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  return u.origin;
}

export class TickwireClient implements TickwireClientApi {
  private readonly WebSocketImpl: WebSocketFactory;
  private readonly clock: ClientClock;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private readonly pollAfter: number | undefined;
  private readonly http: HttpApi;
  private readonly poller: Poller;
  private readonly statusStore = new Store<ConnectionStatus>({
    state: 'disconnected',
    transport: 'websocket',
    attempt: 0,
  });
  private readonly errorListeners = new Set<ClientEvents['error']>();
  private readonly rooms = new Map<string, Shared<Room>>();
  private readonly context: RoomContext;
  private readonly ping: PingWatch;

  private socket: WebSocketLike | undefined;
  /** The token accepted on the current connection (`authenticated`), for account views opened later. */
  private grant: { account: string; venue: string; expiresAt: number | null } | undefined;
  private started = false;
  private closed = false;
  private opened = false;
  private retryTimer: unknown;
  private openTimer: unknown;
  private refreshTimer: unknown;
  private firstAttempt: Promise<void> | undefined;
  private settleFirst: (() => void) | undefined;

  constructor(private readonly options: TickwireClientOptions) {
    if (typeof options?.url !== 'string' || !/^wss?:\/\//.test(options.url)) {
      throw new TypeError(`url must be a ws:// or wss:// address, got ${JSON.stringify(options?.url)}`);
    }
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketFactory }).WebSocket;
    if (WebSocketImpl === undefined) {
      throw new TypeError(
        'no WebSocket: on Node 20 pass `WebSocket` from the ws package as the WebSocket option',
      );
    }
    this.WebSocketImpl = WebSocketImpl;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.backoff = checkBackoffOptions({ ...DEFAULT_BACKOFF, ...options.reconnect });
    this.pingIntervalMs = checkCount(options.pingIntervalMs ?? 15_000, 'pingIntervalMs', 1, 2 ** 31 - 1);
    this.pongTimeoutMs = checkCount(options.pongTimeoutMs ?? 10_000, 'pongTimeoutMs', 1, 2 ** 31 - 1);
    const polling = options.polling === false ? undefined : (options.polling ?? {});
    this.pollAfter =
      polling === undefined
        ? undefined
        : checkCount(polling.afterFailedAttempts ?? 3, 'polling.afterFailedAttempts', 1, 1000);
    const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
    this.http = new HttpApi({
      baseUrl: options.httpUrl ?? httpBaseOf(options.url),
      fetch: fetchImpl,
      clock: this.clock,
      token: () => this.token(),
    });
    this.ping = new PingWatch({
      clock: this.clock,
      intervalMs: this.pingIntervalMs,
      timeoutMs: this.pongTimeoutMs,
      sendPing: () => this.send({ type: 'ping' }),
      dead: () => {
        this.dropSocket();
        this.lost({ code: 'PING_TIMEOUT', message: `no answer to a ping within ${this.pongTimeoutMs} ms` });
      },
    });
    this.context = {
      send: (message) => this.send(message),
      now: () => this.clock.now(),
      http: this.http,
      polling: () => this.statusStore.get().transport === 'polling',
    };
    this.poller = new Poller({
      clock: this.clock,
      intervalMs: checkCount(
        polling === undefined ? 5000 : (polling.intervalMs ?? 5000),
        'polling.intervalMs',
        1,
        2 ** 31 - 1,
      ),
      rooms: () => [...this.rooms.values()].map((shared) => shared.room),
      onResult: (ok, error) => this.polled(ok, error),
    });
  }

  get status(): ConnectionStatus {
    return this.statusStore.get();
  }

  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    if (event === 'state') return this.statusStore.subscribe(listener as ClientEvents['state']);
    if (event === 'error') {
      const l = listener as ClientEvents['error'];
      this.errorListeners.add(l);
      return () => this.errorListeners.delete(l);
    }
    throw new RangeError(`unknown event ${String(event)}: use "state" or "error"`);
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('this TickwireClient was closed; create another one'));
    if (!this.started) {
      this.started = true;
      this.firstAttempt = new Promise((resolve) => (this.settleFirst = resolve));
      void this.attempt();
    }
    return this.firstAttempt as Promise<void>;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.stop();
    for (const timer of [this.retryTimer, this.refreshTimer]) this.clock.clearTimeout(timer);
    this.dropSocket();
    for (const { room } of this.rooms.values()) room.disconnected();
    this.rooms.clear();
    this.setStatus({ state: 'disconnected', transport: 'websocket', attempt: 0 });
    this.settleFirst?.();
  }

  candles(request: CandlesRequest): CandleSeries {
    const symbol = checkSymbol(request?.symbol);
    const interval = checkInterval(request.interval);
    const initialBars = checkInitialBars(request.initialBars ?? DEFAULT_INITIAL_BARS);
    const shared = this.join(
      candleKey(symbol, interval),
      () => new CandleRoom(symbol, interval, initialBars, this.context),
    );
    const room = shared.room;
    if (initialBars > room.requested) room.requested = initialBars;
    const view = viewOf(
      room.store,
      (state) => state,
      () => this.leave(room.key),
    );
    return {
      ...view,
      loadOlder: async (bars: number) => room.loadOlder(checkCount(bars, 'bars', 1, 5000)),
    };
  }

  ticker(request: { readonly symbol: string; readonly venue?: string }): View<TickerState | undefined> {
    const symbol = checkSymbol(request?.symbol);
    const venue = checkVenue(request.venue, true);
    const shared = this.join(tickerKey(symbol, venue), () => new TickerRoom(symbol, venue, this.context));
    return viewOf(
      shared.room.store,
      (state) => state,
      () => this.leave(shared.room.key),
    );
  }

  book(request: {
    readonly venue: string;
    readonly symbol: string;
    readonly depth?: number;
  }): View<BookState | undefined> {
    const symbol = checkSymbol(request?.symbol);
    const venue = checkVenue(request.venue, false) as string;
    const depth = checkCount(request.depth ?? DEFAULT_BOOK_DEPTH, 'depth', 1, MAX_BOOK_DEPTH);
    const shared = this.join(bookKey(symbol, venue), () => new BookRoom(symbol, venue, depth, this.context));
    const room = shared.room;
    if (depth > room.depth) {
      room.depth = depth;
      this.resubscribe(room);
    }
    const select = (state: BookState | undefined): BookState | undefined =>
      state === undefined || state.depth <= depth
        ? state
        : { ...state, depth, bids: state.bids.slice(0, depth), asks: state.asks.slice(0, depth) };
    return viewOf(room.store, select, () => this.leave(room.key));
  }

  trades(request: {
    readonly venue: string;
    readonly symbol: string;
    readonly keep?: number;
  }): View<TradesState> {
    const symbol = checkSymbol(request?.symbol);
    const venue = checkVenue(request.venue, false) as string;
    const keep = checkCount(request.keep ?? DEFAULT_KEEP, 'keep', 1, 100_000);
    const shared = this.join(
      tradesKey(symbol, venue),
      () => new TradesRoom(symbol, venue, keep, this.context),
    );
    const room = shared.room;
    if (keep > room.keep) room.keep = keep;
    const select = (state: TradesState): TradesState =>
      state.trades.length <= keep
        ? state
        : { ...state, trades: state.trades.slice(state.trades.length - keep) };
    return viewOf(room.store, select, () => this.leave(room.key));
  }

  alerts(
    request: {
      readonly minSeverity?: 'info' | 'warning' | 'critical';
      readonly venue?: string;
      readonly symbol?: string;
      readonly keep?: number;
    } = {},
  ): View<AlertsState> {
    const filter: AlertFilter = {
      minSeverity: checkSeverity(request.minSeverity),
      ...(request.venue === undefined ? {} : { venue: checkVenue(request.venue, false) as string }),
      ...(request.symbol === undefined ? {} : { symbol: checkSymbol(request.symbol) }),
      keep: checkCount(request.keep ?? DEFAULT_KEEP, 'keep', 1, 100_000),
    };
    const existing = this.rooms.get(ALERTS_KEY)?.room as AlertsRoom | undefined;
    const before = existing && JSON.stringify(existing.combined());
    // A new room subscribes at once: its filter must be in it by then.
    const shared = this.join(ALERTS_KEY, () => {
      const created = new AlertsRoom(this.context);
      created.filters.add(filter);
      return created;
    });
    const room = shared.room;
    if (existing !== undefined) {
      room.filters.add(filter);
      if (JSON.stringify(room.combined()) !== before) this.resubscribe(room);
    }
    const select = (state: {
      alerts: readonly AlertsState['alerts'][number][];
      live: boolean;
    }): AlertsState => {
      const alerts = state.alerts.filter((alert) => passes(alert, filter));
      return { alerts: alerts.slice(Math.max(0, alerts.length - filter.keep)), live: state.live };
    };
    return viewOf(room.store, select, () => {
      const wider = JSON.stringify(room.combined());
      room.filters.delete(filter);
      this.leave(room.key);
      if (this.rooms.has(room.key) && JSON.stringify(room.combined()) !== wider) this.resubscribe(room);
    });
  }

  account(): View<AccountViewState> {
    const shared = this.join('account', () => new AccountRoom(this.context));
    const room = shared.room;
    // The token may have been accepted before this view was opened.
    const grant = this.grant;
    if (grant !== undefined && shared.users === 1)
      room.authenticated(grant.account, grant.venue, grant.expiresAt);
    if (this.options.token === undefined && shared.users === 1) {
      room.receiveError({
        code: 'AUTH_REQUIRED',
        message: 'no token: pass the `token` option to TickwireClient',
      });
    }
    return viewOf(
      room.store,
      (state) => state,
      () => this.leave(room.key),
    );
  }

  // --- rooms ---

  private join<R extends Room>(key: string, make: () => R): Shared<R> {
    if (this.closed) throw new Error('this TickwireClient was closed; create another one');
    let shared = this.rooms.get(key) as Shared<R> | undefined;
    if (shared === undefined) {
      shared = { room: make(), users: 0 };
      this.rooms.set(key, shared);
      this.subscribeRoom(shared.room);
      this.poller.wake();
    }
    shared.users++;
    return shared;
  }

  private leave(key: string): void {
    const shared = this.rooms.get(key);
    if (shared === undefined) return;
    shared.users--;
    if (shared.users > 0) return;
    this.rooms.delete(key);
    for (const message of shared.room.unsubscribeMessages()) this.send(message);
  }

  private subscribeRoom(room: Room): void {
    if (!this.opened) return;
    // Account channels need the token; without one the gateway would answer AUTH_REQUIRED for each.
    if (room instanceof AccountRoom && this.options.token === undefined) return;
    for (const message of room.subscribeMessages()) this.send(message);
  }

  private resubscribe(room: Room): void {
    this.subscribeRoom(room);
  }

  // --- the connection ---

  private async token(): Promise<string | undefined> {
    const token = this.options.token;
    if (token === undefined || typeof token === 'string') return token;
    return await token();
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    const status = this.statusStore.get();
    if (status.transport === 'websocket')
      this.setStatus({ ...this.withoutRetry(status), state: 'connecting' });
    let token: string | undefined;
    try {
      token = await this.token();
    } catch (error) {
      this.failed({
        code: 'TOKEN_UNAVAILABLE',
        message: `the token function failed: ${(error as Error).message}`,
      });
      return;
    }
    if (this.closed) return;
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketImpl(this.options.url);
    } catch (error) {
      this.failed({ code: 'CONNECT_FAILED', message: (error as Error).message });
      return;
    }
    this.socket = socket;
    let lastError: ErrorInfo | undefined;
    // A path that swallows the handshake (a proxy that never answers) must not leave the client waiting forever.
    this.openTimer = this.clock.setTimeout(() => {
      if (this.socket !== socket || this.opened) return;
      this.dropSocket();
      this.failed({
        code: 'CONNECT_TIMEOUT',
        message: `no answer to the upgrade within ${this.pongTimeoutMs} ms`,
      });
    }, this.pongTimeoutMs);
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.clock.clearTimeout(this.openTimer);
      this.connected(token);
    };
    socket.onerror = (event) => {
      const message =
        (event as { message?: string; error?: Error })?.message ??
        (event as { error?: Error })?.error?.message;
      lastError = { code: 'SOCKET_ERROR', message: message ?? 'the WebSocket failed' };
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.clock.clearTimeout(this.openTimer);
      const wasOpen = this.opened;
      this.dropSocket();
      const reason = { code: `CLOSE_${event.code}`, message: event.reason || `closed with ${event.code}` };
      if (wasOpen) this.lost(reason);
      else this.failed(lastError ?? reason);
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.ping.heard();
      if (typeof event.data !== 'string') return;
      let message: WireMessage;
      try {
        message = JSON.parse(event.data) as WireMessage;
      } catch {
        return;
      }
      if (typeof message === 'object' && message !== null && typeof message.type === 'string')
        this.route(message);
    };
  }

  private connected(token: string | undefined): void {
    this.opened = true;
    this.poller.stop();
    this.setStatus({ state: 'connected', transport: 'websocket', attempt: 0 });
    if (token !== undefined) this.send({ type: 'auth', token });
    for (const { room } of this.rooms.values()) this.subscribeRoom(room);
    this.ping.start();
    this.settleFirst?.();
  }

  /** An open connection closed (or was found dead): reconnect soon. */
  private lost(error: ErrorInfo): void {
    for (const { room } of this.rooms.values()) room.disconnected();
    if (this.closed) return;
    this.clock.clearTimeout(this.refreshTimer);
    // After an expired token (close 4440) the next attempt gets a fresh one: the token function runs before each.
    this.scheduleRetry('disconnected', 0, 0, error);
  }

  /** An attempt that never opened. */
  private failed(error: ErrorInfo): void {
    this.settleFirst?.();
    if (this.closed) return;
    const attempt = this.statusStore.get().attempt + 1;
    if (this.pollAfter !== undefined && attempt >= this.pollAfter && !this.poller.running) {
      this.statusStore.set({ ...this.statusStore.get(), transport: 'polling' });
      this.poller.start();
    }
    this.scheduleRetry('error', attempt, attempt - 1, error);
  }

  /** Schedules the next attempt after `backoffIndex` doublings of the minimum delay (full jitter). */
  private scheduleRetry(
    state: 'disconnected' | 'error',
    attempt: number,
    backoffIndex: number,
    error: ErrorInfo,
  ): void {
    const delay = backoffDelay(backoffIndex, this.backoff, this.random);
    const retryAt = this.clock.now() + delay;
    const status = this.statusStore.get();
    // While polling, the poller's health is the state the user sees; the socket's retries carry on underneath.
    const shown = status.transport === 'polling' ? status.state : state;
    this.setStatus({ state: shown, transport: status.transport, attempt, retryAt, error });
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.clock.setTimeout(() => void this.attempt(), delay);
  }

  private polled(ok: boolean, error: ErrorInfo | undefined): void {
    const status = this.statusStore.get();
    if (status.transport !== 'polling' || this.closed) return;
    const next = ok ? 'connected' : 'error';
    if (status.state !== next || (!ok && status.error?.message !== error?.message)) {
      this.setStatus({ ...status, state: next, ...(error ? { error } : {}) });
    }
  }

  private withoutRetry(status: ConnectionStatus): ConnectionStatus {
    const { retryAt: _retryAt, ...rest } = status;
    return rest;
  }

  private setStatus(status: ConnectionStatus): void {
    this.statusStore.set(status);
  }

  private send(message: object): void {
    if (this.socket !== undefined && this.opened && this.socket.readyState === OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  /** Detaches and closes the current socket; its late events are ignored. */
  private dropSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.opened = false;
    this.grant = undefined;
    this.ping.stop();
    this.clock.clearTimeout(this.openTimer);
    if (socket === undefined) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = () => {};
    // On a dead path a close handshake would wait for an answer that never comes: the ws package's terminate()
    // drops the TCP connection at once; a browser socket has only close().
    const terminate = (socket as { terminate?: () => void }).terminate;
    try {
      if (typeof terminate === 'function') terminate.call(socket);
      else socket.close();
    } catch {
      // Closing a socket that is still connecting may throw in some implementations; it is gone either way.
    }
  }

  // --- routing ---

  private route(message: WireMessage): void {
    if (message.type === 'authenticated') this.authenticated(message);
    else if (message.type === 'error') this.routeError(message);
    else {
      const key = roomKeyOf(message);
      if (key !== undefined) this.rooms.get(key)?.room.receive(message);
    }
  }

  private authenticated(message: WireMessage): void {
    const room = this.rooms.get('account')?.room as AccountRoom | undefined;
    const expiresAt = message.expiresAt;
    this.grant = {
      account: String(message.account),
      venue: String(message.venue),
      expiresAt: typeof expiresAt === 'number' ? expiresAt : null,
    };
    room?.authenticated(
      String(message.account),
      String(message.venue),
      typeof expiresAt === 'number' ? expiresAt : null,
    );
    this.clock.clearTimeout(this.refreshTimer);
    if (typeof expiresAt !== 'number' || typeof this.options.token !== 'function') return;
    this.refreshTimer = this.clock.setTimeout(
      () => void this.refreshToken(),
      refreshDelay(expiresAt, this.clock.now()),
    );
  }

  /** The refresh hook: a new token from the token function, sent with `auth` on the open connection. */
  private async refreshToken(): Promise<void> {
    try {
      const token = await this.token();
      if (token !== undefined && this.opened) this.send({ type: 'auth', token });
    } catch (error) {
      this.emitError({
        code: 'TOKEN_UNAVAILABLE',
        message: `the token function failed: ${(error as Error).message}`,
      });
    }
  }

  private routeError(message: WireMessage): void {
    const error: ErrorInfo = { code: String(message.code), message: String(message.message) };
    const key = errorRoomKeyOf(message);
    const room = key === undefined ? undefined : this.rooms.get(key)?.room;
    if (room !== undefined) room.receiveError(error);
    else if (error.code === 'INVALID_SYMBOL') this.symbolError(error);
    if (room instanceof CandleRoom && error.code === 'HISTORY_BUDGET_EXCEEDED') this.retryLater(room);
    // A partial `initial` follows HISTORY_UNAVAILABLE and says so itself; every other error reaches the listeners.
    if (error.code !== 'HISTORY_UNAVAILABLE') this.emitError(error);
  }

  /** INVALID_SYMBOL names the symbol only in its text: the candle views of that symbol get it. */
  private symbolError(error: ErrorInfo): void {
    for (const { room } of this.rooms.values()) {
      if (room instanceof CandleRoom && error.message.startsWith(`Invalid symbol: ${room.symbol}.`)) {
        room.receiveError(error);
      }
    }
  }

  /**
   * A subscribe the history budget refused (many series re-subscribed at once after a long outage) is sent
   * again once the budget has refilled (it refills within seconds), spread by jitter.
   */
  private retryLater(room: Room): void {
    const socket = this.socket;
    this.clock.setTimeout(
      () => {
        if (this.socket === socket && this.rooms.get(room.key)?.room === room) this.subscribeRoom(room);
      },
      1000 + Math.floor(this.random() * 1000),
    );
  }

  private emitError(error: ErrorInfo): void {
    for (const listener of [...this.errorListeners]) listener(error);
  }
}
