import type {
  AccountEvent,
  AccountSource,
  AccountResume,
  AccountSourceHandlers,
  AccountStreamStatus,
} from '../../account/contract.ts';
import type { AccountRef, AccountSnapshot, Balance, Order, Position } from '../../domain/account.ts';
import type { AlertInput } from '../../domain/alert.ts';
import { TickwireError } from '../../domain/errors.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { backoffDelay } from '../../util/backoff.ts';
import { systemClock, type Clock, type Timer } from '../../util/clock.ts';
import type { ConnectionProtocol, FrameOutcome, PollKind } from '../connection/connection-protocol.ts';
import { ConnectionRunner, type ConnectionRunnerOptions } from '../connection/runner.ts';
import { isJsonObject, type JsonObject } from '../json-fields.ts';
import type { StreamEvent, StreamStatus } from '../venue.ts';
import {
  deriveEquity,
  isBlockedMessage,
  isOpenStatus,
  parseOrder,
  parseSubscribed,
  parseUpdate,
  unrealizedOf,
  type DydxAccountUpdate,
} from './account-parse.ts';
import {
  checkSubaccountRef,
  DydxAccountRest,
  type DydxAccountRestOptions,
  type FillsFrom,
  type HeightFill,
} from './account-rest.ts';
import { SUPPORTED_MAJORS } from './parse.ts';

/** The channel of a trader's subaccount on the indexer socket. */
const CHANNEL = 'v4_subaccounts';
/** Fill ids remembered to hand each fill on once (a REST reconcile overlaps the stream). */
const REMEMBERED_FILLS = 10_000;
/** The poll kind of the REST fallback: the whole subaccount (snapshot + the fills a reconcile fetches). */
const POLL_KIND = 'subaccount';
/** Seed 003's fallback: one REST poll of the subaccount every 15 s after 5 failed reconnects. */
export const DYDX_ACCOUNT_POLL_SCHEDULE = { [POLL_KIND]: 15_000 } as const;
/**
 * Period of the REST summary refresh while streaming: the stream never sends free collateral, nor equity between
 * position reports (mark prices move it), so both are read from the subaccount every 20 s.
 */
export const DYDX_SUMMARY_REFRESH_MS = 20_000;
/** How often the indexer's fills are checked against the stream's while it streams; see `checkFills`. */
export const DYDX_FILLS_CHECK_MS = 60_000;

export interface DydxAccountSourceOptions {
  /** The account as the configuration names it (venue 'dydx'). */
  readonly account: AccountRef;
  /** The indexer socket URL: wss://indexer.dydx.trade/v4/ws, or the simulator's ws://127.0.0.1:PORT/dydx/v4/ws. */
  readonly wsUrl: string;
  /**
   * REST client of the same subaccount (snapshots, fills and polling), closed with the source. Its address is the
   * one subscribed.
   */
  readonly rest: DydxAccountRest;
  readonly logger: Logger;
  /** Time for events, status and every timer (runner, reconcile retries). Default the system clock. */
  readonly clock?: Clock;
  /** Jitter source in [0, 1) for reconnects and reconcile retries. Default Math.random. */
  readonly random?: () => number;
  /** Protocol ping period. Default 15 s (the server pings every 30 s; the ws library answers those itself). */
  readonly pingIntervalMs?: number;
  /** No pong within this recycles the connection. Default 10 s. */
  readonly pongTimeoutMs?: number;
  /** Failed connections in a row before REST polling. Default 5. */
  readonly fallbackAfterFailures?: number;
  /** Period of the REST poll while the socket is down. Default 15 s (seed 003). */
  readonly pollIntervalMs?: number;
  /**
   * Fills from this time (ms) are fetched when no fill was seen yet. Given (the account state's last stored fill,
   * after a restart), a reconcile runs right after the first snapshot so that fills made while Tickwire was down
   * are handed on. Default: the time `start()` was called, and no catch-up.
   */
  readonly fillsSince?: number;
  /**
   * Period of the REST summary refresh while the stream is live (equity and free collateral, which the stream
   * never sends); 0 disables it. Default 20 s.
   */
  readonly summaryRefreshMs?: number;
  /** First delay before retrying a failed reconcile; doubles up to the runner's backoff cap. Default 1 s. */
  readonly reconcileRetryMs?: number;
  /**
   * While the stream is live, the indexer's fills are fetched this often and compared with the fills the stream
   * delivered (`checkFills`). Default DYDX_FILLS_CHECK_MS (60 s); 0 disables.
   */
  readonly fillsCheckMs?: number;
  /** Runner tuning (connect timeout, backoff, silence, close); see ConnectionRunnerOptions. */
  readonly runner?: Omit<
    ConnectionRunnerOptions,
    'logger' | 'clock' | 'random' | 'fallback' | 'staleSymbolMs'
  >;
}

