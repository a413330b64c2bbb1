import type {
  AccountEvent,
  AccountSource,
  AccountResume,
  AccountSourceHandlers,
  AccountStreamStatus,
} from '../../account/contract.ts';
import type { AccountRef, Fill, Order } from '../../domain/account.ts';
import { add, compare, ZERO, type Decimal } from '../../domain/decimal.ts';
import { TickwireError } from '../../domain/errors.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { systemClock, type Clock, type Timer } from '../../util/clock.ts';
import type { ConnectionProtocol, FrameOutcome, PollKind } from '../connection/connection-protocol.ts';
import { ConnectionRunner, type ConnectionRunnerOptions } from '../connection/runner.ts';
import type { StreamEvent, StreamStatus } from '../venue.ts';
import { parseBitgetPrivateFrame, type BitgetLoginError } from './account-parse.ts';
import { BitgetAccountRest } from './account-rest.ts';
import { bitgetLoginRequest, type BitgetCredentials } from './account-sign.ts';
import { BitgetApiError } from './parse.ts';
import type { BitgetArg } from './wire.ts';

/** Seed 000's polling schedule, used after 5 failed reconnects. Fills are fetched with the orders. */
export const BITGET_ACCOUNT_POLL_SCHEDULE = { positions: 2_000, orders: 5_000, account: 10_000 } as const;
/** Delay before a failed reconcile is tried again. */
const RECONCILE_RETRY_MS = 5_000;
/** Fill ids remembered for `checkFills`: far more than a check period's fills. */
const REMEMBERED_FILLS = 10_000;
/** How often the venue's fills are checked against the stream's while it streams; see `checkFills`. */
export const BITGET_FILLS_CHECK_MS = 60_000;
/**
 * How far back of a REST answer's time its fill list is not taken as complete: Bitget stamps fills with its own
 * clock, and a fill may reach its fill history a little after the stream.
 */
const FILL_LISTING_LAG_MS = 60_000;

export interface BitgetAccountSourceOptions {
  readonly account: AccountRef;
  /** From the configuration or the environment; never logged, never in a status or an alert. */
  readonly credentials: BitgetCredentials;
  /** Private socket: wss://ws.bitget.com/v2/ws/private, or the simulator's. */
  readonly wsUrl: string;
  /** REST base without /api/v2: https://api.bitget.com, or the simulator's. */
  readonly restUrl: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Futures product type; `SUSDT-FUTURES` for demo trading. Default USDT-FUTURES. */
  readonly productType?: string;
  /** Also follow the spot account. Default true. */
  readonly spot?: boolean;
  /** Spot pairs whose fills a reconcile fetches over REST (Bitget's spot fills endpoint wants a symbol). */
  readonly spotSymbols?: readonly string[];
  /** Runner overrides (backoff, timeouts, fallback); the defaults are Bitget's and seed 000's schedule. */
  readonly connection?: Omit<ConnectionRunnerOptions, 'logger' | 'clock' | 'random'>;
  /**
   * While the stream is live, the venue's fills are fetched this often and compared with the fills the stream
   * delivered (`checkFills`). Default BITGET_FILLS_CHECK_MS (60 s); 0 disables.
   */
  readonly fillsCheckMs?: number;
  /** REST client overrides (timeouts, retries, pacing). */
  readonly rest?: {
    readonly requestsPerSecond?: number;
    readonly timeoutMs?: number;
    readonly maxRetries?: number;
  };
}

