import type { CandleUpdate } from '../domain/candle.ts';
import type { Interval } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import { positiveInteger } from '../util/options.ts';
import type { CandleStore, StoredCandle } from './candle-store.ts';
import {
  candleRowKey,
  checkStorable,
  decodeCandleRow,
  encodeCandleRow,
  isRowOfSeries,
  rowKey,
  type CandleRow,
  type CandleRowStore,
} from './candle-row.ts';
import { checkStorableTrade, type TradeStore } from './trade-store.ts';
import {
  WriteBehind,
  type StoreStatus,
  type WriteBehindOptions,
  type WriteBehindStats,
} from './write-behind.ts';

export type { StoreStatus } from './write-behind.ts';

/** The candle write buffer's figures: the write-behind queue's, and the live bars held for the checkpoint. */
export interface BufferedStoreStats extends WriteBehindStats {
  /** Live bars held back until the next checkpoint (counted in `pending` too). */
  readonly heldLive: number;
}

/** Options of the buffered stores: every WriteBehind limit (see write-behind.ts for the defaults). */
export type BufferedStoreOptions = Omit<WriteBehindOptions, 'noun' | 'lossHint'> & {
  /** Told how long each batch write to the target took, ms, and whether it succeeded (the store's metrics). */
  readonly onBatchWritten?: (ms: number, ok: boolean) => void;
  /**
   * Bars in progress (`live`) are written to the target at most this often, ms (the checkpoint period).
   * Default LIVE_CHECKPOINT_MS.
   */
  readonly liveCheckpointMs?: number;
  /** Sets the checkpoint timer (a ManualClock in tests). Default: the system clock. */
  readonly clock?: Clock;
};

/**
 * Default checkpoint period of bars in progress, ms. A live bar changes up to ten times a second and is rewritten
 * until it closes; the database needs only its final state, so the intermediate ones are kept back this long and
 * only the newest is written. A crash loses at most this much of the bar in progress, which the next start
 * rebuilds from the venue's history anyway (docs/OPERATIONS.md, "Storage").
 */
export const LIVE_CHECKPOINT_MS = 5000;

/**
 * CandleStore that writes behind: `write` queues the updates and returns at once; batches go to `target` in the
 * background, so a slow or unreachable database never holds up the candle pipeline. During an outage the bars
 * wait (up to `maxPending`, then the oldest are dropped and counted), the failing batch is retried with backoff,
 * and `onStatus` reports 'down' once and 'up' after the first batch that succeeds again.
 *
 * Updates of the same row (venue, symbol, interval, time) coalesce: the newer replaces the queued one and moves
 * to the end, so rows reach the target in the order of their last update. `recent` reads the target and overlays
 * the waiting bars of the series, so a reader sees what was written even before it reached the database.
 */
