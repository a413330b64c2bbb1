import type { Logger } from '../telemetry/logger.ts';
import { backoffDelay } from '../util/backoff.ts';
import { integerOption, positiveInteger } from '../util/options.ts';
import { waitAtMost } from '../util/wait-at-most.ts';

/**
 * A bounded write-behind queue in front of a database write, the engine of BufferedCandleStore and
 * BufferedTradeWriter: callers hand items over synchronously and go on; batches go to the database one at a time,
 * and while the database fails, the batch is kept and retried with backoff and new items wait (up to a bound).
 *
 * With a key function, items of the same key coalesce: the newer one replaces the queued one and moves to the end,
 * so the queue keeps the order of the last writes. A batch that failed goes back to the front of the queue, except
 * for keys that have a newer item queued meanwhile.
 *
 * `flushed()` waits until everything added so far is in the database (see there), so that a caller can tell
 * readers of the database that a write is complete only once it is.
 */

export interface WriteBehindOptions {
  readonly logger: Logger;
  /** What the items are called in logs ('bars', 'trades'). */
  readonly noun: string;
  /** Added to the logs of lost items: how to get them back, when they can be. */
  readonly lossHint?: string;
  /** A batch is written at most this long after its first item was queued, ms. Default 500. */
  readonly flushMs?: number;
  /** Items per batch; a queue this long is written at once. Default 1,000. */
  readonly batchSize?: number;
  /** Items waiting (queued and being written) beyond which the oldest queued are dropped. Default 200,000. */
  readonly maxPending?: number;
  /** `close()` tries this long to write what is waiting, ms. Default 5,000. */
  readonly closeTimeoutMs?: number;
  /** First delay before a failed batch is retried, ms; doubles per failure. Default 500. */
  readonly retryMinMs?: number;
  /** Longest delay between retries, ms. Default 30,000. */
  readonly retryMaxMs?: number;
}

/** Whether the database accepts writes; `error` says why not (the last failure). */
export interface StoreStatus {
  readonly state: 'up' | 'down';
  readonly error?: string;
}

export interface WriteBehindStats {
  /** Items waiting: queued, and in the batch being written unless a newer queued item replaces them. */
  readonly pending: number;
  /** Items the database accepted. */
  readonly written: number;
  /** Batches that failed (each retry counts). */
  readonly failedFlushes: number;
  /** Items given up: the oldest of a full queue. */
  readonly dropped: number;
  readonly status: 'up' | 'down';
  readonly lastError: string | undefined;
  /** When a batch last succeeded, ms since the epoch. */
  readonly lastFlushAt: number | undefined;
}

/**
 * A queued item with the number of the oldest `add` it carries that is not in the database yet: an item that
 * replaced a queued one of its key carries that one's write too (it will be stored in its place).
 */
interface Entry<T> {
  readonly item: T;
  readonly since: number;
}

/** A `flushed()` call waiting for the items added up to `upTo` (the number of the last add before it). */
interface FlushWaiter {
  readonly upTo: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

const DEFAULTS = {
  flushMs: 500,
  batchSize: 1000,
  maxPending: 200_000,
  closeTimeoutMs: 5000,
  retryMinMs: 500,
  retryMaxMs: 30_000,
} as const;

/** While the queue overflows, an error is logged at most this often (with the count so far), not per item. */
const DROP_LOG_INTERVAL_MS = 10_000;

export class WriteBehind<T> {
  private queue = new Map<unknown, Entry<T>>();
  private inflight: ReadonlyMap<unknown, Entry<T>> | undefined;
  /** Keys of the batch being written that have a newer item queued: they count once in `pending`. */
  private shadowed = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Consecutive failed batches; > 0 means a retry is due. */
  private failures = 0;
  private state: 'up' | 'down' = 'up';
  private closing = false;
  private closed: Promise<void> | undefined;
  /** Set once `close()` has written what it could: nothing more reaches the database. */
  private drained = false;
  private nextSeq = 0;
  /** Number of the last `add` call (1, 2, …), the mark `flushed()` waits for. */
  private adds = 0;
  private flushWaiters: FlushWaiter[] = [];
  private written = 0;
  private failedFlushes = 0;
  private dropped = 0;
  private lastError: string | undefined;
  private lastFlushAt: number | undefined;
  private lastDropLogAt = -Infinity;
  private readonly handlers = new Set<(status: StoreStatus) => void>();
  private readonly o: Required<WriteBehindOptions>;