/** Counters of the dYdX account checks, for tests and diagnostics. */
export interface DydxAccountCounters {
  readonly messageIdGaps: number;
  readonly reconciles: number;
  readonly reconcileErrors: number;
  readonly malformedFrames: number;
  /** Order updates that named an order never seen with too little to build it (nothing to merge them over). */
  readonly unknownOrderUpdates: number;
  /** REST polls started while the socket was down. */
  readonly polls: number;
  /** REST summary refreshes started while streaming, and those that failed. */
  readonly summaryRefreshes: number;
  readonly summaryRefreshErrors: number;
}

/**
 * What the source has told the account state, kept to merge partial order updates and to derive equity between
 * the indexer's snapshots. Replaced by each snapshot; updated by each event handed on.
 */
class Mirror {
  readonly orders = new Map<string, Order>();
  readonly positions = new Map<string, Position>();
  readonly balances = new Map<string, Balance>();
  /** Free collateral of the last snapshot: the stream never reports it. */
  available: AccountSnapshot['summary']['available'] | undefined;

  reset(snapshot: AccountSnapshot): void {
    this.orders.clear();
    this.positions.clear();
    this.balances.clear();
    for (const o of snapshot.openOrders) this.orders.set(o.orderId, o);
    for (const p of snapshot.positions) this.positions.set(p.symbol, p);
    for (const b of snapshot.balances) this.balances.set(b.currency, b);
    this.available = snapshot.summary.available;
  }

  apply(event: AccountEvent): void {
    switch (event.kind) {
      case 'snapshot':
        this.reset(event.snapshot);
        return;
      case 'order':
        if (isOpenStatus(event.order.status)) this.orders.set(event.order.orderId, event.order);
        else this.orders.delete(event.order.orderId);
        return;
      case 'positions':
        for (const p of event.positions) this.positions.set(p.symbol, p);
        return;
      case 'positionEnded':
        this.positions.delete(event.symbol);
        return;
      case 'balances':
        for (const b of event.balances) this.balances.set(b.currency, b);
        return;
      case 'summary':
        this.available = event.summary.available;
        return;
      case 'fills':
        return;
    }
  }
}

/**
 * One dYdX v4 subaccount as an AccountSource: the `v4_subaccounts` channel of the indexer socket (id
 * `address/subaccountNumber`, no authentication) on the shared ConnectionRunner (protocol pings, reconnect with
 * full-jitter backoff, re-subscribe on every connection), and the account REST for what the socket cannot give.
 *
 * - The `subscribed` answer is a snapshot (source 'stream'); `{}` (not indexed yet) is an empty one.
 * - `channel_data` / `channel_batch_data` become fills, order, position, balance and summary events; equity is
 *   derived from the reported positions and USDC (the stream never sends equity), free collateral is the last
 *   snapshot's or refresh's.
 * - While streaming, equity and free collateral are refreshed from REST every `summaryRefreshMs` (the stream never
 *   sends free collateral, and equity moves with the oracle between position reports).
 * - The indexer numbers every message of a connection; a jump of `message_id`, a reconnect after a healthy
 *   connection, or the return from polling triggers a reconcile: a REST snapshot and every fill since the last
 *   complete REST answer (source 'rest'), stream events arriving meanwhile held and handed on after it, in order.
 * - Every `fillsCheckMs` while streaming, the indexer's fills since the last complete REST answer are fetched: one
 *   the stream did not deliver (a message lost without a message_id jump, a socket that stayed open but did not
 *   deliver for a while) starts a reconcile. Fills are fetched from the newest block a REST answer listed, never
 *   from the newest fill the stream delivered, which may be later than a lost one.
 * - After `fallbackAfterFailures` failed connections the same reconcile runs every `pollIntervalMs` (the runner's
 *   poll schedule, one kind `subaccount`; alert
 *   account_polling) until a socket delivers again (alert account_stream_recovered).
 * - A blocked address (the indexer's compliance refusal, REST 403) is an account_login_failed alert; the
 *   subscription is retried with backoff. The address never appears in logs, errors or status.
 */
