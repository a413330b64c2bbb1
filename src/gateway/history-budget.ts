import type { Config } from '../config/config.ts';
import type { Clock } from '../util/clock.ts';

/**
 * The history budget (docs/PROTOCOL.md, "Limits"): how many bars of history a client may ask for per second, so
 * that one client within the message limit cannot keep the server busy reading history. Each connection has a
 * token bucket of bars (`initialBars` of its subscribes), and each client address one more, shared by its
 * connections and its `/api/candles` requests (`limit`). A request is charged in full when both buckets hold
 * enough, and refused (charging nothing) otherwise, with the time after which it would pass.
 */

export type HistoryBudgetLimits = Pick<
  Config['gateway'],
  'historyBarsPerSecond' | 'historyBurstBars' | 'historyBarsPerSecondPerIp' | 'historyBurstBarsPerIp'
>;

export type BudgetVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Time after which the same request would pass, if nothing else is charged meanwhile. */
      readonly retryAfterMs: number;
      /** The error text: which budget ran out and when to retry. */
      readonly message: string;
    };

/** A connection's budget: its own bucket, and its address's. */
export interface ConnectionBudget {
  charge(bars: number): BudgetVerdict;
}

/** Address buckets that have refilled (as good as new) are dropped at most this often. */
const PRUNE_EVERY_MS = 60_000;

export class HistoryBudget {
  private readonly byAddress = new Map<string, TokenBucket>();
  private prunedAt: number;

  constructor(
    private readonly limits: HistoryBudgetLimits,
    private readonly clock: Clock,
  ) {
    this.prunedAt = clock.now();
  }

  /** Client addresses whose bucket is not full (the memory the budget holds). */
  get addresses(): number {
    return this.byAddress.size;
  }

  /** The budget of a new connection from `address`. */
  forConnection(address: string): ConnectionBudget {
    const { historyBarsPerSecond: rate, historyBurstBars: burst } = this.limits;
    const own = new TokenBucket(rate, burst, this.clock.now());
    return { charge: (bars) => this.charge(bars, address, own) };
  }

  /** Charges a request without a connection (`/api/candles`) to its address. */
  chargeAddress(address: string, bars: number): BudgetVerdict {
    return this.charge(bars, address, null);
  }

  private charge(bars: number, address: string, own: TokenBucket | null): BudgetVerdict {
    const now = this.clock.now();
    this.prune(now);
    const shared = this.addressBucket(address, now);
    own?.refill(now);
    const ownWait = own?.waitFor(bars) ?? 0;
    const sharedWait = shared.waitFor(bars);
    if (ownWait === 0 && sharedWait === 0) {
      own?.take(bars);
      shared.take(bars);
      return { ok: true };
    }
    const retryAfterMs = Math.max(ownWait, sharedWait);
    const [who, rate, burst] =
      ownWait >= sharedWait
        ? ['this connection', this.limits.historyBarsPerSecond, this.limits.historyBurstBars]
        : ['this address', this.limits.historyBarsPerSecondPerIp, this.limits.historyBurstBarsPerIp];
    return {
      ok: false,
      retryAfterMs,
      message: historyBudgetText(bars, who, rate, burst, retryAfterMs),
    };
  }

  private addressBucket(address: string, now: number): TokenBucket {
    let bucket = this.byAddress.get(address);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.limits.historyBarsPerSecondPerIp, this.limits.historyBurstBarsPerIp, now);
      this.byAddress.set(address, bucket);
    } else {
      bucket.refill(now);
    }
    return bucket;
  }

  private prune(now: number): void {
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    for (const [address, bucket] of this.byAddress) {
      bucket.refill(now);
      if (bucket.full) this.byAddress.delete(address);
    }
  }
}

/** "History budget exceeded: 5000 bars asked; this connection may read 5000 bars per second (burst 50000). Retry in 1 s." */
export function historyBudgetText(
  bars: number,
  who: string,
  rate: number,
  burst: number,
  retryAfterMs: number,
): string {
  return (
    `History budget exceeded: ${bars} bars asked; ${who} may read ${rate} bars per second (burst ${burst}). ` +
    `Retry in ${Math.ceil(retryAfterMs / 1000)} s.`
  );
}

/** Tokens (bars) refilled at `rate` per second up to `capacity`; starts full. */
class TokenBucket {
  private tokens: number;

  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    private updatedAt: number,
  ) {
    this.tokens = capacity;
  }

  get full(): boolean {
    return this.tokens >= this.capacity;
  }

  refill(now: number): void {
    if (now <= this.updatedAt) return;
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) * this.rate) / 1000);
    this.updatedAt = now;
  }

  /** Milliseconds until `n` tokens are there (0: now); Infinity when `n` is more than the bucket holds. */
  waitFor(n: number): number {
    if (n <= this.tokens) return 0;
    if (n > this.capacity) return Infinity;
    return Math.ceil(((n - this.tokens) * 1000) / this.rate);
  }

  take(n: number): void {
    this.tokens -= n;
  }
}