  /**
   * `write` stores one batch (it must be idempotent: a batch whose outcome is unknown is written again).
   * `keyOf`, when given, coalesces items of the same key.
   */
  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly keyOf: ((item: T) => string) | undefined,
    options: WriteBehindOptions,
  ) {
    this.o = {
      logger: options.logger,
      noun: options.noun,
      lossHint: options.lossHint ?? '',
      flushMs: options.flushMs ?? DEFAULTS.flushMs,
      batchSize: options.batchSize ?? DEFAULTS.batchSize,
      maxPending: options.maxPending ?? DEFAULTS.maxPending,
      closeTimeoutMs: options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs,
      retryMinMs: options.retryMinMs ?? DEFAULTS.retryMinMs,
      retryMaxMs: options.retryMaxMs ?? DEFAULTS.retryMaxMs,
    };
    const { flushMs, batchSize, maxPending, closeTimeoutMs, retryMinMs, retryMaxMs } = this.o;
    const owner = `${options.noun} write buffer`;
    for (const [name, value] of Object.entries({ flushMs, maxPending, closeTimeoutMs, retryMinMs }))
      positiveInteger(owner, name, value);
    // A batch never holds more than may wait, and the retry cap never undercuts the first delay.
    integerOption(owner, 'batchSize', batchSize, 1, maxPending);
    integerOption(owner, 'retryMaxMs', retryMaxMs, retryMinMs);
  }

  /** Items waiting: queued, and those of the batch being written that no newer queued item replaces. */
  get pending(): number {
    return this.queue.size + (this.inflight?.size ?? 0) - this.shadowed;
  }

  /** Queues `items` (synchronously) and schedules their write. Throws once `close()` was called. */
  add(items: readonly T[]): void {
    if (this.closing) throw new Error(`write of ${this.o.noun} after close`);
    if (items.length === 0) return;
    const since = ++this.adds;
    for (const item of items) {
      const key = this.keyOf ? this.keyOf(item) : this.nextSeq++;
      const replaced = this.queue.get(key);
      if (replaced) this.queue.delete(key);
      else if (this.inflight?.has(key)) this.shadowed++;
      this.queue.set(key, { item, since: replaced?.since ?? since });
    }
    this.trim();
    this.schedule();
  }

  /** Items waiting, oldest first: the batch being written, then the queue. */
  *waiting(): IterableIterator<T> {
    if (this.inflight) for (const entry of this.inflight.values()) yield entry.item;
    for (const entry of this.queue.values()) yield entry.item;
  }

  /**
   * Resolves once every item added before the call is in the database (an item replaced by a newer one of its
   * key counts as stored once the newer one is). While the database fails it waits, as the batches are retried.
   * Rejects when that can no longer happen: an item it waits for was dropped from the full queue, or `close()`
   * ended with one still unwritten. Resolves at once when nothing was waiting.
   */
  flushed(): Promise<void> {
    const upTo = this.adds;
    if (!this.waitsFor(upTo)) return Promise.resolve();
    if (this.drained) return Promise.reject(this.unwrittenAtClose());
    return new Promise((resolve, reject) => this.flushWaiters.push({ upTo, resolve, reject }));
  }

  /** Calls `handler` on each transition between up and down; returns a function that removes it. */
  onStatus(handler: (status: StoreStatus) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  stats(): WriteBehindStats {
    return {
      pending: this.pending,
      written: this.written,
      failedFlushes: this.failedFlushes,
      dropped: this.dropped,
      status: this.state,
      lastError: this.lastError,
      lastFlushAt: this.lastFlushAt,
    };
  }

  /**
   * Stops taking items and writes what is waiting, for at most `closeTimeoutMs` (failed batches are retried
   * within that time). Logs an error with the count of items left unwritten. Later calls wait for the first.
   */
  close(): Promise<void> {
    this.closed ??= this.drain();
    return this.closed;
  }

  private async drain(): Promise<void> {
    this.closing = true;
    this.clearTimer();
    const deadline = Date.now() + this.o.closeTimeoutMs;
    while (this.pending > 0 && Date.now() < deadline) {
      if (!this.flushing) {
        if (this.failures > 0) {
          await sleep(
            Math.min(
              backoffDelay(this.failures, {
                minMs: this.o.retryMinMs,
                maxMs: this.o.retryMaxMs,
                jitter: 'proportional',
              }),
              deadline - Date.now(),
            ),
          );
          if (Date.now() >= deadline) break;
        }
        this.startFlush();
      }
      await waitAtMost(this.flushing, deadline - Date.now());
    }
    if (this.pending > 0) {
      this.o.logger.error(
        { left: this.pending, lastError: this.lastError },
        `store: closing with ${this.pending} ${this.o.noun} not written${this.o.lossHint}`,
      );
    }
    this.drained = true;
    this.settleFlushWaiters();
    const left = this.flushWaiters;
    this.flushWaiters = [];
    for (const waiter of left) waiter.reject(this.unwrittenAtClose());
  }

  /** True while an item added by add number `upTo` or earlier is not in the database. */
  private waitsFor(upTo: number): boolean {
    for (const entries of [this.inflight, this.queue]) {
      if (entries) for (const entry of entries.values()) if (entry.since <= upTo) return true;
    }
    return false;
  }

  /** Resolves the `flushed()` calls whose items are all in the database. */
  private settleFlushWaiters(): void {
    if (this.flushWaiters.length === 0) return;
    const still: FlushWaiter[] = [];
    for (const waiter of this.flushWaiters) {
      if (this.waitsFor(waiter.upTo)) still.push(waiter);
      else waiter.resolve();
    }
    this.flushWaiters = still;
  }

  private unwrittenAtClose(): Error {
    return new Error(`store closed with ${this.o.noun} not written${this.o.lossHint}`);
  }

  private schedule(): void {
    if (this.closing || this.flushing || this.failures > 0 || this.queue.size === 0) return;
    if (this.queue.size >= this.o.batchSize) {
      // A full batch goes out on the next turn of the event loop, so that writes of the same tick join it.
      this.clearTimer();
      this.timer = setTimeout(() => this.startFlush(), 0);
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.startFlush(), this.o.flushMs);
    }
    this.timer?.unref();
  }