export class DydxAccountSource implements AccountSource, ConnectionProtocol {
  readonly venue = 'dydx' as const;
  readonly account: AccountRef;
  readonly heartbeat;
  readonly limits = { messagesPerSecond: 10 };
  private readonly rest: DydxAccountRest;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly options: DydxAccountSourceOptions;
  private readonly runner: ConnectionRunner;
  private readonly channelId: string;
  private readonly subscribeFrame: string;
  private readonly summaryRefreshMs: number;
  private handlers: AccountSourceHandlers | undefined;
  private readonly mirror = new Mirror();

  // Per connection.
  private lastMessageId: number | undefined;
  private subscribed = false;

  // Fills: the ids handed on (oldest first, bounded), and where the fills are fetched from.
  private readonly fillIds = new Set<string>();
  /**
   * Every fill before this point has been seen: the newest block of a REST answer (fetched again, as a block's
   * fills come together), or the time the source started from.
   */
  private fillsCompleteFrom: FillsFrom = { time: 0 };
  private readonly fillsCheckMs: number;
  private fillsCheckTimer: Timer | undefined;
  private checkingFills = false;
  /** The first snapshot arrived (and, with `fillsSince`, the catch-up reconcile was started). */
  private caughtUp = false;

  // Reconcile.
  private reconciling = false;
  /** AccountResume.fillsSince (or the option), when given: the first subscription reconciles fills from it. */
  private resumeFrom: number | undefined;
  private reconcileAgain: string | undefined;
  private held: AccountEvent[] | undefined;
  private retryTimer: Timer | undefined;
  private retryAttempt = 0;

  // Summary refresh while streaming: one timer, at most one request in flight.
  private summaryTimer: Timer | undefined;
  private refreshingSummary = false;
  private summaryRefreshes = 0;
  private summaryRefreshErrors = 0;

  // Status.
  private connected = false;
  private mode: 'stream' | 'polling' = 'stream';
  private lastError: AccountStreamStatus['lastError'];
  private blocked = false;
  private closed = false;
  private messageIdGaps = 0;
  private reconciles = 0;
  private reconcileErrors = 0;
  private malformedFrames = 0;
  private unknownOrderUpdates = 0;

  constructor(options: DydxAccountSourceOptions) {
    if (options.account.venue !== 'dydx')
      throw new TickwireError('CONFIG_INVALID', `account ${options.account.id} is not a dydx account`);
    checkSubaccountRef(options.rest);
    this.options = options;
    this.account = options.account;
    this.rest = options.rest;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.channelId = `${options.rest.address}/${options.rest.subaccountNumber}`;
    this.subscribeFrame = JSON.stringify({ type: 'subscribe', channel: CHANNEL, id: this.channelId });
    this.summaryRefreshMs = options.summaryRefreshMs ?? DYDX_SUMMARY_REFRESH_MS;
    if (!(this.summaryRefreshMs >= 0) || !Number.isFinite(this.summaryRefreshMs))
      throw new TickwireError('CONFIG_INVALID', 'summaryRefreshMs must be a number ≥ 0');
    this.fillsCheckMs = options.fillsCheckMs ?? DYDX_FILLS_CHECK_MS;
    if (!(this.fillsCheckMs >= 0) || !Number.isFinite(this.fillsCheckMs))
      throw new TickwireError('CONFIG_INVALID', 'fillsCheckMs must be a number ≥ 0');
    this.heartbeat = {
      kind: 'ws-ping',
      intervalMs: options.pingIntervalMs ?? 15_000,
      timeoutMs: options.pongTimeoutMs ?? 10_000,
    } as const;
    this.runner = new ConnectionRunner(
      this,
      { status: (s) => this.onRunnerStatus(s), event: (e) => this.onRunnerEvent(e) },
      {
        ...options.runner,
        logger: this.logger.child({ account: this.account.id }),
        clock: this.clock,
        random: this.random,
        // An account can stay quiet for hours: no per-symbol staleness.
        staleSymbolMs: 0,
        fallback: {
          afterFailures: options.fallbackAfterFailures ?? 5,
          schedule: { [POLL_KIND]: options.pollIntervalMs ?? DYDX_ACCOUNT_POLL_SCHEDULE[POLL_KIND] },
        },
      },
    );
  }

