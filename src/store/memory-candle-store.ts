import type { Candle, CandleUpdate } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import { BarColumns, SourceLists } from './bar-columns.ts';
import type { CandleStore, StoredCandle } from './candle-store.ts';

/**
 * Runs of updates of one series at least this long go in as one block: live flushes bring one or two bars of a
 * series (put one by one, no row moves), history pieces hundreds.
 */
const BLOCK_RUN = 16;

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
    this.putAll(updates);
  }

  /** Synchronous upsert, for callers on the hot path. */
  put(
    symbol: string,
    interval: Interval,
    bar: Candle,
    sources: readonly VenueId[] = [],
    backfilled = false,
  ): void {
    const bars = this.seriesOf(symbol, interval);
    bars.put(bar, sources, backfilled);
    if (bars.length > this.capacity) bars.dropOldest(bars.length - this.capacity);
  }

  /**
   * Synchronous upserts, the same as `put` of each in turn. A run of many updates of one series (a piece of
   * history) goes in as one block (BarColumns.putMany): its bars are older than those held, and one by one each
   * would move every held bar after it.
   */
  putAll(updates: readonly CandleUpdate[]): void {
    let from = 0;
    while (from < updates.length) {
      const first = updates[from]!;
      let to = from + 1;
      while (
        to < updates.length &&
        updates[to]!.interval === first.interval &&
        updates[to]!.symbol === first.symbol
      )
        to++;
      if (to - from < BLOCK_RUN) {
        for (let i = from; i < to; i++) {
          const u = updates[i]!;
          this.put(u.symbol, u.interval, u.bar, u.sources, u.backfilled === true);
        }
      } else {
        this.seriesOf(first.symbol, first.interval).putMany(updates.slice(from, to), this.capacity);
      }
      from = to;
    }
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

  private seriesOf(symbol: string, interval: Interval): BarColumns {
    const key = `${symbol}:${interval}`;
    let bars = this.series.get(key);
    if (!bars) {
      bars = new BarColumns(this.sources, this.capacity);
      this.series.set(key, bars);
    }
    return bars;
  }

  /** Bars held for (symbol, interval). */
  count(symbol: string, interval: Interval): number {
    return this.series.get(`${symbol}:${interval}`)?.length ?? 0;
  }

  /** Writes are done when `write` resolves: nothing is ever waiting. */
  async flushed(): Promise<void> {}

  async close(): Promise<void> {}
}