  private startFlush(): void {
    this.clearTimer();
    if (this.flushing || this.queue.size === 0) return;
    const batch = new Map<unknown, Entry<T>>();
    for (const [key, entry] of this.queue) {
      if (batch.size >= this.o.batchSize) break;
      batch.set(key, entry);
    }
    for (const key of batch.keys()) this.queue.delete(key);
    this.inflight = batch;
    this.flushing = this.flush(batch).finally(() => {
      this.flushing = undefined;
      this.afterFlush();
    });
  }

  private async flush(batch: ReadonlyMap<unknown, Entry<T>>): Promise<void> {
    try {
      await this.write([...batch.values()].map((entry) => entry.item));
      this.inflight = undefined;
      this.shadowed = 0;
      this.written += batch.size;
      this.lastFlushAt = Date.now();
      this.failures = 0;
      if (this.state === 'down') {
        this.state = 'up';
        this.o.logger.info(
          { pending: this.pending },
          `store: database writes of ${this.o.noun} succeed again`,
        );
        this.emit({ state: 'up' });
      }
      this.settleFlushWaiters();
    } catch (err) {
      const back = new Map<unknown, Entry<T>>();
      for (const [key, entry] of batch) if (!this.queue.has(key)) back.set(key, entry);
      for (const [key, entry] of this.queue) {
        // The newer item stands in for the failed one, so it carries that one's write too.
        const failed = batch.get(key);
        back.set(key, failed && failed.since < entry.since ? { ...entry, since: failed.since } : entry);
      }
      this.queue = back;
      this.inflight = undefined;
      this.shadowed = 0;
      this.failures++;
      this.failedFlushes++;
      this.lastError = err instanceof Error ? err.message : String(err);
      this.o.logger.warn(
        { err, pending: this.pending, failures: this.failures },
        `store: writing ${batch.size} ${this.o.noun} failed; kept for a retry`,
      );
      if (this.state === 'up') {
        this.state = 'down';
        this.emit({ state: 'down', error: this.lastError });
      }
    }
  }

  private afterFlush(): void {
    if (this.closing) return;
    if (this.failures > 0) {
      this.timer = setTimeout(
        () => this.startFlush(),
        backoffDelay(this.failures, {
          minMs: this.o.retryMinMs,
          maxMs: this.o.retryMaxMs,
          jitter: 'proportional',
        }),
      );
      this.timer.unref();
    } else {
      this.schedule();
    }
  }

  /** Drops the oldest queued items while more than `maxPending` wait. */
  private trim(): void {
    if (this.pending <= this.o.maxPending) return;
    let dropped = 0;
    let oldestDropped = Infinity;
    for (const [key, entry] of this.queue) {
      if (this.pending <= this.o.maxPending) break;
      this.queue.delete(key);
      // The batch's older item of this key counts again once its replacement is gone.
      if (this.inflight?.has(key)) this.shadowed--;
      dropped++;
      oldestDropped = Math.min(oldestDropped, entry.since);
    }
    this.dropped += dropped;
    // A flushed() call waiting for a dropped item can never be answered as asked.
    const still: FlushWaiter[] = [];
    for (const waiter of this.flushWaiters) {
      if (oldestDropped > waiter.upTo) still.push(waiter);
      else waiter.reject(new Error(`${this.o.noun} dropped from the full write buffer${this.o.lossHint}`));
    }
    this.flushWaiters = still;
    const now = Date.now();
    if (now - this.lastDropLogAt >= DROP_LOG_INTERVAL_MS) {
      this.lastDropLogAt = now;
      this.o.logger.error(
        { dropped: this.dropped, maxPending: this.o.maxPending, lastError: this.lastError },
        `store: write buffer full, oldest ${this.o.noun} dropped${this.o.lossHint}`,
      );
    }
  }

  private emit(status: StoreStatus): void {
    for (const handler of this.handlers) {
      try {
        handler(status);
      } catch (err) {
        this.o.logger.error({ err }, 'store: a status handler threw');
      }
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