  start(handlers: AccountSourceHandlers, resume: AccountResume = {}): void {
    if (this.handlers !== undefined || this.closed) return;
    this.handlers = handlers;
    this.resumeFrom = resume.fillsSince ?? this.options.fillsSince;
    this.fillsCompleteFrom = { time: this.resumeFrom ?? this.clock.now() };
    if (this.summaryRefreshMs > 0)
      this.summaryTimer = this.clock.setInterval(() => this.refreshSummary(), this.summaryRefreshMs);
    if (this.fillsCheckMs > 0)
      this.fillsCheckTimer = this.clock.setInterval(() => this.checkFills(), this.fillsCheckMs);
    this.runner.start();
  }

  status(): AccountStreamStatus {
    const runner = this.runner.status();
    const lastHeartbeat = runner.last_heartbeat === null ? undefined : Date.parse(runner.last_heartbeat);
    return {
      connected: this.connected,
      mode: this.mode,
      healthy: this.connected && this.subscribed && this.mode === 'stream' && runner.is_healthy,
      url: this.options.wsUrl,
      subscriptions: this.subscribed ? [CHANNEL] : [],
      reconnects: runner.reconnect_count,
      ...(lastHeartbeat === undefined ? {} : { lastHeartbeat }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  counters(): DydxAccountCounters {
    return {
      messageIdGaps: this.messageIdGaps,
      reconciles: this.reconciles,
      reconcileErrors: this.reconcileErrors,
      malformedFrames: this.malformedFrames,
      unknownOrderUpdates: this.unknownOrderUpdates,
      polls: this.runner.counters().polls,
      summaryRefreshes: this.summaryRefreshes,
      summaryRefreshErrors: this.summaryRefreshErrors,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
    this.clock.clearTimer(this.summaryTimer);
    this.clock.clearTimer(this.fillsCheckTimer);
    this.summaryTimer = this.fillsCheckTimer = undefined;
    this.rest.close();
    await this.runner.close();
  }

  // ---- ConnectionProtocol ----

  url(): string {
    return this.options.wsUrl;
  }

  subscriptions(): readonly string[] {
    return [CHANNEL];
  }

  symbols(): readonly string[] {
    return [];
  }

  onOpen(): void {
    this.lastMessageId = undefined;
    this.subscribed = false;
  }

  subscribeFrames(): readonly string[] {
    return [this.subscribeFrame];
  }

  /** The one subscription, until its `subscribed` answer (a socket whose subscribe was lost is recycled). */
  unansweredSubscribes(): number {
    return this.subscribed ? 0 : 1;
  }

  handleFrame(text: string, receivedAt: number): FrameOutcome {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return this.malformed('invalid-json', 'frame is not valid JSON');
    }
    if (!isJsonObject(frame)) return this.malformed('not-an-object', 'frame is not a JSON object');
    this.checkMessageId(frame);
    const type = frame['type'];
    switch (type) {
      case 'connected':
      case 'unsubscribed':
        return { kind: 'control' };
      case 'pong':
        return { kind: 'pong' };
      case 'error':
        return this.onErrorFrame(
          typeof frame['message'] === 'string' ? frame['message'] : 'error without message',
        );
      case 'subscribed':
      case 'channel_data':
      case 'channel_batch_data':
        if (frame['channel'] !== CHANNEL || frame['id'] !== this.channelId) return { kind: 'control' };
        try {
          return type === 'subscribed'
            ? this.onSubscribed(frame, receivedAt)
            : this.onData(frame, receivedAt);
        } catch (err) {
          return this.malformed(`${CHANNEL}:${type}`, this.redact((err as Error).message));
        }
      default:
        return this.malformed(String(type), `message type ${JSON.stringify(type)} is unknown`);
    }
  }

  /** While the socket is down: the reconcile (REST snapshot + fills), every poll period. */
  async poll(kind: PollKind, signal: AbortSignal): Promise<void> {
    if (kind !== POLL_KIND || signal.aborted) return;
    await this.fetchAndDeliver(signal);
  }

  // ---- frames ----

  private onSubscribed(frame: JsonObject, receivedAt: number): FrameOutcome {
    const state = parseSubscribed(frame['contents'], receivedAt);
    this.subscribed = true;
    if (this.blocked) {
      this.blocked = false;
      this.lastError = undefined;
    }
    if (!state.indexed)
      this.logger.info({ account: this.account.id }, 'dydx subaccount not indexed yet: empty');
    this.emit({ kind: 'snapshot', snapshot: state.snapshot, source: 'stream' });
    if (!this.caughtUp) {
      this.caughtUp = true;
      // The subscription carries no fills: given a point to resume from (the newest stored fill, or the process's
      // start), those since then come over REST, so that none made before the subscription is missed.
      if (this.resumeFrom !== undefined) this.reconcile('fills since the resume point');
    }
    return { kind: 'data', symbol: CHANNEL };
  }

  private onData(frame: JsonObject, receivedAt: number): FrameOutcome {
    const version = frame['version'];
    const major = typeof version === 'string' ? Number(version.split('.')[0]) : NaN;
    if (!SUPPORTED_MAJORS.v4_subaccounts.includes(major))
      return this.malformed(
        `${CHANNEL}:version`,
        `schema version ${JSON.stringify(version)} is not supported`,
      );
    const contents = frame['contents'];
    const updates = frame['type'] === 'channel_batch_data' ? contents : [contents];
    if (!Array.isArray(updates)) throw new Error('channel_batch_data contents must be an array');
    // Read everything first: a malformed part drops the whole frame, never half of it.
    const parsed = (updates as unknown[]).map((u) => parseUpdate(u, receivedAt, this.rest.subaccountNumber));
    for (const update of parsed) this.applyUpdate(update, receivedAt);
    return { kind: 'data', symbol: CHANNEL };
  }

  private applyUpdate(u: DydxAccountUpdate, receivedAt: number): void {
    const fills = this.newFills(u.fills);
    if (fills.length > 0) this.emit({ kind: 'fills', fills: fills.map((f) => f.fill), source: 'stream' });
    for (const raw of u.orders) {
      const id = typeof raw['id'] === 'string' ? raw['id'] : '';
      const order = parseOrder(raw, this.mirror.orders.get(id), receivedAt);
      if (order === undefined) {
        // A final report of an order this source never saw open (e.g. expired before the subscription).
        this.unknownOrderUpdates++;
        continue;
      }
      this.emit({ kind: 'order', order });
    }
    const open = u.positions.flatMap((p) => (p.kind === 'open' ? [p.position] : []));
    if (open.length > 0) this.emit({ kind: 'positions', positions: open, complete: false, time: receivedAt });
    for (const p of u.positions) {
      if (p.kind === 'ended')
        this.emit({
          kind: 'positionEnded',
          symbol: p.symbol,
          side: p.side,
          end: p.end,
          ...(p.realizedPnl === undefined ? {} : { realizedPnl: p.realizedPnl }),
          time: p.time,
        });
    }
    if (u.balances.length > 0) this.emit({ kind: 'balances', balances: u.balances });
    if (u.positions.length > 0 || u.balances.length > 0) this.emitDerivedSummary(receivedAt);
  }

  /** Equity from the mirror's USDC and positions; free collateral as the last snapshot said. */
  private emitDerivedSummary(time: number): void {
    const available = this.mirror.available;
    if (available === undefined) return;
    const positions = [...this.mirror.positions.values()];
    const balances = [...this.mirror.balances.values()];
    this.emit({
      kind: 'summary',
      summary: {
        equity: deriveEquity(balances, positions),
        currency: 'USDC',
        available,
        unrealizedPnl: unrealizedOf(positions),
        time,
      },
    });
  }

  /** Fills not handed on yet; remembers them. */
  private newFills(fills: readonly HeightFill[]): HeightFill[] {
    const out: HeightFill[] = [];
    for (const f of fills) {
      if (this.fillIds.has(f.fill.fillId)) continue;
      this.fillIds.add(f.fill.fillId);
      if (this.fillIds.size > REMEMBERED_FILLS) {
        const oldest = this.fillIds.values().next().value;
        if (oldest !== undefined) this.fillIds.delete(oldest);
      }
      out.push(f);
    }
    return out;
  }

  private onErrorFrame(message: string): FrameOutcome {
    const text = `dydx error: ${this.redact(message)}`;
    if (isBlockedMessage(message)) {
      this.onBlocked();
      this.noteError('VENUE_REJECTED', 'dydx refused the subaccount: address blocked by the indexer');
      return { kind: 'rejected', message: text, resend: this.subscribeFrame };
    }
    if (!this.subscribed && message.includes(`subscription: ${CHANNEL}`))
      return { kind: 'rejected', message: text, resend: this.subscribeFrame };
    return { kind: 'error', message: text };
  }

  /** The indexer refused the address (socket error frame or REST 403): alerted once until it is accepted again. */
  private onBlocked(): void {
    if (this.blocked) return;
    this.blocked = true;
    this.alert({
      severity: 'critical',
      kind: 'account_login_failed',
      message: 'dYdX indexer refused the account: the address is blocked (compliance or geo check)',
    });
  }

  /** The indexer numbers every message of a connection; a jump means one was lost: reconcile from REST. */
  private checkMessageId(frame: JsonObject): void {
    const id = frame['message_id'];
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) return;
    const last = this.lastMessageId;
    if (frame['type'] !== 'connected' && last !== undefined && id > last + 1) {
      this.messageIdGaps++;
      this.logger.warn(
        { account: this.account.id, last, received: id },
        'dydx message_id gap on the account stream; reconciling from REST',
      );
      this.reconcile(`message_id jumped from ${last} to ${id}`);
    }
    if (last === undefined || id > last || frame['type'] === 'connected') this.lastMessageId = id;
  }

  // ---- summary refresh ----

  /**
   * While the stream is live, reads equity and free collateral from REST (the stream never sends free collateral,
   * and equity only moves there with a position report). Skipped while polling or reconciling (both take a whole
   * snapshot) and while the previous refresh is still running; a failure waits for the next period.
   */
  private refreshSummary(): void {
    if (this.closed || this.refreshingSummary || this.reconciling) return;
    if (this.mode !== 'stream' || !this.subscribed) return;
    this.refreshingSummary = true;
    this.summaryRefreshes++;
    this.rest.fetchSummary(this.clock.now()).then(
      (summary) => {
        this.refreshingSummary = false;
        // Polling began meanwhile: its snapshots carry the summary.
        if (summary === undefined || this.closed || this.mode !== 'stream') return;
        this.emit({ kind: 'summary', summary });
      },
      (err: unknown) => {
        this.refreshingSummary = false;
        if (this.closed) return;
        this.summaryRefreshErrors++;
        this.logger.warn(
          { account: this.account.id, err: this.redact((err as Error).message) },
          'dydx summary refresh failed; trying again next period',
        );
      },
    );
  }

  // ---- fills check ----

  /**
   * Fetches the indexer's fills since the last complete REST answer while the stream is live. One the stream did not
   * deliver starts a reconcile, which hands it on with the subaccount's state (its order and position updates were
   * likely lost with it). Skipped while polling (each poll reconciles), subscribing or reconciling; a failure waits
   * for the next period.
   */
  private checkFills(): void {
    if (this.closed || this.checkingFills || this.reconciling) return;
    if (this.mode !== 'stream' || !this.subscribed) return;
    this.checkingFills = true;
    this.rest.fetchFillsSince(this.fillsCompleteFrom).then(
      (fills) => {
        this.checkingFills = false;
        if (this.closed) return;
        const lost = fills.filter((f) => !this.fillIds.has(f.fill.fillId)).length;
        if (lost === 0) {
          this.fillsListed(fills);
          return;
        }
        this.logger.warn(
          { account: this.account.id, fills: lost },
          'fills the dydx account stream did not deliver; reconciling from REST',
        );
        this.reconcile(`${lost} fill(s) the stream did not deliver`);
      },
      (err: unknown) => {
        this.checkingFills = false;
        if (this.closed) return;
        this.logger.warn(
          { account: this.account.id, err: this.redact((err as Error).message) },
          'dydx fills check failed; trying again next period',
        );
      },
    );
  }

  /** A REST answer listed every fill since `fillsCompleteFrom`: later fetches start at its newest block. */
  private fillsListed(fills: readonly HeightFill[]): void {
    let newest = 'height' in this.fillsCompleteFrom ? this.fillsCompleteFrom.height : -1;
    for (const f of fills) if (f.height > newest) newest = f.height;
    if (newest >= 0) this.fillsCompleteFrom = { height: newest };
  }

  // ---- reconcile ----

  /**
   * Takes a REST snapshot and every fill since the last complete REST answer; stream events arriving meanwhile are held and handed
   * on after it. A failure is retried with backoff (the held events are handed on at once, never lost).
   */
  private reconcile(reason: string): void {
    if (this.closed) return;
    if (this.reconciling) {
      this.reconcileAgain = reason;
      return;
    }
    this.clock.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
    this.reconciling = true;
    this.held = [];
    this.logger.info({ account: this.account.id, reason }, 'dydx account reconcile from REST');
    this.fetchAndDeliver(undefined).then(
      () => {
        this.retryAttempt = 0;
        this.endReconcile();
      },
      (err: unknown) => {
        this.endReconcile();
        if (this.closed) return;
        const delay = backoffDelay(
          ++this.retryAttempt,
          {
            minMs: this.options.reconcileRetryMs ?? 1_000,
            maxMs: this.options.runner?.backoff?.maxMs ?? 16_000,
            jitter: 'full',
          },
          this.random,
        );
        this.logger.warn(
          { account: this.account.id, err: this.redact((err as Error).message), retryInMs: delay },
          'dydx account reconcile failed; retrying',
        );
        this.retryTimer = this.clock.setTimeout(() => {
          this.retryTimer = undefined;
          this.reconcile(`retry after: ${reason}`);
        }, delay);
      },
    );
  }

  private endReconcile(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.reconciling = false;
    // Summaries derived while holding came from the state before the snapshot: derive one afresh after replay.
    let changed = false;
    for (const event of held) {
      if (event.kind === 'summary') continue;
      changed ||= event.kind === 'positions' || event.kind === 'positionEnded' || event.kind === 'balances';
      this.deliver(event);
    }
    if (changed && !this.closed) this.emitDerivedSummary(this.clock.now());
    const again = this.reconcileAgain;
    this.reconcileAgain = undefined;
    if (again !== undefined) this.reconcile(again);
  }

  /** REST snapshot + fills since `fillsCompleteFrom`, handed on as source 'rest'. Throws on a REST failure. */
  private async fetchAndDeliver(signal: AbortSignal | undefined): Promise<void> {
    this.reconciles++;
    try {
      const state = await this.rest.fetchSnapshot(this.clock.now());
      const fills = await this.rest.fetchFillsSince(this.fillsCompleteFrom);
      if (this.closed || signal?.aborted) return;
      this.deliver({ kind: 'snapshot', snapshot: state.snapshot, source: 'rest' });
      const fresh = this.newFills(fills);
      if (fresh.length > 0) this.deliver({ kind: 'fills', fills: fresh.map((f) => f.fill), source: 'rest' });
      this.fillsListed(fills);
    } catch (err) {
      this.reconcileErrors++;
      const code = err instanceof TickwireError ? err.code : 'VENUE_UNREACHABLE';
      const message = this.redact((err as Error).message);
      if (/HTTP 403/.test(message)) this.onBlocked();
      this.noteError(code, message);
      throw err;
    }
  }

  // ---- runner callbacks ----

  private onRunnerStatus(s: StreamStatus): void {
    if (s.kind === 'connected') this.connected = true;
    else if (s.kind === 'disconnected') {
      this.connected = false;
      this.subscribed = false;
    } else this.noteError('VENUE_UNREACHABLE', this.redact(s.message));
    this.handlers?.status(this.status());
  }

  private onRunnerEvent(e: StreamEvent): void {
    if (e.kind === 'mode') {
      if (e.mode === 'polling') {
        this.mode = 'polling';
        this.alert({
          severity: 'warning',
          kind: 'account_polling',
          message: `dYdX account stream failed repeatedly (${e.reason}); polling REST every ${
            (this.options.pollIntervalMs ?? DYDX_ACCOUNT_POLL_SCHEDULE[POLL_KIND]) / 1000
          } s`,
        });
      } else {
        this.mode = 'stream';
        this.alert({
          severity: 'info',
          kind: 'account_stream_recovered',
          message: 'dYdX account stream is live again; polling stopped',
        });
      }
      this.handlers?.status(this.status());
    } else if (e.kind === 'gap') {
      this.reconcile(e.reason);
    }
  }

  // ---- output ----

  /** Hands an event on now, or holds it while a reconcile is running. */
  private emit(event: AccountEvent): void {
    if (this.held !== undefined) {
      // Later stream events may merge over this one (partial orders): the mirror learns it now.
      this.mirror.apply(event);
      this.held.push(event);
      return;
    }
    this.deliver(event);
  }

  private deliver(event: AccountEvent): void {
    if (this.closed) return;
    this.mirror.apply(event);
    try {
      this.handlers?.event(event);
    } catch (err) {
      this.logger.error({ account: this.account.id, err }, 'account event handler threw');
    }
  }

  private alert(input: Omit<AlertInput, 'venue'>): void {
    try {
      this.handlers?.alert({ ...input, venue: 'dydx' });
    } catch (err) {
      this.logger.error({ account: this.account.id, err }, 'account alert handler threw');
    }
  }

  private noteError(code: string, message: string): void {
    this.lastError = { code, message, time: this.clock.now() };
  }

  private malformed(key: string, reason: string): FrameOutcome {
    this.malformedFrames++;
    return { kind: 'malformed', key, reason };
  }

  private redact(text: string): string {
    return this.rest.redact(text);
  }
}

/** What the configuration gives for one dYdX account (see `createDydxAccountSource`). */
export interface DydxAccountConfig
  extends
    Omit<DydxAccountSourceOptions, 'rest'>,
    Pick<DydxAccountRestOptions, 'address' | 'subaccountNumber' | 'restUrl' | 'requestsPerSecond' | 'http'> {}

/**
 * A source for one configured dYdX subaccount, with its REST client on the same clock and logger. Throws
 * TickwireError CONFIG_INVALID for an address or subaccount number that cannot be right.
 */
export function createDydxAccountSource(config: DydxAccountConfig): DydxAccountSource {
  const rest = new DydxAccountRest({
    address: config.address,
    subaccountNumber: config.subaccountNumber,
    restUrl: config.restUrl,
    logger: config.logger,
    ...(config.requestsPerSecond === undefined ? {} : { requestsPerSecond: config.requestsPerSecond }),
    ...(config.http === undefined ? {} : { http: config.http }),
    ...(config.clock === undefined ? {} : { clock: config.clock }),
  });
  return new DydxAccountSource({ ...config, rest });
}
