/**
 * The one resilient WebSocket runner every venue feed sits on. A venue supplies a small protocol object (URL,
 * subscribe frames, a frame handler, its heartbeat rule, limits and an optional REST poll); the runner supplies
 * the rest: connect timeout, reconnect with full-jitter exponential backoff, an optional login step before the
 * subscriptions (private streams), paced resubscription, heartbeats with round-trip latency, a silence watchdog,
 * per-symbol staleness, an outbound queue under the venue's rate limits, and a REST-polling fallback (a schedule
 * of poll kinds, each at its own period) after repeated failed reconnects that ends as soon as a socket is healthy
 * again.
 *
 * Every timer, listener and socket belongs to exactly one state and is released when that state ends, so a
 * runner that has flapped for weeks holds what a fresh one holds.
 */
import WebSocket from 'ws';
import type { Logger } from '../../telemetry/logger.ts';
import { RepeatedFailure } from '../../telemetry/repeated-failure.ts';
import { backoffDelay } from '../../util/backoff.ts';
import { systemClock, type Clock, type Timer } from '../../util/clock.ts';
import { waitAtMost } from '../../util/wait-at-most.ts';
import type { ConnectionStatus, MarketStreamHandlers, StreamEvent, StreamStatus } from '../venue.ts';
import type { ConnectionProtocol, FrameOutcome, PollKind } from './connection-protocol.ts';
import { RestPolling, type PollEntry } from './rest-polling.ts';
import { SlidingWindowLimiter } from './send-limiter.ts';
import { mainThreadTurns, type TurnBudget } from '../../util/turn-budget.ts';

export interface BackoffOptions {
  /** First delay ceiling. Default 1 s. */
  readonly initialMs?: number;
  /** Ceiling cap. Default 16 s. */
  readonly maxMs?: number;
}

export interface FallbackOptions {
  /** Consecutive failed connections before polling starts. Default 5; 0 disables the fallback. */
  readonly afterFailures?: number;
  /** Period of `poll('full')`. Default 15 s. */
  readonly pollIntervalMs?: number;
  /** Period of `poll('prices')`; 0 disables it. Default 2 s. */
  readonly pricePollIntervalMs?: number;
  /**
   * Poll kinds and their periods in ms, replacing `full` and `prices` when given (seed 000's account schedule:
   * positions 2 s, orders 5 s, account 10 s). Each kind is polled once at the switch to polling, then every period.
   */
  readonly schedule?: Readonly<Record<PollKind, number>>;
}

export interface ConnectionRunnerOptions {
  readonly logger: Logger;
  /**
   * Time for receive times, events and status, and every timer of the runner (backoff, handshake backstop,
   * heartbeat, watchdog, staleness, pacing, polling, close). Default the system clock; tests move a ManualClock.
   */
  readonly clock?: Clock;
  /** Jitter source in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /**
   * Where received frames are processed: at once while the event loop's turn has frame time left, later turns
   * otherwise (src/util/turn-budget.ts). Default the main thread's, which all venue connections share.
   */
  readonly turns?: TurnBudget;
  /** TCP + TLS + WebSocket handshake must finish within this. Default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
  /** Backoff after a refused login (protocols with `loginFrames`). Default 5 s first ceiling, 5 min cap. */
  readonly loginBackoff?: BackoffOptions;
  /** Time an open connection has to answer the login. Default 10 s. */
  readonly loginTimeoutMs?: number;
  /** An open connection that receives nothing (not even a ping or pong) for this long is recycled. Default 30 s. */
  readonly silenceTimeoutMs?: number;
  /** A symbol with no data for this long on a live connection is reported stale. Default 60 s; 0 disables. */
  readonly staleSymbolMs?: number;
  /**
   * Recycle a connection on which every symbol has been silent for `staleSymbolMs` while heartbeats still flow.
   * Right for venues whose channels push periodically (klines, tickers); wrong for trade-only feeds of quiet
   * markets. Default false.
   */
  readonly recycleWhenAllStale?: boolean;
  /**
   * Protocols that count their unanswered subscribes (`ConnectionProtocol.unansweredSubscribes`): a connection that
   * has delivered no data and still has a subscribe unanswered this long after the last one was sent is recycled. A
   * venue that lost the requests (one that stopped answering while the socket opened) would otherwise leave it
   * open, answering pings and subscribed to nothing, until the symbols' staleness. A connection that delivers data
   * is not recycled for it (the venue answers; symbols still silent are watched for staleness): the unanswered
   * count is logged. Default 10 s; 0 disables.
   */
  readonly subscribeAnswerTimeoutMs?: number;
  readonly fallback?: FallbackOptions;
  /**
   * First delay before resending a refused subscription; doubles per refusal up to the backoff cap, ±20% so that
   * resends do not fall into step. Default 1 s.
   */
  readonly resubscribeDelayMs?: number;
  /** Largest accepted inbound frame. Default 4 MiB. */
  readonly maxPayloadBytes?: number;
  /** How long `close()` waits for a closing handshake or an in-flight poll. Default 2 s. */
  readonly closeTimeoutMs?: number;
}

