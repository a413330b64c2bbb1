/**
 * The contracts of the account side. A venue's `AccountSource` (src/venues/<venue>/account-source.ts) turns the
 * venue's private stream and REST into `AccountEvent`s; the account state (src/account/account-state.ts) applies
 * them in order, derives the figures of docs/ACCOUNTS.md and stores fills and equity; the gateway reads an
 * `AccountHub` and never sees a venue.
 */
import type { AlertInput } from '../domain/alert.ts';
import type {
  AccountRef,
  AccountSnapshot,
  AccountSummary,
  Balance,
  Fill,
  Order,
  Position,
  PositionEnd,
} from '../domain/account.ts';
import type { Decimal } from '../domain/decimal.ts';

/**
 * What a source reports, in the order it learned it. Positions come two ways, as venues send them: Bitget pushes
 * the whole list of a product each time (`complete: true`: replace; a position absent from it has ended), dYdX
 * pushes only the positions that changed (`complete: false`: upsert, and `positionEnded` for a closed one).
 */
export type AccountEvent =
  /** Everything at once (stream start, REST reconcile after a gap): replaces balances, positions and orders. */
  | { readonly kind: 'snapshot'; readonly snapshot: AccountSnapshot; readonly source: 'stream' | 'rest' }
  | { readonly kind: 'summary'; readonly summary: AccountSummary }
  /** Balances of the listed currencies (others unchanged). */
  | { readonly kind: 'balances'; readonly balances: readonly Balance[] }
  | {
      readonly kind: 'positions';
      readonly positions: readonly Position[];
      readonly complete: boolean;
      readonly time: number;
    }
  | {
      readonly kind: 'positionEnded';
      readonly symbol: string;
      readonly side: Position['side'];
      readonly end: PositionEnd;
      readonly realizedPnl?: Decimal;
      readonly time: number;
    }
  /** A new or changed order; one whose status is final (filled, canceled, rejected) leaves the open orders. */
  | { readonly kind: 'order'; readonly order: Order }
  /** Fills, possibly repeated (a REST reconcile overlaps the stream): the state keeps each `fillId` once. */
  | { readonly kind: 'fills'; readonly fills: readonly Fill[]; readonly source: 'stream' | 'rest' };

/** How a source reaches its venue right now: the figures of seed 003's `/ws/status/{address}`. */
export interface AccountStreamStatus {
  /** A private socket is open (and logged in, where the venue needs a login). */
  readonly connected: boolean;
  /** `stream` while the socket delivers; `polling` after repeated failed reconnects (REST schedule). */
  readonly mode: 'stream' | 'polling';
  /** Connected, logged in, subscribed and heard from within the heartbeat limit. */
  readonly healthy: boolean;
  /** The venue endpoint the stream uses (no credentials in it). */
  readonly url: string;
  /** Channel names currently subscribed. */
  readonly subscriptions: readonly string[];
  readonly reconnects: number;
  /** Last heartbeat answer or frame from the venue, ms UTC; undefined before the first. */
  readonly lastHeartbeat?: number;
  /** The last error: a stable code (docs/ERRORS.md) and a message with no secret in it. */
  readonly lastError?: { readonly code: string; readonly message: string; readonly time: number };
}

export interface AccountSourceHandlers {
  event(event: AccountEvent): void;
  status(status: AccountStreamStatus): void;
  /** An account alert (login failed, polling, back to the stream...); the state stamps the account on it. */
  alert(alert: AlertInput): void;
}

/** Where a source takes up the account's history when it starts. */
export interface AccountResume {
  /**
   * Fills from this time (ms UTC) are fetched over REST once the first connection is up: the newest stored fill's
   * time after a restart, so that fills made while Tickwire was down are not missed (repeats are dropped by
   * fillId). The hub gives the process's start when nothing is stored, so that a fill between the start and the
   * subscription is not missed either. Absent: the first connection fetches no past fills.
   */
  readonly fillsSince?: number;
}

/**
 * One account's connection to its venue. Reconnects, re-logs in, re-subscribes and falls back to REST polling
 * by itself; on its first connection and after any gap it emits a REST `snapshot` and the `fills` since the last
 * one it saw (or since `resume.fillsSince`), so that the state misses none.
 */
export interface AccountSource {
  readonly account: AccountRef;
  start(handlers: AccountSourceHandlers, resume?: AccountResume): void;
  status(): AccountStreamStatus;
  close(): Promise<void>;
}

/** The account as the state holds it, with the figures derived from it (docs/ACCOUNTS.md). */
export interface AccountView {
  readonly account: AccountRef;
  readonly summary?: AccountSummary;
  readonly balances: readonly Balance[];
  readonly positions: readonly Position[];
  readonly openOrders: readonly Order[];
  readonly performance: Performance;
  /** Bumped on every applied change; a client that sees a hole asks for a snapshot. */
  readonly sequence: number;
  readonly time: number;
}

/** Derived figures, each defined with its formula in docs/ACCOUNTS.md. */
export interface Performance {
  /** Equity (total value). */
  readonly totalValue: Decimal;
  readonly unrealizedPnl: Decimal;
  /** Σ realized PnL of fills, fees excluded, since tracking began. */
  readonly realizedPnl: Decimal;
  /** Realized PnL of the current UTC day, fees included (fills of the day) plus the change of unrealized PnL. */
  readonly dailyPnl: Decimal;
  readonly openPositions: number;
  /** wins / (wins + losses) over closed round trips, break-even excluded; undefined before the first. */
  readonly winRate?: Decimal;
  readonly wins: number;
  readonly losses: number;
  /** Σ |notional| / equity; undefined when equity is not positive. */
  readonly exposure?: Decimal;
  /** Largest fall of the equity curve from its running peak, as a fraction of the peak. */
  readonly maxDrawdown: Decimal;
  readonly feesPaid: Decimal;
}

/** One point of the stored equity curve. */
export interface EquityPoint {
  readonly time: number;
  readonly equity: Decimal;
}

/** What changed, for a subscriber: the parts named are new in `view`. */
export interface AccountChange {
  readonly view: AccountView;
  readonly parts: ReadonlySet<'summary' | 'balances' | 'positions' | 'orders' | 'fills' | 'performance'>;
  /** Fills first seen in this change (new to the state), oldest first. */
  readonly newFills: readonly Fill[];
}

export interface FillQuery {
  readonly from?: number;
  readonly to?: number;
  readonly limit?: number;
}

/**
 * What the gateway reads: the configured accounts, their state, changes, stream status and stored history.
 * Account ids come from the configuration; a token's `sub` names one.
 */
export interface AccountHub {
  accounts(): readonly AccountRef[];
  view(accountId: string): AccountView | undefined;
  /** Calls `listener` after every applied change of the account; returns the unsubscribe function. */
  subscribe(accountId: string, listener: (change: AccountChange) => void): () => void;
  status(accountId: string): AccountStreamStatus | undefined;
  fills(accountId: string, query: FillQuery): Promise<readonly Fill[]>;
  equityCurve(accountId: string, query: FillQuery): Promise<readonly EquityPoint[]>;
}
