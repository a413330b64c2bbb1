import type { Candle, CandleUpdate } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import { BarColumns, SourceLists } from './bar-columns.ts';
import type { CandleStore, StoredCandle } from './candle-store.ts';

/**
 * CandleStore in memory: per (symbol, interval) the bars in time order, trimmed to `capacity` bars, kept in
 * columns (bar-columns.ts) rather than as objects: this tier holds every series of every instrument, thousands of
 * bars each, which as objects was most of the process's heap. A read gives the same object for a bar as the
 * read before it until the bar changes, as the array of objects this replaced did.
 * Updates almost always touch the last bar or append, so writes are O(1) in practice.
 */
export class MemoryCandleStore implements CandleStore {
  private readonly series = new Map<string, BarColumns>();
  private readonly sources = new SourceLists();

  constructor(private readonly capacity = 5000) {}

  async write(updates: readonly CandleUpdate[]): Promise<void> {
    for (const u of updates) this.put(u.symbol, u.interval, u.bar, u.sources, u.backfilled === true);
  }

  /** Synchronous upsert, for callers on the hot path. */
  put(
    symbol: string,
    interval: Interval,
    bar: Candle,
    sources: readonly VenueId[] = [],
    backfilled = false,
  ): void {
    const key = `${symbol}:${interval}`;
    let bars = this.series.get(key);
    if (!bars) {
      bars = new BarColumns(this.sources, this.capacity);
      this.series.set(key, bars);
    }
    bars.put(bar, sources, backfilled);
    if (bars.length > this.capacity) bars.dropOldest(bars.length - this.capacity);
  }

  async recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
    return this.recentSync(symbol, interval, limit, end);
  }

  recentSync(symbol: string, interval: Interval, limit: number, end?: number): StoredCandle[] {
    const bars = this.series.get(`${symbol}:${interval}`);
    if (!bars) return [];
    const stop = end === undefined ? bars.length : bars.lowerBound(end);
    return bars.slice(stop - limit, stop);
  }

  /** Bars held for (symbol, interval). */
  count(symbol: string, interval: Interval): number {
    return this.series.get(`${symbol}:${interval}`)?.length ?? 0;
  }

  /** Writes are done when `write` resolves: nothing is ever waiting. */
  async flushed(): Promise<void> {}

  async close(): Promise<void> {}
}
