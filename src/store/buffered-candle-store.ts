import type { CandleUpdate } from '../domain/candle.ts';
import type { Interval } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';
import type { CandleStore, StoredCandle } from './candle-store.ts';
import { checkStorable, rowKey } from './candle-row.ts';
import { checkStorableTrade, type TradeStore } from './trade-store.ts';
import {
  WriteBehind,
  type StoreStatus,
  type WriteBehindOptions,
  type WriteBehindStats,
} from './write-behind.ts';

export type { StoreStatus, WriteBehindStats as BufferedStoreStats } from './write-behind.ts';

/** Options of the buffered stores: every WriteBehind limit (see write-behind.ts for the defaults). */
export type BufferedStoreOptions = Omit<WriteBehindOptions, 'noun' | 'lossHint'> & {
  /** Told how long each batch write to the target took, ms, and whether it succeeded (the store's metrics). */
  readonly onBatchWritten?: (ms: number, ok: boolean) => void;
};

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
  private readonly queue: WriteBehind<CandleUpdate>;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly target: CandleStore,
    options: BufferedStoreOptions,
  ) {
    const { onBatchWritten, ...limits } = options;
    const write = onBatchWritten
      ? async (batch: readonly CandleUpdate[]): Promise<void> => {
          const started = performance.now();
          let ok = false;
          try {
            await target.write(batch);
            ok = true;
          } finally {
            onBatchWritten(performance.now() - started, ok);
          }
        }
      : (batch: readonly CandleUpdate[]) => target.write(batch);
    this.queue = new WriteBehind(write, rowKey, {
      ...limits,
      noun: 'bars',
      lossHint: ' (the venues are asked for recent history again at the next start)',
    });
  }

  /** Queues `updates` (after checking that each can be stored; see checkStorable) and returns. */
  async write(updates: readonly CandleUpdate[]): Promise<void> {
    updates.forEach(checkStorable);
    this.queue.add(updates);
  }

  async recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
    const stored = await this.target.recent(symbol, interval, limit, end);
    if (this.queue.pending === 0) return stored;
    const byTime = new Map<number, StoredCandle>();
    for (const s of stored) byTime.set(s.bar.time, s);
    let overlaid = false;
    // Waiting order is write order, and the target's composite is the row written last, so the last waiting
    // update of a time is the one the target will answer once it is written.
    for (const u of this.queue.waiting()) {
      if (u.symbol !== symbol || u.interval !== interval || (end !== undefined && u.bar.time >= end))
        continue;
      byTime.set(u.bar.time, { bar: u.bar, sources: u.sources, backfilled: u.backfilled === true });
      overlaid = true;
    }
    if (!overlaid) return stored;
    const merged = [...byTime.values()].sort((a, b) => a.bar.time - b.bar.time);
    return merged.slice(Math.max(0, merged.length - limit));
  }

  /** See CandleStore.flushed and WriteBehind.flushed: waits until the target holds every earlier write. */
  flushed(): Promise<void> {
    return this.queue.flushed();
  }

  onStatus(handler: (status: StoreStatus) => void): () => void {
    return this.queue.onStatus(handler);
  }

  stats(): WriteBehindStats {
    return this.queue.stats();
  }

  /** Writes what is waiting (for at most `closeTimeoutMs`), then closes the target. Later calls wait for the first. */
  close(): Promise<void> {
    this.closed ??= this.queue.close().then(() => this.target.close());
    return this.closed;
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