/**
 * What the runner counts beyond `ConnectionStatus`, for tests and diagnostics. Not served: the status endpoint
 * shows `ConnectionStatus` alone.
 */
export interface RunnerCounters {
  readonly connects: number;
  readonly recycles: number;
  readonly staleEvents: number;
  readonly modeSwitches: number;
  readonly polls: number;
  readonly pollErrors: number;
  readonly droppedSends: number;
}

type Handlers = Pick<MarketStreamHandlers, 'status' | 'event'>;

/** Distinct malformed-frame kinds remembered for log-once; beyond it they are counted, not logged. */
const MAX_LOGGED_KINDS = 256;
/** How long after the connect timeout the runner's own timer ends a handshake ws has not ended. */
const CONNECT_BACKSTOP_MS = 100;
/** Margin added to venue windows so timer jitter never lands one message inside. */
const LIMIT_MARGIN_MS = 25;

/**
 * Keeps one venue connection alive until `close()`. Construct, then `start()`. Status changes reach
 * `handlers.status` (connected / disconnected / error) and `handlers.event` (mode, gap, stale, fresh, rejected,
 * recycle); neither may throw into the runner (a throw is logged and counted).
 */
export class ConnectionRunner {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly connectTimeoutMs: number;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly loginInitialMs: number;
  private readonly loginMaxMs: number;
  private readonly loginTimeoutMs: number;
  private readonly silenceTimeoutMs: number;
  private readonly staleSymbolMs: number;
  private readonly recycleWhenAllStale: boolean;
  private readonly subscribeAnswerTimeoutMs: number;
  private readonly fallbackAfter: number;
  /** The fallback's polls, running while `mode` is 'polling'. */
  private readonly polling: RestPolling;
  private readonly resubscribeDelayMs: number;
  private readonly maxPayloadBytes: number;
  private readonly closeTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly pongText: string | undefined;
  private readonly turns: TurnBudget;

  // Connection state: one socket at a time; every per-socket timer is cleared in releaseSocket().
  private socket: WebSocket | undefined;
  private open = false;
  /** The current socket delivered market data: it counts as a success and ends fallback polling. */
  private healthy = false;
  private started = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private url = '';
  private attempt = 0;
  /** Consecutive refused logins: the login backoff's attempt number. */
  private loginAttempt = 0;
  /** The current connection's login was accepted (always true for protocols without a login). */
  private loggedIn = false;
  /** The current connection is being dropped because its login was refused. */
  private dropForLogin = false;
  private loginTimer: Timer | undefined;
  private dropReason: string | undefined;
  private dropImmediately = false;
  private reconnectTimer: Timer | undefined;
  private connectTimer: Timer | undefined;
  private watchdogTimer: Timer | undefined;
  private heartbeatTimer: Timer | undefined;
  private pongTimer: Timer | undefined;
  private staleTimer: Timer | undefined;
  private pumpTimer: Timer | undefined;
  private subscribeAnswerTimer: Timer | undefined;
  private readonly resendTimers = new Set<Timer>();
  private pingSentAt: number | undefined;
  /** The payload of the latency ping awaiting its pong (rule `server-ping` with `latencyPingMs`), and a count. */
  private latencyPing: string | undefined;
  private latencyPings = 0;
  private lastFrameAt = 0;

  // Outbound.
  private queue: { text: string; subscribe: boolean }[] = [];
  private messageLimiter: SlidingWindowLimiter;
  private subscribeLimiter: SlidingWindowLimiter | undefined;
  private connectLimiter: SlidingWindowLimiter | undefined;
  private rejectStreak = 0;

  // Staleness.
  private readonly lastDataBySymbol = new Map<string, number>();
  private readonly staleSymbols = new Set<string>();

  // Fallback.
  private mode: 'websocket' | 'polling' = 'websocket';

  // Outage tracking for gap events: wall time of the last data before the connection was lost.
  private outageFrom: number | undefined;
  private lastDataWall: number | undefined;

  // Status.
  private reconnectCount = 0;
  private consecutiveFailures = 0;
  private messagesReceived = 0;
  private errors = 0;
  private malformedFrames = 0;
  private rejectedSubscriptions = 0;
  private lastHeartbeat: number | undefined;
  private latencyMs: number | null = null;
  private lastError: string | null = null;
  private readonly loggedKinds = new Set<string>();
  /** Failed connections are logged once with their cause, then summarized (not one line per attempt). */
  private readonly connectFailures: RepeatedFailure;
  /** The error the current socket reported, told with its close. */
  private socketError: string | undefined;
  private connects = 0;
  private recycles = 0;
  private staleEvents = 0;
  private modeSwitches = 0;
  private droppedSends = 0;

