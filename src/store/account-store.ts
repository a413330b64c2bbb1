import type { Fill } from '../domain/account.ts';
import type { Decimal } from '../domain/decimal.ts';

/**
 * Where the account side keeps what must outlive a restart: each account's fills and the samples of its equity
 * curve (docs/ACCOUNTS.md, "Stored history"). An in-memory twin (account-memory-store.ts) and one over SQL, on
 * PostgreSQL or PGlite (account-sql-store.ts), pass the same suite (account-store.contract.ts).
 *
 * Accounts are named by their configured id. Fills are kept once per (account, fillId): appending a fill again
 * (a REST reconcile overlapping the stream) changes nothing. The shapes here mirror `EquityPoint` and
 * `FillQuery` of src/account/contract.ts, which the store may not import.
 */

/** One sample of an account's equity curve. */
export interface StoredEquityPoint {
  /** ms UTC; one point per account and time (a later append at the same time replaces it). */
  readonly time: number;
  readonly equity: Decimal;
  /** Σ unrealized PnL at that moment, when known: the start of a UTC day's daily PnL after a restart. */
  readonly unrealizedPnl?: Decimal;
}

/**
 * A range of times, `from` inclusive and `to` exclusive (ms UTC), and at most `limit` items: the newest of the
 * range when there are more. Results are always oldest first (by time, then fill id).
 */
export interface AccountRangeQuery {
  readonly from?: number;
  readonly to?: number;
  readonly limit?: number;
}

export interface AccountStore {
  /** Stores the fills not stored yet for `account`; resolves to how many were new. */
  appendFills(account: string, fills: readonly Fill[]): Promise<number>;
  /** Stores equity samples; a point at a time already stored replaces it. */
  appendEquity(account: string, points: readonly StoredEquityPoint[]): Promise<void>;
  fills(account: string, query: AccountRangeQuery): Promise<Fill[]>;
  equity(account: string, query: AccountRangeQuery): Promise<StoredEquityPoint[]>;
  close(): Promise<void>;
}

/**
 * Throws a RangeError for a query a store cannot answer: non-integer or negative limit, non-finite bounds.
 * Every implementation checks the same way, so callers see the same errors.
 */
export function checkRangeQuery(query: AccountRangeQuery): void {
  const { from, to, limit } = query;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new RangeError(`limit must be a whole number >= 0, got ${String(limit)}`);
  }
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (value !== undefined && !Number.isSafeInteger(value)) {
      throw new RangeError(`${name} must be whole ms since the epoch, got ${String(value)}`);
    }
  }
}

/** Throws a RangeError for a fill a store must not keep: no id, or a time that is not whole ms. */
export function checkStorableFill(account: string, fill: Fill): void {
  if (account === '') throw new RangeError('account id is empty');
  if (fill.fillId === '') throw new RangeError(`fill of order ${fill.orderId} has an empty fillId`);
  if (!Number.isSafeInteger(fill.time)) {
    throw new RangeError(`fill ${fill.fillId} has a time that is not whole ms: ${String(fill.time)}`);
  }
}

/** The fills of one call, each id once (the first occurrence wins, as a stored fill never changes). */
export function uniqueFills(fills: readonly Fill[]): Fill[] {
  const seen = new Set<string>();
  const out: Fill[] = [];
  for (const f of fills) {
    if (seen.has(f.fillId)) continue;
    seen.add(f.fillId);
    out.push(f);
  }
  return out;
}
