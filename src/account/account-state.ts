import type { AccountRef, AccountSummary, Balance, Fill, Order, Position } from '../domain/account.ts';
import { newAlert, type Alert, type AlertInput } from '../domain/alert.ts';
import {
  add,
  compare,
  divide,
  eq,
  isZero,
  mul,
  parseDecimal,
  toPlainString,
  ZERO,
  type Decimal,
} from '../domain/decimal.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Clock, Timer } from '../util/clock.ts';
import type { AccountStore, StoredEquityPoint } from '../store/account-store.ts';
import type { AccountChange, AccountEvent, AccountView, Performance } from './contract.ts';
import { DailyPnl, DAY_MS, utcDayStart } from './daily-pnl.ts';
import { Drawdown, RATIO_PLACES } from './drawdown.ts';
import { LiquidationWatch } from './liquidation-watch.ts';
import { RoundTrips } from './round-trips.ts';

export interface AccountStateOptions {
  readonly account: AccountRef;
  readonly clock: Clock;
  readonly store: AccountStore;
  readonly logger: Logger;
  /** Hears every account alert: derived here, or passed through from the source; `account` is set on each. */
  readonly onAlert?: (alert: Alert) => void;
  /** `liquidation_near` when |mark − liquidation| / mark ≤ this. Default 0.05 (5 %). */
  readonly liquidationAlertDistance?: Decimal;
  /** Period of the equity samples between fills, ms. Default 60,000. */
  readonly equitySampleMs?: number;
  /** Newest stored fills, and newest equity samples, read back at start. Default 100,000 each. */
  readonly restoreLimit?: number;
  /** A failed store write is retried after this long, ms. Default 5,000. */
  readonly storeRetryMs?: number;
  /** Most equity samples waiting for the store during an outage; the oldest are dropped past it. Default 10,000. */
  readonly maxPendingEquity?: number;
}

type Part = AccountChange['parts'] extends ReadonlySet<infer P> ? P : never;

const DEFAULT_LIQUIDATION_DISTANCE = parseDecimal('0.05');
/** Order ids whose rejection was reported, remembered so that a repeated update does not alert again. */
const MAX_REJECTED_REMEMBERED = 1000;

const FINAL_STATUSES: ReadonlySet<Order['status']> = new Set(['filled', 'canceled', 'rejected']);

/**
 * One account's state (seed 000's state manager, typed): applies the source's AccountEvents in order, keeps
 * balances, positions, open orders and the fills seen, derives the figures of docs/ACCOUNTS.md, raises the
 * account alerts, stores fills and equity samples, and tells subscribers what changed. `restore()` reads the
 * stored fills and equity curve first, so performance survives a restart; `start()` begins the equity sampling.
 */
export class AccountState {
  readonly account: AccountRef;
  private readonly clock: Clock;
  private readonly store: AccountStore;
  private readonly logger: Logger;
  private readonly onAlert: (alert: Alert) => void;
  private readonly equitySampleMs: number;
  private readonly restoreLimit: number;
  private readonly storeRetryMs: number;
  private readonly maxPendingEquity: number;

  private summary: AccountSummary | undefined;
  private readonly balances = new Map<string, Balance>();
  private readonly positions = new Map<string, Position>();
  private readonly orders = new Map<string, Order>();
  private readonly fillIds = new Set<string>();
  private readonly rejected = new Set<string>();

  private readonly trips = new RoundTrips();
  private readonly daily: DailyPnl;
  private readonly drawdown = new Drawdown();
  private readonly liquidation: LiquidationWatch;
  private realizedPnl: Decimal = ZERO;
  private feesPaid: Decimal = ZERO;
  private lastSample: StoredEquityPoint | undefined;

  private sequence = 0;
  private time: number;
  private current: AccountView;
  private readonly listeners = new Set<(change: AccountChange) => void>();

  private pendingFills: Fill[] = [];
  private pendingEquity: StoredEquityPoint[] = [];
  private writing: Promise<void> = Promise.resolve();
  private retryTimer: Timer | undefined;
  private sampleTimer: Timer | undefined;
  private midnightTimer: Timer | undefined;
  private storeFailing = false;

