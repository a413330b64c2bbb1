import type { Candle, CandleUpdate } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import type { CandleStore, StoredCandle } from './candle-store.ts';

/**
 * CandleStore in memory: per (symbol, interval) a time-sorted array, trimmed to `capacity` bars.
 * Updates almost always touch the last bar or append, so writes are O(1) in practice.
 */
export class MemoryCandleStore implements CandleStore {
  private readonly series = new Map<string, StoredCandle[]>();

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
    const entry: StoredCandle = { bar, sources, backfilled };
    const key = `${symbol}:${interval}`;
    let bars = this.series.get(key);
    if (!bars) {
      bars = [];
      this.series.set(key, bars);
    }
    const last = bars[bars.length - 1];
    if (!last || last.bar.time < bar.time) {
      bars.push(entry);
      if (bars.length > this.capacity) bars.splice(0, bars.length - this.capacity);
      return;
    }
    const at = lowerBound(bars, bar.time);
    if (bars[at]?.bar.time === bar.time) bars[at] = entry;
    else bars.splice(at, 0, entry);
  }

  async recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]> {
    return this.recentSync(symbol, interval, limit, end);
  }

  recentSync(symbol: string, interval: Interval, limit: number, end?: number): StoredCandle[] {
    const bars = this.series.get(`${symbol}:${interval}`) ?? [];
    const stop = end === undefined ? bars.length : lowerBound(bars, end);
    return bars.slice(Math.max(0, stop - limit), stop);
  }

  /** Bars held for (symbol, interval). */
  count(symbol: string, interval: Interval): number {
    return this.series.get(`${symbol}:${interval}`)?.length ?? 0;
  }

  /** Writes are done when `write` resolves: nothing is ever waiting. */
  async flushed(): Promise<void> {}

  async close(): Promise<void> {}
}

/** Index of the first bar with time >= t. */
function lowerBound(bars: readonly StoredCandle[], t: number): number {
  let lo = 0;
  let hi = bars.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((bars[mid] as StoredCandle).bar.time < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