  constructor(
    private readonly protocol: ConnectionProtocol,
    private readonly handlers: Handlers,
    options: ConnectionRunnerOptions,
  ) {
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.turns = options.turns ?? mainThreadTurns;
    this.connectTimeoutMs = positive(options.connectTimeoutMs, 10_000, 'connectTimeoutMs');
    this.initialMs = positive(options.backoff?.initialMs, 1_000, 'backoff.initialMs');
    this.maxMs = Math.max(this.initialMs, positive(options.backoff?.maxMs, 16_000, 'backoff.maxMs'));
    this.silenceTimeoutMs = positive(options.silenceTimeoutMs, 30_000, 'silenceTimeoutMs');
    this.staleSymbolMs = nonNegative(options.staleSymbolMs, 60_000, 'staleSymbolMs');
    this.recycleWhenAllStale = options.recycleWhenAllStale ?? false;
    this.subscribeAnswerTimeoutMs = nonNegative(
      options.subscribeAnswerTimeoutMs,
      10_000,
      'subscribeAnswerTimeoutMs',
    );
    this.loginInitialMs = positive(options.loginBackoff?.initialMs, 5_000, 'loginBackoff.initialMs');
    this.loginMaxMs = Math.max(
      this.loginInitialMs,
      positive(options.loginBackoff?.maxMs, 300_000, 'loginBackoff.maxMs'),
    );
    this.loginTimeoutMs = positive(options.loginTimeoutMs, 10_000, 'loginTimeoutMs');
    this.fallbackAfter = nonNegative(options.fallback?.afterFailures, 5, 'fallback.afterFailures');
    this.polling = new RestPolling({
      protocol,
      schedule: pollSchedule(options.fallback),
      clock: this.clock,
      logger: this.logger,
      onError: (message) => this.noteError(message),
    });
    this.resubscribeDelayMs = positive(options.resubscribeDelayMs, 1_000, 'resubscribeDelayMs');
    this.maxPayloadBytes = positive(options.maxPayloadBytes, 4 * 1024 * 1024, 'maxPayloadBytes');
    this.closeTimeoutMs = positive(options.closeTimeoutMs, 2_000, 'closeTimeoutMs');
    const limits = protocol.limits ?? {};
    this.maxQueue = positive(limits.maxQueue, 10_000, 'limits.maxQueue');
    const perSecond = Math.floor(positive(limits.messagesPerSecond, 4, 'limits.messagesPerSecond'));
    this.messageLimiter = new SlidingWindowLimiter(Math.max(1, perSecond), 1_000, LIMIT_MARGIN_MS);
    if (limits.subscribesPerHour !== undefined) {
      const perHour = Math.floor(positive(limits.subscribesPerHour, 1, 'limits.subscribesPerHour'));
      this.subscribeLimiter = new SlidingWindowLimiter(Math.max(1, perHour), 3_600_000, LIMIT_MARGIN_MS);
    }
    if (limits.connectAttempts !== undefined) {
      const { count, windowMs } = limits.connectAttempts;
      this.connectLimiter = new SlidingWindowLimiter(
        Math.max(1, Math.floor(positive(count, 1, 'limits.connectAttempts.count'))),
        positive(windowMs, 1, 'limits.connectAttempts.windowMs'),
        LIMIT_MARGIN_MS,
      );
    }
    this.pongText = protocol.heartbeat.kind === 'text-ping' ? protocol.heartbeat.pong : undefined;
    const venue = protocol.venue;
    this.connectFailures = new RepeatedFailure({
      logger: this.logger,
      now: () => this.clock.now(),
      fields: { venue },
      failing: 'stream unreachable',
      stillFailing: 'still unreachable',
      recovered: 'stream connected again',
    });
  }

  /** Opens the first connection. Calling it twice, or after close(), does nothing. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.connect();
  }

  /**
   * Queues `text` for the current connection under the venue's limits; `subscribe` marks a subscribe request
   * (counted against subscribes per hour). False when there is no open connection or the queue is full: frames
   * are never carried over to the next connection, whose subscriptions come from `subscribeFrames()`.
   */
  send(text: string, subscribe = false): boolean {
    if (!this.open || this.closed) return false;
    if (this.queue.length >= this.maxQueue) {
      this.droppedSends++;
      this.errors++;
      this.lastError = `outbound queue full (${this.maxQueue})`;
      return false;
    }
    this.queue.push({ text, subscribe });
    this.pump();
    return true;
  }

  /** Counts an error the venue layer met (e.g. a stream handler threw) and shows it as `last_error`. */
  reportError(message: string): void {
    this.noteError(message);
  }

  /**
   * Replaces the current connection now (e.g. a book resync needs a fresh subscription). The next attempt starts
   * without backoff unless the previous connection failed too, so a venue that keeps closing cannot make us spin.
   */
  recycle(reason: string): void {
    this.recycleNow(reason, true);
  }

  /** The status endpoint's view of this connection (what `MarketStream.status()` returns). */
  status(): ConnectionStatus {
    return {
      connected: this.open,
      is_healthy: this.open && this.healthy && this.mode === 'websocket' && this.staleSymbols.size === 0,
      ws_url: this.url,
      subscriptions: this.protocol.subscriptions(),
      reconnect_count: this.reconnectCount,
      last_heartbeat: this.lastHeartbeat === undefined ? null : new Date(this.lastHeartbeat).toISOString(),
      latency_ms: this.latencyMs,
      messages_received: this.messagesReceived,
      errors: this.errors,
      mode: this.mode,
      stale_symbols: [...this.staleSymbols],
      consecutive_failures: this.consecutiveFailures,
      malformed_frames: this.malformedFrames,
      rejected_subscriptions: this.rejectedSubscriptions,
      last_error: this.lastError,
    };
  }