  constructor(options: AccountStateOptions) {
    this.account = options.account;
    this.clock = options.clock;
    this.store = options.store;
    this.logger = options.logger;
    this.onAlert = options.onAlert ?? (() => undefined);
    this.equitySampleMs = options.equitySampleMs ?? 60_000;
    this.restoreLimit = options.restoreLimit ?? 100_000;
    this.storeRetryMs = options.storeRetryMs ?? 5_000;
    this.maxPendingEquity = options.maxPendingEquity ?? 10_000;
    this.liquidation = new LiquidationWatch(options.liquidationAlertDistance ?? DEFAULT_LIQUIDATION_DISTANCE);
    this.time = this.clock.now();
    this.daily = new DailyPnl(this.time);
    this.current = this.buildView();
  }

  /**
   * Reads the stored history of the account: the newest `restoreLimit` fills (fees, realized PnL, round trips,
   * today's fills, each fill id known) and equity samples (drawdown, unrealized PnL at 00:00 UTC). Call once,
   * before the first event.
   */
  /** Time of the newest fill read back by `restore()`: where the account's source takes up its fills. */
  newestFillTime: number | undefined;

  async restore(): Promise<void> {
    const id = this.account.id;
    const [fills, points] = await Promise.all([
      this.store.fills(id, { limit: this.restoreLimit }),
      this.store.equity(id, { limit: this.restoreLimit }),
    ]);
    for (const f of fills) {
      this.countFill(f);
      if (this.newestFillTime === undefined || f.time > this.newestFillTime) this.newestFillTime = f.time;
    }
    // The unrealized PnL at 00:00 UTC: the last sample at or before it, else the first one of the day.
    const dayStart = this.daily.currentDay;
    let atStart: StoredEquityPoint | undefined;
    let inDay: StoredEquityPoint | undefined;
    for (const p of points) {
      this.drawdown.add(p.equity);
      if (p.unrealizedPnl === undefined) continue;
      if (p.time <= dayStart) atStart = p;
      else inDay ??= p;
    }
    const start = (atStart ?? inDay)?.unrealizedPnl;
    if (start !== undefined) this.daily.setStartUnrealized(start);
    this.lastSample = points.at(-1);
    this.current = this.buildView();
    this.logger.info(
      { account: id, fills: fills.length, equityPoints: points.length },
      'account: stored history restored',
    );
  }

  /** Starts the equity sampling and the UTC midnight roll of the daily PnL. */
  start(): void {
    this.sampleTimer ??= this.clock.setInterval(() => this.sampleIfChanged(), this.equitySampleMs);
    this.sampleTimer.unref();
    this.scheduleMidnight();
  }

  /** Stops the timers and waits for the store writes still pending (one attempt each). */
  async close(): Promise<void> {
    this.clock.clearTimer(this.sampleTimer);
    this.clock.clearTimer(this.midnightTimer);
    this.clock.clearTimer(this.retryTimer);
    this.sampleTimer = this.midnightTimer = this.retryTimer = undefined;
    await this.flush();
  }

  view(): AccountView {
    if (this.rollDay()) this.refresh(new Set(), []);
    return this.current;
  }

