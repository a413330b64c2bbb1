import { backoffDelay } from '../util/backoff.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import { integerOption, positiveInteger } from '../util/options.ts';

/** Backoff of the history probe while the store fails: doubling from `minMs` to `maxMs`, with jitter. */
export interface HistoryRetryOptions {
  /** Default 1,000 ms. */
  readonly minMs?: number;
  /** Default 15,000 ms. */
  readonly maxMs?: number;
}

/** A subscription whose `initial` was partial. */
export interface RefillWaiter {
  /** Reads the subscription's history; resolves when the store answered it whole, rejects otherwise. */
  probe(): Promise<unknown>;
  /** Sends the subscription its whole history (a new `initial`); called once the store answers again. */
  refill(): void;
}

const DEFAULT_MIN_MS = 1000;
const DEFAULT_MAX_MS = 15_000;

/**
 * The subscriptions that were sent a partial `initial` (the history store failed), waiting for their whole
 * history. One probe at a time asks the store for the history of the longest-waiting subscription, on a backoff
 * schedule, so an outage costs one failing read per period however many clients wait. Once a probe succeeds, every
 * waiting subscription is refilled; one that fails again waits anew. A subscription leaves the wait when it is
 * refilled, or with `remove` (unsubscribed, disconnected, subscribed again).
 */
export class HistoryRefill<K> {
  private readonly waiting = new Map<K, RefillWaiter>();
  private readonly minMs: number;
  private readonly maxMs: number;
  private timer: Timer | undefined;
  private probing = false;
  private attempt = 0;
  private stopped = false;

  constructor(
    options: HistoryRetryOptions = {},
    private readonly onProbeFailed: (err: unknown, attempt: number, waiting: number) => void = () => {},
    private readonly clock: Clock = systemClock,
  ) {
    this.minMs = positiveInteger('historyRetry', 'minMs', options.minMs ?? DEFAULT_MIN_MS);
    // At least minMs: the delay doubles from minMs up to maxMs.
    this.maxMs = integerOption('historyRetry', 'maxMs', options.maxMs ?? DEFAULT_MAX_MS, this.minMs);
  }

  /** Subscriptions waiting for their whole history. */
  get size(): number {
    return this.waiting.size;
  }

  has(key: K): boolean {
    return this.waiting.has(key);
  }

  /** Adds (or replaces) `key`'s wait; starts the probe schedule if it is not running. */
  add(key: K, waiter: RefillWaiter): void {
    if (this.stopped) return;
    this.waiting.delete(key);
    this.waiting.set(key, waiter);
    if (this.timer === undefined && !this.probing) this.schedule();
  }

  remove(key: K): void {
    this.waiting.delete(key);
    if (this.waiting.size === 0) this.reset();
  }

  /** Forgets every wait and stops probing for good (gateway shutdown). */
  stop(): void {
    this.stopped = true;
    this.waiting.clear();
    this.reset();
  }

  private reset(): void {
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.attempt = 0;
  }

  private schedule(): void {
    this.attempt++;
    this.timer = this.clock.setTimeout(
      () => void this.probe(),
      backoffDelay(this.attempt, { minMs: this.minMs, maxMs: this.maxMs, jitter: 'proportional' }),
    );
  }

  private async probe(): Promise<void> {
    this.timer = undefined;
    const first = this.waiting.values().next();
    if (first.done === true) return;
    this.probing = true;
    let answered = false;
    try {
      await first.value.probe();
      answered = true;
    } catch (err) {
      this.onProbeFailed(err, this.attempt, this.waiting.size);
    } finally {
      this.probing = false;
    }
    if (this.stopped || this.waiting.size === 0) return;
    if (!answered) {
      this.schedule();
      return;
    }
    const waiters = [...this.waiting.values()];
    this.waiting.clear();
    this.reset();
    // A refill that fails again adds its subscription back, which starts a new schedule.
    for (const waiter of waiters) waiter.refill();
  }
}