  /** Counts beyond the status, for tests and diagnostics. */
  counters(): RunnerCounters {
    return {
      connects: this.connects,
      recycles: this.recycles,
      staleEvents: this.staleEvents,
      modeSwitches: this.modeSwitches,
      polls: this.polling.polls,
      pollErrors: this.polling.errors,
      droppedSends: this.droppedSends,
    };
  }

  /**
   * Stops reconnecting and polling and closes the socket; resolves when no timer, socket or listener of this runner
   * is left (an in-flight poll is aborted and awaited, at most `closeTimeoutMs`).
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    // Frames received before the close are processed, as they would have been without the turn budget.
    this.turns.flush(this);
    this.closed = true;
    this.clock.clearTimer(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.polling.stop();
    const socket = this.socket;
    this.releaseSocket();
    this.closing = Promise.all([
      socket === undefined ? Promise.resolve() : this.closeSocket(socket),
      this.polling.settle(this.closeTimeoutMs),
    ]).then(() => undefined);
    return this.closing;
  }

  private recycleNow(reason: string, immediately: boolean): void {
    if (this.closed || this.socket === undefined) return;
    this.recycles++;
    this.emitEvent({ kind: 'recycle', at: this.clock.now(), reason });
    this.logger.info({ venue: this.protocol.venue, reason }, 'connection recycled');
    this.drop(reason, immediately);
  }

  // ---- connection lifecycle ----

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    if (this.connectLimiter !== undefined) {
      const wait = this.connectLimiter.waitMs(this.clock.now());
      if (wait > 0) {
        this.reconnectTimer = this.clock.setTimeout(() => this.connect(), Math.ceil(wait));
        return;
      }
      this.connectLimiter.record(this.clock.now());
    }
    this.connects++;
    this.healthy = false;
    this.socketError = undefined;
    this.dropReason = undefined;
    this.dropImmediately = false;
    this.dropForLogin = false;
    this.loggedIn = false;
    let socket: WebSocket;
    try {
      this.url = this.protocol.url();
      socket = new WebSocket(this.url, {
        handshakeTimeout: this.connectTimeoutMs,
        maxPayload: this.maxPayloadBytes,
        perMessageDeflate: false,
      });
    } catch (err) {
      // A malformed URL: counted like a refused connection, so backoff and fallback still apply.
      const message = `cannot connect to ${this.url}: ${(err as Error).message}`;
      this.noteError(message);
      this.connectionFailed(false, message);
      return;
    }
    this.socket = socket;
    // Backstop behind ws's own handshake timeout, which only measures inactivity: a peer trickling bytes beats it.
    this.connectTimer = this.clock.setTimeout(() => {
      this.connectTimer = undefined;
      if (this.socket === socket && !this.open)
        this.drop(`connect timeout after ${this.connectTimeoutMs} ms`, false);
    }, this.connectTimeoutMs + CONNECT_BACKSTOP_MS);
    socket.on('open', () => this.onOpen(socket));
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) =>
      this.onMessage(socket, data, isBinary),
    );
    socket.on('ping', () => this.onProtocolHeartbeat(socket));
    socket.on('pong', (payload: Buffer) => this.onPong(socket, payload));
    socket.on('error', (err: Error) => this.onError(socket, err));
    socket.on('close', (code: number, reason: Buffer) => this.onClose(socket, code, reason));
  }

  private onOpen(socket: WebSocket): void {
    if (socket !== this.socket || this.closed) return;
    this.clock.clearTimer(this.connectTimer);
    this.connectTimer = undefined;
    this.open = true;
    this.lastFrameAt = this.clock.now();
    try {
      this.protocol.onOpen?.();
    } catch (err) {
      this.noteError(`protocol onOpen failed: ${(err as Error).message}`);
    }
    const login = this.protocol.loginFrames;
    this.loggedIn = login === undefined;
    if (login === undefined) this.queueSubscribes();
    else {
      for (const frame of login.call(this.protocol)) this.queue.push({ text: frame, subscribe: false });
      this.loginTimer = this.clock.setTimeout(() => {
        this.loginTimer = undefined;
        if (this.socket !== socket || this.loggedIn) return;
        this.noteError(`no login answer within ${this.loginTimeoutMs} ms`);
        this.drop(`no login answer within ${this.loginTimeoutMs} ms`, false);
      }, this.loginTimeoutMs);
    }
    this.pump();
    this.armWatchdog(this.silenceTimeoutMs);
    this.startHeartbeat();
    this.startStaleWatch();
    // After failed attempts, the recovery is told once the connection delivers data (becameHealthy).
    if (this.connectFailures.attempts === 0)
      this.logger.info({ venue: this.protocol.venue, url: this.url }, 'stream connected');
    this.emitStatus({ kind: 'connected', at: this.clock.now() });
  }

  private onMessage(socket: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    if (socket !== this.socket || this.closed) return;
    const receivedAt = this.clock.now();
    // Liveness is the frame's arrival, whenever it is processed.
    this.lastHeartbeat = receivedAt;
    this.lastFrameAt = receivedAt;
    if (isBinary) {
      this.messagesReceived++;
      this.malformed('binary', 'binary frame on a text protocol');
      return;
    }
    const text = rawText(data);
    if (this.pongText !== undefined && text === this.pongText) {
      this.messagesReceived++;
      this.pongReceived();
      return;
    }
    this.turns.run(this, () => this.handleFrame(socket, text, receivedAt));
  }

  /**
   * A received text frame, processed when the turn budget lets it, in the order frames arrived; it counts in
   * `messages_received` once processed, so that the count never runs ahead of what the handlers have seen.
   */
  private handleFrame(socket: WebSocket, text: string, receivedAt: number): void {
    if (socket !== this.socket || this.closed) return;
    this.messagesReceived++;
    let outcome: FrameOutcome;
    try {
      outcome = this.protocol.handleFrame(text, receivedAt);
    } catch (err) {
      this.malformed('handler-threw', (err as Error).message);
      return;
    }
    switch (outcome.kind) {
      case 'data':
        this.onData(outcome.symbol, receivedAt);
        return;
      case 'control':
        return;
      case 'pong':
        this.pongReceived();
        return;
      case 'rejected':
        this.onRejected(outcome.message, outcome.resend);
        return;
      case 'error':
        this.noteError(outcome.message);
        this.logger.warn({ venue: this.protocol.venue }, `venue error: ${outcome.message}`);
        this.emitStatus({ kind: 'error', at: receivedAt, message: outcome.message });
        return;
      case 'recycle':
        this.recycle(outcome.reason);
        return;
      case 'malformed':
        this.malformed(outcome.key, outcome.reason);
        return;
      case 'loggedIn':
        this.onLoggedIn();
        return;
      case 'loginFailed':
        this.onLoginFailed(outcome.message, receivedAt);
        return;
    }
  }