export class BufferedCandleStore implements CandleStore {
  /** Bars waiting for the target, as CandleRows: one string each instead of a bar's objects. */
  private readonly queue: WriteBehind<CandleRow>;
  /**
   * `live` updates held back until the next checkpoint, newest per row, in the order of their last write. Every
   * one of them is newer than anything queued: a `closed` or `revised` write queues them before itself.
   */
  private held = new Map<string, CandleUpdate>();
  private checkpointTimer: Timer | undefined;
  private readonly liveCheckpointMs: number;
  private readonly clock: Clock;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly target: CandleRowStore,
    options: BufferedStoreOptions,
  ) {
    const { onBatchWritten, liveCheckpointMs, clock, ...limits } = options;
    this.liveCheckpointMs = liveCheckpointMs ?? LIVE_CHECKPOINT_MS;
    positiveInteger('bars write buffer', 'liveCheckpointMs', this.liveCheckpointMs);
    this.clock = clock ?? systemClock;
    const write = onBatchWritten
      ? async (batch: readonly CandleRow[]): Promise<void> => {
          const started = performance.now();
          let ok = false;
          try {
            await target.writeRows(batch);
            ok = true;
          } finally {
            onBatchWritten(performance.now() - started, ok);
          }
        }
      : (batch: readonly CandleRow[]) => target.writeRows(batch);
    this.queue = new WriteBehind(write, candleRowKey, {
      ...limits,
      noun: 'bars',
      lossHint: ' (the venues are asked for recent history again at the next start)',
    });
  }

  /**
   * Queues `updates` (after checking that each can be stored; see checkStorable) and returns. A `live` update is
   * held until the next checkpoint (a newer update of its row replaces it); a `closed` or `revised` one is queued
   * at once, after every held live update, so the target receives the writes in their order and skips only live
   * states that a newer write of the same row replaced.
   */
  async write(updates: readonly CandleUpdate[]): Promise<void> {
    if (this.closed) throw new Error('write of bars after close');
    updates.forEach(checkStorable);
    let from = 0;
    for (let i = 0; i < updates.length; i++) {
      const u = updates[i] as CandleUpdate;
      if (u.state !== 'live') continue;
      if (i > from) this.enqueue(updates.slice(from, i));
      this.hold(u);
      from = i + 1;
    }
    if (from < updates.length) this.enqueue(from === 0 ? updates : updates.slice(from));
  }

  async recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
    const stored = await this.target.recent(symbol, interval, limit, end);
    if (this.queue.pending === 0 && this.held.size === 0) return stored;
    const byTime = new Map<number, StoredCandle>();
    for (const s of stored) byTime.set(s.bar.time, s);
    let overlaid = false;
    // Waiting order is write order, and the target's composite is the row written last, so the last waiting
    // update of a time is the one the target will answer once it is written.
    for (const u of this.waiting(symbol, interval)) {
      if (end !== undefined && u.bar.time >= end) continue;
      byTime.set(u.bar.time, { bar: u.bar, sources: u.sources, backfilled: u.backfilled === true });
      overlaid = true;
    }
    if (!overlaid) return stored;
    const merged = [...byTime.values()].sort((a, b) => a.bar.time - b.bar.time);
    return merged.slice(Math.max(0, merged.length - limit));
  }

  /**
   * See CandleStore.flushed and WriteBehind.flushed: waits until the target holds every earlier write. The held
   * live bars are queued first (a checkpoint now), so a caller never waits for the checkpoint period.
   */
  flushed(): Promise<void> {
    this.checkpoint();
    return this.queue.flushed();
  }

  onStatus(handler: (status: StoreStatus) => void): () => void {
    return this.queue.onStatus(handler);
  }

  /** The write buffer's figures; `pending` counts the held live bars too. */
  stats(): BufferedStoreStats {
    const stats = this.queue.stats();
    return { ...stats, pending: stats.pending + this.held.size, heldLive: this.held.size };
  }

  /**
   * Writes what is waiting, held live bars included (for at most `closeTimeoutMs`), then closes the target.
   * Later calls wait for the first.
   */
  close(): Promise<void> {
    if (!this.closed) {
      this.checkpoint();
      this.closed = this.queue.close().then(() => this.target.close());
    }
    return this.closed;
  }

  private hold(update: CandleUpdate): void {
    const key = rowKey(update);
    // Delete first so the row moves to the end: the held order stays the order of the last writes.
    this.held.delete(key);
    this.held.set(key, update);
    if (this.checkpointTimer === undefined) {
      this.checkpointTimer = this.clock.setTimeout(() => {
        this.checkpointTimer = undefined;
        this.checkpoint();
      }, this.liveCheckpointMs);
      this.checkpointTimer.unref();
    }
  }

  /** Queues a `closed`/`revised` run of updates after the held live ones, which they may replace. */
  private enqueue(updates: readonly CandleUpdate[]): void {
    this.checkpoint();
    this.queue.add(updates.map(encodeCandleRow));
  }

  /** Queues the held live bars (their newest states), in the order of their last writes. */
  private checkpoint(): void {
    this.clock.clearTimer(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (this.held.size === 0) return;
    const held = [...this.held.values()].map(encodeCandleRow);
    this.held = new Map();
    this.queue.add(held);
  }

  /** Updates of a series not yet in the target, oldest first: the write buffer's, then the held live ones. */
  private *waiting(symbol: string, interval: Interval): IterableIterator<CandleUpdate> {
    const series = `${symbol},${interval},`;
    for (const row of this.queue.waiting()) if (isRowOfSeries(row, series)) yield decodeCandleRow(row);
    for (const u of this.held.values()) if (u.symbol === symbol && u.interval === interval) yield u;
  }
}

/**
 * Trades written behind, like BufferedCandleStore's bars: `write` queues and returns, batches are retried through
 * outages, the queue is bounded (the oldest are dropped and counted). Trades do not coalesce; the target skips
 * ones it already holds, so a retried batch does not duplicate them.
 */
export class BufferedTradeWriter {
  private readonly queue: WriteBehind<Trade>;

  constructor(target: TradeStore, options: BufferedStoreOptions) {
    this.queue = new WriteBehind((batch) => target.writeTrades(batch), undefined, {
      ...options,
      noun: 'trades',
    });
  }

  /** Queues `trades` (after checking that each can be stored; see checkStorableTrade). */
  write(trades: readonly Trade[]): void {
    trades.forEach(checkStorableTrade);
    this.queue.add(trades);
  }

  onStatus(handler: (status: StoreStatus) => void): () => void {
    return this.queue.onStatus(handler);
  }

  stats(): WriteBehindStats {
    return this.queue.stats();
  }

  /**
   * Writes what is waiting (for at most `closeTimeoutMs`). The target stays open: it is the candle store's
   * database, which the candle store closes.
   */
  close(): Promise<void> {
    return this.queue.close();
  }
}
