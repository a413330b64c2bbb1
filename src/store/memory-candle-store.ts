import type { Candle, CandleUpdate } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import { BarColumns, SourceLists } from './bar-columns.ts';
import type { CandleStore, StoredCandle } from './candle-store.ts';

/** Changes to bars older than a series held when they came (MemoryCandleStore.mirror). */
interface OlderChanges {
  /** The latest change of each bar time. */
  readonly byTime: Map<number, StoredCandle>;
  /** Set once more changes came than could be kept: the series is then not extended back. */
  forgotten: boolean;
}

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
  /** Per series, the changes `mirror` did not put (older than the series held), for `extendBack`. */
  private readonly olderChanges = new Map<string, OlderChanges>();

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
   * Follows a stream of updates that begins now (a gateway's copy of the bus). A series starts at its first bar;
   * a change to a bar older than the series holds (a revision from before this process began, or of a bar trimmed
   * since) is not put, so that memory never holds a bar with a hole after it. It is kept aside for `extendBack`:
   * a database read may have been made before the change was stored.
   */
  mirror(update: CandleUpdate): void {
    const { symbol, interval, bar } = update;
    const oldest = this.series.get(`${symbol}:${interval}`)?.oldestTime;
    if (oldest !== undefined && bar.time < oldest) {
      this.keepOlderChange(`${symbol}:${interval}`, update);
      return;
    }
    this.put(symbol, interval, bar, update.sources, update.backfilled === true);
  }

  /**
   * Extends a series back with `read`, a database read of it (oldest first), so that reads of that depth are
   * answered from memory from then on. Only where the read joins the bars held without a hole: memory holds a bar
   * of the series and the read reaches it (its newest bar is at or after the oldest held; from there on memory's
   * bars are the newer). And only with bars the database held in their final state when it was read: every bar
   * older than the oldest held ended by then, and `settledBefore` is a time by which a bar that ended then was
   * stored final (the caller knows the store's delay). A bar that ended just before this process began following
   * the stream may have had its final state published before and stored after the read: nothing later would
   * correct it. A change to one of the older bars that `mirror` kept aside replaces the read's state of it: the
   * read may predate it, and any later change still comes through `mirror`. Within the capacity: the newest of the
   * read's older bars that fit.
   */
  extendBack(symbol: string, interval: Interval, read: readonly StoredCandle[], settledBefore: number): void {
    const key = `${symbol}:${interval}`;
    const bars = this.series.get(key);
    const oldest = bars?.oldestTime;
    const newestRead = read[read.length - 1];
    if (
      bars === undefined ||
      oldest === undefined ||
      oldest > settledBefore ||
      newestRead === undefined ||
      newestRead.bar.time < oldest
    )
      return;
    const changes = this.olderChanges.get(key);
    // A change no longer kept: the read may hold a stale state of its bar that nothing would correct.
    if (changes?.forgotten === true) return;
    const room = this.capacity - bars.length;
    const older = new Map<number, StoredCandle>();
    let from = oldest;
    for (let i = read.length - 1; i >= 0 && older.size < room; i--) {
      const stored = read[i] as StoredCandle;
      const time = stored.bar.time;
      if (time >= oldest) continue;
      older.set(time, stored);
      from = time;
    }
    if (older.size === 0) return;
    if (changes) {
      for (const [time, change] of changes.byTime) {
        if (time < from) continue;
        older.set(time, change);
        changes.byTime.delete(time);
      }
    }
    bars.putMany([...older.values()], this.capacity);
  }

  private keepOlderChange(key: string, update: CandleUpdate): void {
    let changes = this.olderChanges.get(key);
    if (!changes) {
      changes = { byTime: new Map(), forgotten: false };
      this.olderChanges.set(key, changes);
    }
    const { bar, sources } = update;
    changes.byTime.set(bar.time, { bar, sources, backfilled: update.backfilled === true });
    if (changes.byTime.size > this.capacity) {
      // Past `capacity` (more revisions of old bars than memory holds bars): none is kept, and the series is no
      // longer extended back (extendBack); its reads beyond memory go to the database, as without extending.
      changes.byTime.clear();
      changes.forgotten = true;
    }
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