  subscribe(listener: (change: AccountChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A source's alert: stamped with the account and its venue, then passed on. */
  alert(input: AlertInput): void {
    this.emitAlert({ ...input, venue: input.venue ?? this.account.venue });
  }

  /** Applies one event from the source; subscribers hear the change when anything changed. */
  apply(event: AccountEvent): void {
    this.rollDay();
    const parts = new Set<Part>();
    let newFills: Fill[] = [];
    switch (event.kind) {
      case 'snapshot': {
        const s = event.snapshot;
        this.summary = s.summary;
        this.balances.clear();
        for (const b of s.balances) this.balances.set(b.currency, b);
        this.replacePositions(s.positions, s.time);
        this.orders.clear();
        for (const o of s.openOrders) this.applyOrder(o);
        for (const p of ['summary', 'balances', 'positions', 'orders'] as const) parts.add(p);
        break;
      }
      case 'summary':
        this.summary = event.summary;
        parts.add('summary');
        break;
      case 'balances':
        for (const b of event.balances) this.balances.set(b.currency, b);
        if (event.balances.length > 0) parts.add('balances');
        break;
      case 'positions':
        if (event.complete) this.replacePositions(event.positions, event.time);
        else for (const p of event.positions) this.upsertPosition(p, event.time);
        parts.add('positions');
        break;
      case 'positionEnded':
        if (this.endPosition(event.symbol, event.side, event.end, event.time, event.realizedPnl)) {
          parts.add('positions');
        } else if (event.end === 'liquidated') {
          // A liquidation is worth an alert even when the position was never seen (the state started later).
          this.positionAlert(event.symbol, event.side, 'liquidated', event.time, event.realizedPnl);
        }
        break;
      case 'order':
        if (this.applyOrder(event.order)) parts.add('orders');
        break;
      case 'fills':
        newFills = this.newFills(event.fills);
        for (const f of newFills) this.countFill(f);
        if (newFills.length > 0) {
          parts.add('fills');
          this.pendingFills.push(...newFills);
        }
        break;
    }
    if (parts.has('positions')) {
      this.daily.observe(this.unrealized());
      for (const near of this.liquidation.check(this.positions.values())) {
        const p = near.position;
        this.emitAlert({
          severity: 'critical',
          kind: 'liquidation_near',
          venue: this.account.venue,
          symbol: p.symbol,
          message: `${p.side} ${p.symbol} is ${pct(near.distance)} from its liquidation price`,
          details: {
            side: p.side,
            markPrice: toPlainString(p.markPrice ?? ZERO),
            liquidationPrice: toPlainString(p.liquidationPrice ?? ZERO),
            distance: toPlainString(near.distance),
          },
        });
      }
    }
    if (newFills.length > 0) this.sample();
    this.refresh(parts, newFills);
    this.flushSoon();
  }

  /** Resolves once every fill and sample applied so far has been written (or failed once and awaits a retry). */
  flushed(): Promise<void> {
    return this.flush();
  }

  // --- applying ---

  private replacePositions(positions: readonly Position[], time: number): void {
    const next = new Map<string, Position>();
    for (const p of positions) if (!isZero(p.size)) next.set(positionKey(p.symbol, p.side), p);
    for (const [key, old] of this.positions) {
      if (!next.has(key)) this.positionAlert(old.symbol, old.side, 'closed', time, undefined);
    }
    this.positions.clear();
    for (const [key, p] of next) this.positions.set(key, p);
  }

  /** A position pushed with size zero has ended: venues that push only changes say so that way too. */
  private upsertPosition(p: Position, time: number): void {
    if (isZero(p.size)) this.endPosition(p.symbol, p.side, 'closed', time, p.realizedPnl);
    else this.positions.set(positionKey(p.symbol, p.side), p);
  }

  private endPosition(
    symbol: string,
    side: Position['side'],
    end: 'closed' | 'liquidated',
    time: number,
    realizedPnl: Decimal | undefined,
  ): boolean {
    if (!this.positions.delete(positionKey(symbol, side))) return false;
    this.positionAlert(symbol, side, end, time, realizedPnl);
    return true;
  }

  private positionAlert(
    symbol: string,
    side: Position['side'],
    end: 'closed' | 'liquidated',
    time: number,
    realizedPnl: Decimal | undefined,
  ): void {
    this.emitAlert({
      severity: end === 'liquidated' ? 'critical' : 'info',
      kind: end === 'liquidated' ? 'position_liquidated' : 'position_closed',
      venue: this.account.venue,
      symbol,
      time,
      message: `${side} ${symbol} ${end === 'liquidated' ? 'was liquidated' : 'closed'}`,
      details: {
        side,
        ...(realizedPnl === undefined ? {} : { realizedPnl: toPlainString(realizedPnl) }),
      },
    });
  }

  /** Upserts an open order, or removes it when its status is final. Returns whether the open orders changed. */
  private applyOrder(o: Order): boolean {
    if (o.status === 'rejected' && !this.rejected.has(o.orderId)) {
      this.rejected.add(o.orderId);
      if (this.rejected.size > MAX_REJECTED_REMEMBERED) {
        this.rejected.delete(this.rejected.values().next().value as string);
      }
      this.emitAlert({
        severity: 'warning',
        kind: 'order_rejected',
        venue: this.account.venue,
        symbol: o.symbol,
        time: o.updatedAt,
        message: `${o.side} order ${o.orderId} for ${o.symbol} was rejected${o.reason ? `: ${o.reason}` : ''}`,
        details: {
          orderId: o.orderId,
          side: o.side,
          size: toPlainString(o.size),
          ...(o.reason === undefined ? {} : { reason: o.reason }),
        },
      });
    }
    if (FINAL_STATUSES.has(o.status)) return this.orders.delete(o.orderId);
    this.orders.set(o.orderId, o);
    return true;
  }

  /** The fills not seen before, each id once, oldest first. */
  private newFills(fills: readonly Fill[]): Fill[] {
    const out: Fill[] = [];
    const seen = new Set<string>();
    for (const f of fills) {
      if (this.fillIds.has(f.fillId) || seen.has(f.fillId)) continue;
      seen.add(f.fillId);
      out.push(f);
    }
    return out.sort((a, b) => a.time - b.time);
  }

  private countFill(f: Fill): void {
    if (this.fillIds.has(f.fillId)) return;
    this.fillIds.add(f.fillId);
    const { realizedPnl } = this.trips.apply(f);
    this.realizedPnl = add(this.realizedPnl, realizedPnl);
    this.feesPaid = add(this.feesPaid, f.fee);
    this.daily.addFill(f.time, realizedPnl, f.fee);
  }

  private emitAlert(input: AlertInput): void {
    const alert = newAlert({ ...input, account: this.account.id }, this.clock.now);
    try {
      this.onAlert(alert);
    } catch (err) {
      this.logger.error(
        { err, account: this.account.id, kind: alert.kind },
        'account: alert listener failed',
      );
    }
  }

  // --- figures ---

  private unrealized(): Decimal {
    let sum = ZERO;
    for (const p of this.positions.values()) sum = add(sum, p.unrealizedPnl);
    return sum;
  }

  private performance(): Performance {
    const totalValue = this.summary?.equity ?? ZERO;
    const unrealizedPnl = this.unrealized();
    let notional = ZERO;
    for (const p of this.positions.values()) {
      const value = mul(p.size, p.markPrice ?? p.entryPrice);
      notional = add(notional, value.coef < 0n ? { coef: -value.coef, scale: value.scale } : value);
    }
    const { wins, losses } = this.trips;
    return {
      totalValue,
      unrealizedPnl,
      realizedPnl: this.realizedPnl,
      dailyPnl: this.daily.value(unrealizedPnl),
      openPositions: this.positions.size,
      ...(wins + losses > 0
        ? {
            winRate: divide(
              { coef: BigInt(wins), scale: 0 },
              { coef: BigInt(wins + losses), scale: 0 },
              RATIO_PLACES,
            ),
          }
        : {}),
      wins,
      losses,
      ...(compare(totalValue, ZERO) > 0 ? { exposure: divide(notional, totalValue, RATIO_PLACES) } : {}),
      maxDrawdown: this.drawdown.max,
      feesPaid: this.feesPaid,
    };
  }

  private buildView(): AccountView {
    return {
      account: this.account,
      ...(this.summary === undefined ? {} : { summary: this.summary }),
      balances: [...this.balances.values()].sort((a, b) => cmp(a.currency, b.currency)),
      positions: [...this.positions.values()].sort((a, b) => cmp(a.symbol, b.symbol) || cmp(a.side, b.side)),
      openOrders: [...this.orders.values()].sort(
        (a, b) => a.createdAt - b.createdAt || cmp(a.orderId, b.orderId),
      ),
      performance: this.performance(),
      sequence: this.sequence,
      time: this.time,
    };
  }

  /**
   * Adds 'performance' when a figure moved; when anything changed, bumps the sequence, builds the new view and
   * tells subscribers.
   */
  private refresh(parts: Set<Part>, newFills: readonly Fill[]): void {
    if (performanceKey(this.performance()) !== performanceKey(this.current.performance))
      parts.add('performance');
    if (parts.size === 0) return;
    this.sequence++;
    this.time = this.clock.now();
    this.current = this.buildView();
    const change: AccountChange = { view: this.current, parts, newFills };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.logger.error({ err, account: this.account.id }, 'account: change listener failed');
      }
    }
  }