/**
 * One Bitget v2 account as an `AccountSource`: the private socket (login, then `account` SPOT and USDT-FUTURES,
 * `positions`, `orders` and `fill` subscriptions) on the shared ConnectionRunner, with REST for the rest.
 *
 * - Login: signed afresh on every connection; subscriptions wait for the login answer (Bitget stalls a socket
 *   subscribed before it). A refusal raises `account_login_failed` once per streak (Bitget's code, no secret),
 *   sets `lastError` ACCOUNT_LOGIN_FAILED and is retried under the runner's login backoff (5 s doubling to 5 min),
 *   so a wrong key never hammers the venue.
 * - Gaps: after every accepted login the account is reconciled over REST: a `snapshot` event (source `rest`) and,
 *   after the first connection, the fills since the last complete REST answer (see below). Stream events that arrive meanwhile are held and
 *   applied after the snapshot, so the older REST view never overwrites them.
 * - Fallback: after 5 failed connections the runner polls REST (positions 2 s, orders + fills 5 s, account 10 s),
 *   with `account_polling`; the first healthy socket ends it, with `account_stream_recovered` and a reconcile.
 * - Fills the stream lost without a sign (a socket that stayed open but did not deliver for a while; Bitget's
 *   pushes carry no sequence): every `fillsCheckMs` the venue's fills since the last complete REST answer are
 *   fetched; one the stream did not deliver starts a reconcile, which hands it on with a snapshot (its orders and
 *   positions were likely lost too). Fills are fetched from where a REST answer last listed them all, never from
 *   the newest fill the stream delivered, which may be later than a lost one.
 */
export class BitgetAccountSource implements AccountSource {
  readonly account: AccountRef;
  private readonly options: BitgetAccountSourceOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly rest: BitgetAccountRest;
  private readonly runner: ConnectionRunner;
  private readonly args: readonly BitgetArg[];
  private handlers: AccountSourceHandlers | undefined;
  private closed = false;
  private startedAt = 0;
  /** Whether `start()` was given a point to resume fills from (the first login then reconciles them). */
  private resumeGiven = false;

  /** Logged in on the current socket. */
  private loggedIn = false;
  /** Subscriptions sent on the current socket less the answers to them. */
  private unansweredArgs = 0;
  /** Consecutive refused logins; the alert is raised on the first of a streak. */
  private loginRefusals = 0;
  private connections = 0;
  private lastError: AccountStreamStatus['lastError'];

  // Reconcile: one at a time; stream events held while it runs.
  private reconciling = false;
  private reconcileAgain = false;
  private reconcileTimer: Timer | undefined;
  private held: AccountEvent[] | undefined;

  /**
   * Every fill before this time has been seen: a REST answer listed them all (less FILL_LISTING_LAG_MS), or it is
   * the point the source started from. Reconciles and checks fetch fills from here.
   */
  private fillsCompleteUntil = 0;
  private readonly fillsCheckMs: number;
  private fillsCheckTimer: Timer | undefined;
  private checkingFills = false;
  /** The ids of the fills handed on, newest last (bounded), to tell a fill the stream lost from one it delivered. */
  private readonly seenFills = new Set<string>();
  /** Open orders as last reported, and the filled size of each seen in fills, for polling (see pollOrders). */
  private readonly openOrders = new Map<string, Order>();
  private readonly filledByOrder = new Map<string, Decimal>();