  private queueSubscribes(): void {
    for (const frame of this.protocol.subscribeFrames()) this.queue.push({ text: frame, subscribe: true });
  }

  /** Login accepted: the subscriptions follow (never before: Bitget stalls a socket subscribed before login). */
  private onLoggedIn(): void {
    if (this.loggedIn) return;
    this.loggedIn = true;
    this.loginAttempt = 0;
    this.clock.clearTimer(this.loginTimer);
    this.loginTimer = undefined;
    this.queueSubscribes();
    this.pump();
  }

  private onLoginFailed(message: string, at: number): void {
    this.noteError(message);
    this.logger.warn({ venue: this.protocol.venue }, `login refused: ${message}`);
    this.emitStatus({ kind: 'error', at, message });
    if (this.socket === undefined) return;
    this.dropForLogin = true;
    this.drop(`login refused: ${message}`, false);
  }

  private onData(symbol: string, receivedAt: number): void {
    this.lastDataWall = receivedAt;
    if (this.staleSymbolMs > 0) {
      this.lastDataBySymbol.set(symbol, this.lastFrameAt);
      if (this.staleSymbols.size > 0 && this.staleSymbols.delete(symbol)) {
        this.logger.info({ venue: this.protocol.venue, symbol }, 'symbol delivers data again');
        this.emitEvent({ kind: 'fresh', at: receivedAt, symbol });
      }
    }
    if (!this.healthy) this.becameHealthy(receivedAt);
  }

  private becameHealthy(at: number): void {
    this.healthy = true;
    this.attempt = 0;
    this.consecutiveFailures = 0;
    this.rejectStreak = 0;
    this.connectFailures.succeeded();
    if (this.mode === 'polling') this.leavePolling();
    if (this.outageFrom !== undefined) {
      const from = this.outageFrom;
      this.outageFrom = undefined;
      this.emitEvent({ kind: 'gap', at, from, to: at, reason: 'connection lost' });
    }
  }

  private onProtocolHeartbeat(socket: WebSocket): void {
    if (socket !== this.socket) return;
    this.lastHeartbeat = this.clock.now();
    this.lastFrameAt = this.clock.now();
  }

  private onPong(socket: WebSocket, payload: Buffer): void {
    if (socket !== this.socket) return;
    this.lastHeartbeat = this.clock.now();
    this.lastFrameAt = this.clock.now();
    this.pongReceived(payload);
  }

  private onError(socket: WebSocket, err: Error): void {
    if (socket !== this.socket || this.closed) return;
    // Logged once, with the close that follows (a lost connection or a failed attempt).
    this.noteError(err.message);
    this.socketError = err.message;
    this.emitStatus({ kind: 'error', at: this.clock.now(), message: err.message });
  }