  // --- UTC day and equity samples ---

  /** Rolls the daily PnL to a new UTC day (and samples equity at its start); true when the day changed. */
  private rollDay(): boolean {
    const now = this.clock.now();
    if (utcDayStart(now) <= this.daily.currentDay) return false;
    this.daily.roll(now, this.unrealized());
    this.sample(utcDayStart(now));
    return true;
  }

  private scheduleMidnight(): void {
    const now = this.clock.now();
    this.midnightTimer = this.clock.setTimeout(
      () => {
        if (this.rollDay()) this.refresh(new Set(), []);
        this.flushSoon();
        this.scheduleMidnight();
      },
      utcDayStart(now) + DAY_MS - now,
    );
    this.midnightTimer.unref();
  }

  private sampleIfChanged(): void {
    if (this.summary === undefined) return;
    if (this.lastSample !== undefined && eq(this.lastSample.equity, this.summary.equity)) return;
    this.sample();
    this.refresh(new Set(), []);
    this.flushSoon();
  }

  /** Records an equity sample (when the equity is known): drawdown, and a point for the store. */
  private sample(time = this.clock.now()): void {
    if (this.summary === undefined) return;
    const point: StoredEquityPoint = { time, equity: this.summary.equity, unrealizedPnl: this.unrealized() };
    this.drawdown.add(point.equity);
    this.lastSample = point;
    this.pendingEquity.push(point);
    if (this.pendingEquity.length > this.maxPendingEquity) {
      this.pendingEquity.splice(0, this.pendingEquity.length - this.maxPendingEquity);
      this.logger.warn(
        { account: this.account.id },
        'account: equity samples dropped while the store is down',
      );
    }
  }