  constructor(options: BitgetAccountSourceOptions) {
    this.options = options;
    this.account = options.account;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    const productType = options.productType ?? 'USDT-FUTURES';
    const spot = options.spot ?? true;
    this.rest = new BitgetAccountRest({
      restUrl: options.restUrl,
      credentials: options.credentials,
      productType,
      spot,
      ...(options.spotSymbols ? { spotSymbols: options.spotSymbols } : {}),
      clock: this.clock,
      ...(options.rest?.requestsPerSecond ? { requestsPerSecond: options.rest.requestsPerSecond } : {}),
      http: {
        ...(options.rest?.timeoutMs ? { timeoutMs: options.rest.timeoutMs } : {}),
        ...(options.rest?.maxRetries !== undefined ? { maxRetries: options.rest.maxRetries } : {}),
        ...(options.random ? { random: options.random } : {}),
      },
    });
    this.args = [
      ...(spot
        ? [
            { instType: 'SPOT', channel: 'account', coin: 'default' },
            { instType: 'SPOT', channel: 'orders', instId: 'default' },
            { instType: 'SPOT', channel: 'fill', instId: 'default' },
          ]
        : []),
      { instType: productType, channel: 'account', coin: 'default' },
      { instType: productType, channel: 'positions', instId: 'default' },
      { instType: productType, channel: 'orders', instId: 'default' },
      { instType: productType, channel: 'fill', instId: 'default' },
    ];
    const connection = options.connection ?? {};
    this.fillsCheckMs = options.fillsCheckMs ?? BITGET_FILLS_CHECK_MS;
    if (!(this.fillsCheckMs >= 0) || !Number.isFinite(this.fillsCheckMs))
      throw new TickwireError('CONFIG_INVALID', 'fillsCheckMs must be a number ≥ 0');
    this.runner = new ConnectionRunner(
      this.protocol(),
      { status: (s) => this.onRunnerStatus(s), event: (e) => this.onRunnerEvent(e) },
      {
        // Pings every 30 s keep frames coming; a quiet account has nothing else to say.
        silenceTimeoutMs: 65_000,
        ...connection,
        logger: this.logger,
        clock: this.clock,
        ...(options.random ? { random: options.random } : {}),
        fallback: { afterFailures: 5, schedule: BITGET_ACCOUNT_POLL_SCHEDULE, ...connection.fallback },
      },
    );
  }

  start(handlers: AccountSourceHandlers, resume: AccountResume = {}): void {
    if (this.handlers !== undefined || this.closed) return;
    this.handlers = handlers;
    this.startedAt = resume.fillsSince ?? this.clock.now();
    this.fillsCompleteUntil = this.startedAt;
    this.resumeGiven = resume.fillsSince !== undefined;
    this.runner.start();
    if (this.fillsCheckMs > 0)
      this.fillsCheckTimer = this.clock.setInterval(() => this.checkFills(), this.fillsCheckMs);
  }