  private onClose(socket: WebSocket, code: number, reason: Buffer): void {
    if (socket !== this.socket) return;
    // Every frame the socket delivered is processed before its close is (one may itself drop the socket).
    this.turns.flush(this);
    if (socket !== this.socket) return;
    const wasOpen = this.open;
    const wasHealthy = this.healthy;
    this.releaseSocket();
    if (this.closed) return;
    const text = reason.toString();
    const why = this.dropReason ?? `closed by server (${code}${text ? ` ${text}` : ''})`;
    if (wasHealthy && this.outageFrom === undefined) this.outageFrom = this.lastDataWall ?? this.clock.now();
    if (wasOpen) {
      if (wasHealthy) this.logger.warn({ venue: this.protocol.venue, reason: why }, 'stream disconnected');
      this.emitStatus({ kind: 'disconnected', at: this.clock.now(), reason: why });
    } else if (this.dropReason !== undefined) {
      this.lastError = this.dropReason;
    }
    if (this.dropForLogin) this.scheduleLoginRetry();
    else if (wasHealthy) this.scheduleReconnect(this.dropImmediately);
    else this.connectionFailed(this.dropImmediately, this.dropReason ?? this.socketError ?? why);
  }

  /** After a refused login: the login backoff, and no step towards the polling fallback. */
  private scheduleLoginRetry(): void {
    if (this.closed) return;
    const delay = backoffDelay(
      ++this.loginAttempt,
      { minMs: this.loginInitialMs, maxMs: this.loginMaxMs, jitter: 'full' },
      this.random,
    );
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectCount++;
      this.connect();
    }, delay);
  }

  /** A connection ended without delivering data: one more consecutive failure, logged as a repeat of the last. */
  private connectionFailed(immediately: boolean, cause: string): void {
    this.consecutiveFailures++;
    if (
      this.fallbackAfter > 0 &&
      this.consecutiveFailures >= this.fallbackAfter &&
      this.mode === 'websocket' &&
      this.protocol.poll !== undefined
    ) {
      this.enterPolling(`${this.consecutiveFailures} consecutive failed connections`);
    }
    // A venue that recycles a connection before it ever delivered data gets no immediate retry: that would spin.
    const delay = this.scheduleReconnect(immediately && this.consecutiveFailures <= 1);
    this.connectFailures.failed(cause, delay);
  }

  /** Schedules the next connection; returns its delay. */
  private scheduleReconnect(immediately: boolean): number | undefined {
    if (this.closed) return undefined;
    const delay = immediately
      ? 0
      : backoffDelay(
          ++this.attempt,
          { minMs: this.initialMs, maxMs: this.maxMs, jitter: 'full' },
          this.random,
        );
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectCount++;
      this.connect();
    }, delay);
    return delay;
  }

  /** Drops the current socket; onClose then reports `reason` and reconnects. */
  private drop(reason: string, immediately: boolean): void {
    const socket = this.socket;
    if (socket === undefined) return;
    this.dropReason = reason;
    this.dropImmediately = immediately;
    socket.terminate();
  }

  /** Clears every per-socket timer and the outbound queue; the socket's listeners go with it. */
  private releaseSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.open = false;
    this.healthy = false;
    this.loggedIn = false;
    for (const timer of [
      this.loginTimer,
      this.connectTimer,
      this.watchdogTimer,
      this.heartbeatTimer,
      this.pongTimer,
      this.staleTimer,
      this.pumpTimer,
      this.subscribeAnswerTimer,
      ...this.resendTimers,
    ])
      this.clock.clearTimer(timer);
    this.resendTimers.clear();
    this.loginTimer = this.connectTimer = this.watchdogTimer = this.heartbeatTimer = undefined;
    this.pongTimer = this.staleTimer = this.pumpTimer = this.subscribeAnswerTimer = undefined;
    this.pingSentAt = this.latencyPing = undefined;
    this.queue = [];
    socket?.removeAllListeners();
    // A late 'error' from a socket we no longer listen to must not become an uncaught exception.
    socket?.on('error', ignore);
  }

  /** Closes a socket already released from this runner; resolves once it is closed (terminated after a timeout). */
  private async closeSocket(socket: WebSocket): Promise<void> {
    if (socket.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'client closing');
      else socket.terminate();
      if (!(await waitAtMost(closed, this.closeTimeoutMs, this.clock))) {
        socket.terminate();
        await closed;
      }
    }
    socket.removeAllListeners();
  }

  // ---- heartbeat, watchdog, staleness ----

  private startHeartbeat(): void {
    const rule = this.protocol.heartbeat;
    const interval =
      rule.kind === 'server-ping'
        ? rule.latencyPingMs === undefined
          ? undefined
          : positive(rule.latencyPingMs, 30_000, 'heartbeat.latencyPingMs')
        : positive(rule.intervalMs, 20_000, 'heartbeat.intervalMs');
    if (interval === undefined) return;
    this.heartbeatTimer = this.clock.setInterval(() => this.beat(), interval);
  }

  private beat(): void {
    const rule = this.protocol.heartbeat;
    if (!this.open) return;
    if (rule.kind === 'server-ping') return this.sendLatencyPing();
    if (this.pongTimer !== undefined) return;
    if (
      rule.kind === 'text-ping' &&
      rule.idleOnly === true &&
      this.clock.now() - this.lastFrameAt < rule.intervalMs
    )
      return;
    this.pingSentAt = this.clock.now();
    if (rule.kind === 'text-ping') this.sendNow(rule.ping);
    else this.socket?.ping();
    const timeout = rule.timeoutMs ?? rule.intervalMs;
    this.pongTimer = this.clock.setTimeout(() => {
      this.pongTimer = undefined;
      this.noteError(`no pong within ${timeout} ms`);
      this.recycleNow(`heartbeat timeout: no pong within ${timeout} ms`, this.healthy);
    }, timeout);
  }

  /** A ping beside the server's own heartbeat: its pong (matched by payload) times the round trip. */
  private sendLatencyPing(): void {
    const now = this.clock.now();
    if (this.messageLimiter.waitMs(now) > 0) return;
    this.messageLimiter.record(now);
    this.latencyPing = String(++this.latencyPings);
    this.pingSentAt = now;
    this.socket?.ping(this.latencyPing);
  }

  private pongReceived(payload?: Buffer): void {
    // A latency ping's pong is known by its payload: an answer to an earlier ping must not time the later one.
    if (this.latencyPing !== undefined) {
      if (payload?.toString() !== this.latencyPing) return;
      this.latencyPing = undefined;
    }
    if (this.pingSentAt !== undefined) {
      this.latencyMs = Math.round((this.clock.now() - this.pingSentAt) * 100) / 100;
      this.pingSentAt = undefined;
    }
    this.clock.clearTimer(this.pongTimer);
    this.pongTimer = undefined;
  }

  private armWatchdog(delay: number): void {
    this.clock.clearTimer(this.watchdogTimer);
    this.watchdogTimer = this.clock.setTimeout(() => this.checkSilence(), delay);
  }

  private checkSilence(): void {
    this.watchdogTimer = undefined;
    if (this.closed || !this.open) return;
    const silent = this.clock.now() - this.lastFrameAt;
    if (silent >= this.silenceTimeoutMs) {
      this.noteError(`no frame for ${Math.round(silent)} ms`);
      this.recycleNow(`silence: no frame for ${Math.round(silent)} ms`, this.healthy);
      return;
    }
    this.armWatchdog(this.silenceTimeoutMs - silent);
  }

  private startStaleWatch(): void {
    if (this.staleSymbolMs === 0) return;
    const opened = this.clock.now();
    // Every watched symbol gets a full window from this connection's start.
    for (const symbol of this.protocol.symbols()) this.lastDataBySymbol.set(symbol, opened);
    const every = Math.max(10, Math.min(5_000, Math.floor(this.staleSymbolMs / 4)));
    this.staleTimer = this.clock.setInterval(() => this.checkStale(), every);
  }

  private checkStale(): void {
    if (!this.open) return;
    const now = this.clock.now();
    const symbols = this.protocol.symbols();
    let silentOnThisConnection = 0;
    for (const symbol of symbols) {
      const last = this.lastDataBySymbol.get(symbol) ?? now;
      const silentMs = Math.round(now - last);
      if (silentMs < this.staleSymbolMs) continue;
      silentOnThisConnection++;
      if (this.staleSymbols.has(symbol)) continue;
      this.staleSymbols.add(symbol);
      this.staleEvents++;
      this.logger.warn({ venue: this.protocol.venue, symbol, silentMs }, 'symbol stale on a live connection');
      this.emitEvent({ kind: 'stale', at: this.clock.now(), symbol, silentMs });
    }
    // The window restarts with each connection, so a replacement gets its full chance before it is judged.
    if (this.recycleWhenAllStale && symbols.length > 0 && silentOnThisConnection === symbols.length) {
      this.noteError(`every symbol silent for ${this.staleSymbolMs} ms`);
      this.recycleNow(`no data for any symbol in ${this.staleSymbolMs} ms`, this.healthy);
    }
  }

  // ---- outbound ----

  /** Sends ahead of the queue (heartbeats), still counted by the message limiter. */
  private sendNow(text: string): void {
    this.queue.unshift({ text, subscribe: false });
    this.pump();
  }

  private pump(): void {
    if (this.pumpTimer !== undefined) return;
    const socket = this.socket;
    if (socket === undefined || !this.open) return;
    while (this.queue.length > 0) {
      const head = this.queue[0] as { text: string; subscribe: boolean };
      const now = this.clock.now();
      let wait = this.messageLimiter.waitMs(now);
      if (head.subscribe && this.subscribeLimiter !== undefined)
        wait = Math.max(wait, this.subscribeLimiter.waitMs(now));
      if (wait > 0) {
        this.pumpTimer = this.clock.setTimeout(() => {
          this.pumpTimer = undefined;
          this.pump();
        }, Math.ceil(wait));
        return;
      }
      this.queue.shift();
      this.messageLimiter.record(now);
      if (head.subscribe) this.subscribeLimiter?.record(now);
      socket.send(head.text);
      if (head.subscribe) this.expectSubscribeAnswers(socket);
    }
  }

  /** A subscribe went out: its answer, and every earlier one's, is due `subscribeAnswerTimeoutMs` from now. */
  private expectSubscribeAnswers(socket: WebSocket): void {
    if (this.subscribeAnswerTimeoutMs === 0 || this.protocol.unansweredSubscribes === undefined) return;
    this.clock.clearTimer(this.subscribeAnswerTimer);
    this.subscribeAnswerTimer = this.clock.setTimeout(() => {
      this.subscribeAnswerTimer = undefined;
      // A refused subscription waiting for its resend is answered; the resend sets a new deadline when it goes.
      if (this.socket !== socket || this.resendTimers.size > 0) return;
      const unanswered = this.protocol.unansweredSubscribes?.() ?? 0;
      if (unanswered === 0) return;
      const venue = this.protocol.venue;
      if (this.healthy) {
        this.logger.warn(
          { venue, unanswered },
          'subscriptions unanswered on a connection that delivers data',
        );
        return;
      }
      const reason = `no data, ${unanswered} subscribe(s) unanswered after ${this.subscribeAnswerTimeoutMs} ms`;
      this.noteError(reason);
      this.logger.warn({ venue, unanswered }, 'subscriptions unanswered; reconnecting');
      this.recycleNow(reason, false);
    }, this.subscribeAnswerTimeoutMs);
  }

  private onRejected(message: string, resend: string | undefined): void {
    this.rejectedSubscriptions++;
    this.noteError(message);
    this.logger.warn({ venue: this.protocol.venue }, `subscription refused: ${message}`);
    this.emitEvent({ kind: 'rejected', at: this.clock.now(), message });
    if (resend === undefined) return;
    const delay = backoffDelay(
      ++this.rejectStreak,
      { minMs: this.resubscribeDelayMs, maxMs: this.maxMs, jitter: 'proportional' },
      this.random,
    );
    const timer = this.clock.setTimeout(() => {
      this.resendTimers.delete(timer);
      this.send(resend, true);
    }, delay);
    this.resendTimers.add(timer);
  }

  // ---- fallback polling ----

  private enterPolling(reason: string): void {
    this.mode = 'polling';
    this.modeSwitches++;
    if (this.outageFrom === undefined && this.lastDataWall !== undefined) this.outageFrom = this.lastDataWall;
    this.logger.warn({ venue: this.protocol.venue, reason }, 'falling back to REST polling');
    this.emitEvent({ kind: 'mode', at: this.clock.now(), mode: 'polling', reason });
    this.polling.start();
  }

  private leavePolling(): void {
    this.polling.stop();
    this.mode = 'websocket';
    this.modeSwitches++;
    const reason = 'websocket healthy again';
    this.logger.info({ venue: this.protocol.venue }, 'back on the websocket; polling stopped');
    this.emitEvent({ kind: 'mode', at: this.clock.now(), mode: 'websocket', reason });
  }

  // ---- reporting ----

  private noteError(message: string): void {
    this.errors++;
    this.lastError = message;
  }

  private malformed(key: string, reason: string): void {
    this.malformedFrames++;
    if (this.loggedKinds.has(key) || this.loggedKinds.size >= MAX_LOGGED_KINDS) return;
    this.loggedKinds.add(key);
    this.logger.warn({ venue: this.protocol.venue, kind: key }, `frame not understood: ${reason}`);
  }

  private emitStatus(status: StreamStatus): void {
    try {
      this.handlers.status(status);
    } catch (err) {
      this.handlerFailed('status', err);
    }
  }

  private emitEvent(event: StreamEvent): void {
    try {
      this.handlers.event?.(event);
    } catch (err) {
      this.handlerFailed('event', err);
    }
  }

  private handlerFailed(kind: string, err: unknown): void {
    this.errors++;
    this.logger.error({ venue: this.protocol.venue, err }, `${kind} handler threw`);
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be ≥ 0`);
  return value;
}

/** The fallback's poll kinds: the given schedule, else `full` (also at the switch) and `prices` (if not 0). */
function pollSchedule(fallback: FallbackOptions | undefined): PollEntry[] {
  if (fallback?.schedule !== undefined) {
    const entries = Object.entries(fallback.schedule);
    if (entries.length === 0) throw new RangeError('fallback.schedule must name at least one poll kind');
    return entries.map(([kind, periodMs]) => ({
      kind,
      periodMs: positive(periodMs, 0, `fallback.schedule.${kind}`),
      atSwitch: true,
    }));
  }
  const full = positive(fallback?.pollIntervalMs, 15_000, 'fallback.pollIntervalMs');
  const prices = nonNegative(fallback?.pricePollIntervalMs, 2_000, 'fallback.pricePollIntervalMs');
  const schedule = [{ kind: 'full', periodMs: full, atSwitch: true }];
  if (prices > 0) schedule.push({ kind: 'prices', periodMs: prices, atSwitch: false });
  return schedule;
}

function ignore(): void {}

/** The text of a frame; ws hands Buffers for text frames unless told otherwise. */
export function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