  // --- store ---

  private flushSoon(): void {
    void this.flush();
  }

  /** Writes what is pending, one write at a time; a failure keeps it pending and retries after a while. */
  private flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writePending());
    return this.writing;
  }

  private async writePending(): Promise<void> {
    const fills = this.pendingFills;
    const points = this.pendingEquity;
    if (fills.length === 0 && points.length === 0) return;
    this.pendingFills = [];
    this.pendingEquity = [];
    const id = this.account.id;
    try {
      if (fills.length > 0) await this.store.appendFills(id, fills);
      if (points.length > 0) await this.store.appendEquity(id, points);
      if (this.storeFailing) this.logger.info({ account: id }, 'account: history store writes work again');
      this.storeFailing = false;
    } catch (err) {
      // Appending again is harmless (fills are kept once, a sample replaces its time), so retry both.
      this.pendingFills = [...fills, ...this.pendingFills];
      this.pendingEquity = [...points, ...this.pendingEquity];
      if (!this.storeFailing) this.logger.warn({ err, account: id }, 'account: history store write failed');
      this.storeFailing = true;
      if (this.retryTimer === undefined) {
        this.retryTimer = this.clock.setTimeout(() => {
          this.retryTimer = undefined;
          this.flushSoon();
        }, this.storeRetryMs);
        this.retryTimer.unref();
      }
    }
  }
}

function positionKey(symbol: string, side: Position['side']): string {
  return `${symbol}|${side}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pct(fraction: Decimal): string {
  return `${toPlainString(divide(mul(fraction, { coef: 100n, scale: 0 }), { coef: 1n, scale: 0 }, 2))} %`;
}

function performanceKey(p: Performance): string {
  return JSON.stringify(p, (_key, value: unknown) =>
    typeof value === 'object' && value !== null && 'coef' in value ? toPlainString(value as Decimal) : value,
  );
}