  status(): AccountStreamStatus {
    const s = this.runner.status();
    const heartbeat = s.last_heartbeat === null ? undefined : Date.parse(s.last_heartbeat);
    return {
      connected: s.connected && this.loggedIn,
      mode: s.mode === 'polling' ? 'polling' : 'stream',
      healthy: s.is_healthy && this.loggedIn,
      url: this.options.wsUrl,
      subscriptions: this.args.map(argName),
      reconnects: s.reconnect_count,
      ...(heartbeat !== undefined ? { lastHeartbeat: heartbeat } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimer(this.reconcileTimer);
    this.clock.clearTimer(this.fillsCheckTimer);
    this.reconcileTimer = this.fillsCheckTimer = undefined;
    this.rest.close();
    await this.runner.close();
  }

  // ---- the socket protocol ----

  private protocol(): ConnectionProtocol {
    return {
      venue: 'bitget',
      // Text "ping" every 30 s; Bitget drops a socket after 2 minutes without one.
      heartbeat: { kind: 'text-ping', ping: 'ping', pong: 'pong', intervalMs: 30_000 },
      // Bitget allows 10 messages/s and 240 subscribe requests an hour per connection.
      limits: { messagesPerSecond: 8, subscribesPerHour: 240 },
      url: () => this.options.wsUrl,
      subscriptions: () => this.args.map(argName),
      symbols: () => [],
      loginFrames: () => [JSON.stringify(bitgetLoginRequest(this.options.credentials, this.clock.now()))],
      subscribeFrames: () => {
        this.unansweredArgs = this.args.length;
        return [JSON.stringify({ op: 'subscribe', args: this.args })];
      },
      // Bitget answers each arg apart; a socket whose subscribe was lost is recycled.
      unansweredSubscribes: () => this.unansweredArgs,
      onOpen: () => {
        this.loggedIn = false;
        this.connections++;
      },
      handleFrame: (text) => this.handleFrame(text),
      poll: (kind, signal) => this.poll(kind, signal),
    };
  }

  private handleFrame(text: string): FrameOutcome {
    const frame = parseBitgetPrivateFrame(text);
    switch (frame.kind) {
      case 'pong':
        return { kind: 'pong' };
      case 'loggedIn':
        this.onLoggedIn();
        return { kind: 'loggedIn' };
      case 'loginRefused':
        this.onLoginRefused(frame.error);
        return { kind: 'loginFailed', message: frame.error.message };
      case 'ack':
        this.unansweredArgs = Math.max(0, this.unansweredArgs - 1);
        // An accepted private subscription proves the stream healthy.
        return { kind: 'data', symbol: argName(frame.arg) };
      case 'error':
        if (frame.arg !== undefined) {
          this.unansweredArgs = Math.max(0, this.unansweredArgs - 1);
          return { kind: 'rejected', message: `${argName(frame.arg)}: ${frame.code} ${frame.message}` };
        }
        return { kind: 'error', message: `bitget error ${frame.code} ${frame.message}` };
      case 'events':
        for (const event of frame.events) this.emitStream(event);
        return { kind: 'data', symbol: frame.channel };
      case 'ignored':
        return { kind: 'control' };
      case 'unknown':
        return { kind: 'malformed', key: frame.key, reason: frame.reason };
    }
  }

  private onLoggedIn(): void {
    this.loggedIn = true;
    if (this.loginRefusals > 0) {
      this.loginRefusals = 0;
      this.alert(
        'info',
        'account_stream_recovered',
        'Bitget accepted the login again; the account stream is live',
      );
    }
    if (this.lastError?.code === 'ACCOUNT_LOGIN_FAILED') this.lastError = undefined;
    this.reportStatus();
    // The first connection reconciles the snapshot only; later ones also the fills missed while away.
    // A later login reconciles the fills missed while down; the first one those since the resume point, when
    // given (the newest stored fill, or the process's start): the stream cannot repeat them.
    this.reconcile(this.connections > 1 || this.resumeGiven);
  }

  private onLoginRefused(error: BitgetLoginError): void {
    this.loggedIn = false;
    this.loginRefusals++;
    this.setError('ACCOUNT_LOGIN_FAILED', error.message);
    if (this.loginRefusals === 1) {
      this.logger.warn(
        { venue: 'bitget', account: this.account.id, code: error.code },
        'bitget login refused',
      );
      this.alert('critical', 'account_login_failed', error.message, { code: error.code });
    }
    this.reportStatus();
  }

  // ---- runner reports ----

  private onRunnerStatus(status: StreamStatus): void {
    if (status.kind === 'disconnected') {
      this.loggedIn = false;
      if (this.lastError?.code !== 'ACCOUNT_LOGIN_FAILED')
        this.setError('VENUE_UNREACHABLE', `private stream disconnected: ${status.reason}`);
    }
    this.reportStatus();
  }

  private onRunnerEvent(event: StreamEvent): void {
    if (event.kind === 'mode') {
      if (event.mode === 'polling')
        this.alert(
          'warning',
          'account_polling',
          `Bitget private stream unavailable (${event.reason}); polling REST`,
        );
      else
        this.alert(
          'info',
          'account_stream_recovered',
          'Bitget private stream is live again; polling stopped',
        );
    }
    this.reportStatus();
  }

  // ---- polling ----

  private async poll(kind: PollKind, signal: AbortSignal): Promise<void> {
    switch (kind) {
      case 'positions': {
        const positions = await abortable(this.rest.positions(), signal);
        if (positions === undefined) return;
        this.emit({ kind: 'positions', positions, complete: true, time: this.clock.now() });
        return;
      }
      case 'orders':
        return this.pollOrders(signal);
      case 'account': {
        const got = await abortable(Promise.all([this.rest.summary(), this.rest.balances()]), signal);
        if (got === undefined) return;
        const [summary, balances] = got;
        if (summary !== undefined) this.emit({ kind: 'summary', summary });
        if (balances.length > 0) this.emit({ kind: 'balances', balances });
        return;
      }
      default:
        throw new Error(`unknown poll kind ${kind}`);
    }
  }

  /**
   * The fills since the last complete REST answer not handed on yet, then the open orders. An order that left the open list is final: filled when
   * its fills reach its size, canceled otherwise (REST lists only open orders; the stream says which).
   */
  private async pollOrders(signal: AbortSignal): Promise<void> {
    const askedAt = this.clock.now();
    const got = await abortable(
      Promise.all([this.rest.fillsSince(this.fillsCompleteUntil), this.rest.openOrders()]),
      signal,
    );
    if (got === undefined) return;
    const [listed, open] = got;
    const fills = listed.filter((f) => !this.seenFills.has(f.fillId));
    if (fills.length > 0) this.emit({ kind: 'fills', fills, source: 'rest' });
    this.fillsListedUntil(askedAt);
    const now = this.clock.now();
    const still = new Set(open.map((o) => o.orderId));
    for (const gone of [...this.openOrders.values()].filter((o) => !still.has(o.orderId))) {
      const filled = this.filledByOrder.get(gone.orderId) ?? gone.filledSize;
      const status = compare(filled, gone.size) >= 0 ? 'filled' : 'canceled';
      this.emit({ kind: 'order', order: { ...gone, filledSize: filled, status, updatedAt: now } });
    }
    for (const order of open) {
      const known = this.openOrders.get(order.orderId);
      if (known === undefined || known.updatedAt !== order.updatedAt || known.status !== order.status)
        this.emit({ kind: 'order', order });
    }
  }

  // ---- reconcile ----

  private reconcile(withFills: boolean): void {
    if (this.closed) return;
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = true;
    this.held = [];
    const since = this.fillsCompleteUntil;
    const askedAt = this.clock.now();
    void (async () => {
      try {
        const [snapshot, fills] = await Promise.all([
          this.rest.snapshot(),
          withFills ? this.rest.fillsSince(since) : Promise.resolve([]),
        ]);
        if (this.closed) return;
        this.emit({ kind: 'snapshot', snapshot, source: 'rest' });
        if (fills.length > 0) this.emit({ kind: 'fills', fills, source: 'rest' });
        if (withFills) this.fillsListedUntil(askedAt);
        if (this.lastError?.code === 'RECONCILE_FAILED') this.lastError = undefined;
      } catch (err) {
        if (this.closed) return;
        const message = `account reconcile over REST failed: ${describe(err)}`;
        this.setError('RECONCILE_FAILED', message);
        this.logger.warn({ venue: 'bitget', account: this.account.id }, message);
        this.reconcileTimer = this.clock.setTimeout(() => {
          this.reconcileTimer = undefined;
          this.reconcile(true);
        }, RECONCILE_RETRY_MS);
      } finally {
        this.reconciling = false;
        const held = this.held ?? [];
        this.held = undefined;
        if (!this.closed) for (const event of held) this.emit(event);
        if (this.reconcileAgain && !this.closed) {
          this.reconcileAgain = false;
          this.reconcile(true);
        }
        this.reportStatus();
      }
    })();
  }

  /**
   * Fetches the venue's fills since the last complete REST answer while the stream is live. None the stream did not
   * deliver: the answer is complete to its time. One it did not: a reconcile hands it on with the account's state
   * (its order and position updates were likely lost with it). Skipped while polling (the polls fetch fills),
   * logged out or reconciling; a failure waits for the next period.
   */
  private checkFills(): void {
    if (this.closed || this.checkingFills || this.reconciling || !this.loggedIn) return;
    if (this.runner.status().mode === 'polling') return;
    this.checkingFills = true;
    const askedAt = this.clock.now();
    this.rest.fillsSince(this.fillsCompleteUntil).then(
      (fills) => {
        this.checkingFills = false;
        if (this.closed) return;
        const lost = fills.filter((f) => !this.seenFills.has(f.fillId));
        if (lost.length === 0) {
          this.fillsListedUntil(askedAt);
          return;
        }
        this.logger.warn(
          { venue: 'bitget', account: this.account.id, fills: lost.length },
          'fills the private stream did not deliver; reconciling over REST',
        );
        this.reconcile(true);
      },
      (err: unknown) => {
        this.checkingFills = false;
        if (this.closed) return;
        this.logger.warn(
          { venue: 'bitget', account: this.account.id, err: describe(err) },
          'checking the fills over REST failed; trying again next period',
        );
      },
    );
  }

  /** A REST answer asked at `askedAt` listed every fill since `fillsCompleteUntil`. */
  private fillsListedUntil(askedAt: number): void {
    this.fillsCompleteUntil = Math.max(this.fillsCompleteUntil, askedAt - FILL_LISTING_LAG_MS);
  }

  // ---- output ----

  /** A stream event: held while a reconcile runs, so that it lands after the REST snapshot. */
  private emitStream(event: AccountEvent): void {
    if (this.held !== undefined) this.held.push(event);
    else this.emit(event);
  }

  private emit(event: AccountEvent): void {
    if (this.closed) return;
    this.track(event);
    try {
      this.handlers?.event(event);
    } catch (err) {
      this.logger.error({ venue: 'bitget', account: this.account.id, err }, 'account event handler threw');
    }
  }

  /** Keeps what polling and the reconcile need: the newest fill time, open orders and their filled sizes. */
  private track(event: AccountEvent): void {
    switch (event.kind) {
      case 'fills':
        for (const fill of event.fills) this.noteFill(fill);
        return;
      case 'order':
        this.noteOrder(event.order);
        return;
      case 'snapshot':
        this.openOrders.clear();
        for (const order of event.snapshot.openOrders) this.noteOrder(order);
        return;
      default:
        return;
    }
  }

  private readonly countedFills = new Set<string>();

  private noteFill(fill: Fill): void {
    if (!this.seenFills.has(fill.fillId)) {
      this.seenFills.add(fill.fillId);
      if (this.seenFills.size > REMEMBERED_FILLS)
        this.seenFills.delete(this.seenFills.values().next().value as string);
    }
    if (!this.openOrders.has(fill.orderId) || this.countedFills.has(fill.fillId)) return;
    this.countedFills.add(fill.fillId);
    this.filledByOrder.set(fill.orderId, add(this.filledByOrder.get(fill.orderId) ?? ZERO, fill.size));
  }

  private noteOrder(order: Order): void {
    if (order.status === 'open' || order.status === 'partially_filled') {
      this.openOrders.set(order.orderId, order);
      return;
    }
    this.openOrders.delete(order.orderId);
    this.filledByOrder.delete(order.orderId);
  }

  private setError(code: string, message: string): void {
    this.lastError = { code, message, time: this.clock.now() };
  }

  private reportStatus(): void {
    if (this.closed) return;
    try {
      this.handlers?.status(this.status());
    } catch (err) {
      this.logger.error({ venue: 'bitget', account: this.account.id, err }, 'account status handler threw');
    }
  }

  private alert(
    severity: 'info' | 'warning' | 'critical',
    kind: 'account_login_failed' | 'account_polling' | 'account_stream_recovered',
    message: string,
    details?: Readonly<Record<string, string>>,
  ): void {
    try {
      this.handlers?.alert({
        severity,
        kind,
        venue: 'bitget',
        message,
        time: this.clock.now(),
        ...(details ? { details } : {}),
      });
    } catch (err) {
      this.logger.error({ venue: 'bitget', account: this.account.id, err }, 'account alert handler threw');
    }
  }
}

/** "positions:USDT-FUTURES", the name of a subscription in status. */
function argName(arg: BitgetArg): string {
  return `${arg.channel}:${arg.instType}`;
}

/** The value of `promise`, or undefined once `signal` aborts (the answer is then dropped, never emitted). */
async function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const value = await Promise.race([promise, aborted]);
    return signal.aborted ? undefined : value;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    // A request still running after the abort settles on its own; its failure must not go unhandled.
    promise.catch(() => undefined);
  }
}

function describe(err: unknown): string {
  if (err instanceof BitgetApiError || err instanceof TickwireError) return err.message;
  return (err as Error).message ?? String(err);
}
