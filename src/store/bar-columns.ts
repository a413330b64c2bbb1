/**
 * One series of stored bars (time-sorted, unique times) in columns of typed arrays instead of an object per bar
 * with an object and a BigInt per decimal: about 110 bytes a bar instead of about 600, and no garbage-collected
 * object per bar for the collector to trace. The memory tier holds thousands of bars per series for every series
 * of every instrument, which as objects was most of the process's live heap.
 *
 * Exact (see BarDecimalColumns). The `sources` of a bar are shared, frozen arrays (one per distinct list of
 * venues).
 *
 * A bar read is built as an object once and that object is kept for later reads until the bar changes, as an
 * array of objects gives the same object back: the gateway encodes a bar once per object and recognises an
 * unchanged `initial` by its objects, so a subscribe burst reads and encodes each bar once. Only bars that were
 * read have objects: with no client, none.
 */
import { BarDecimalColumns, lowerBoundOf, moveRows } from '../domain/bar-decimal-columns.ts';
import type { Candle } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { StoredCandle } from './candle-store.ts';

const INITIAL_CAPACITY = 16;
/** Rows past `expectedBars` the columns get, so that dropping bars and moving the rest to the front is rare. */
const SLACK_ROWS = 64;

/**
 * The distinct venue lists of bars, shared by every series of a store: a bar keeps the index of its list (a
 * handful exist: the venues of an instrument, alone or together), not an array of its own.
 */
export class SourceLists {
  private readonly byKey = new Map<string, number>();
  private readonly lists: (readonly VenueId[])[] = [];

  indexOf(sources: readonly VenueId[]): number {
    const key = sources.join(',');
    let index = this.byKey.get(key);
    if (index === undefined) {
      index = this.lists.length;
      this.lists.push(Object.freeze([...sources]));
      this.byKey.set(key, index);
    }
    return index;
  }

  at(index: number): readonly VenueId[] {
    return this.lists[index] as readonly VenueId[];
  }
}

export class BarColumns {
  /** Rows [head, head + size) hold the bars, oldest first. */
  private head = 0;
  private size = 0;
  private capacity = 0;
  private times = new Float64Array(0);
  /** Keyed by the bar's time. */
  private readonly decimals = new BarDecimalColumns();
  private trades = new Float64Array(0);
  private sourceIndexes = new Uint16Array(0);
  private backfilled = new Uint8Array(0);
  /**
   * The objects of bars read and not changed since, by bar time (not by row: an older bar put in moves the rows
   * after it, which keys by time leave where they are); created by the first read.
   */
  private objects: Map<number, StoredCandle> | undefined;

  /**
   * `expectedBars`: how many bars the owner holds at most (its capacity); the columns stop doubling there and move
   * the held rows to the front instead. They still grow past it when more are put in.
   */
  constructor(
    private readonly sources: SourceLists,
    private readonly expectedBars = Infinity,
  ) {}

  get length(): number {
    return this.size;
  }

  /** Puts a bar in, replacing the one of the same time. */
  put(bar: Candle, sources: readonly VenueId[], backfilled: boolean): void {
    const time = bar.time;
    const size = this.size;
    if (size === 0 || this.times[this.head + size - 1]! < time) {
      if (this.head + size >= this.capacity) this.makeRoom();
      this.write(this.head + this.size, bar, sources, backfilled);
      this.size++;
      return;
    }
    const at = this.lowerBound(time);
    if (at < size && this.times[this.head + at] === time) {
      this.write(this.head + at, bar, sources, backfilled);
      return;
    }
    // A bar older than the newest that was not held (rare: a late revision, a gap filled): the rows after it move.
    if (this.head + size >= this.capacity) this.makeRoom();
    const row = this.head + at;
    const end = this.head + size;
    this.times.copyWithin(row + 1, row, end);
    this.decimals.copyRows(row + 1, row, end);
    this.trades.copyWithin(row + 1, row, end);
    this.sourceIndexes.copyWithin(row + 1, row, end);
    this.backfilled.copyWithin(row + 1, row, end);
    this.write(row, bar, sources, backfilled);
    this.size++;
  }

  /** Drops the `count` oldest bars. */
  dropOldest(count: number): void {
    const n = Math.min(count, this.size);
    for (let i = 0; i < n; i++) {
      const time = this.times[this.head + i]!;
      this.decimals.forget(time);
      this.objects?.delete(time);
    }
    this.head += n;
    this.size -= n;
    if (this.size === 0) this.head = 0;
  }

  /** Index of the first bar with time >= `time` (0 = oldest). */
  lowerBound(time: number): number {
    return lowerBoundOf(this.times, this.head, this.size, time);
  }

  /** The bars [from, to) (0 = oldest), oldest first: the objects of earlier reads for bars unchanged since. */
  slice(from: number, to: number): StoredCandle[] {
    const start = Math.max(0, from);
    const stop = Math.min(this.size, to);
    const out: StoredCandle[] = [];
    const objects = (this.objects ??= new Map());
    for (let i = start; i < stop; i++) {
      const row = this.head + i;
      const time = this.times[row]!;
      let stored = objects.get(time);
      if (stored === undefined) {
        stored = this.read(row);
        objects.set(time, stored);
      }
      out.push(stored);
    }
    return out;
  }

  private read(row: number): StoredCandle {
    const bar = this.decimals.candle(row, this.times[row]!, this.trades[row]!);
    return {
      bar,
      sources: this.sources.at(this.sourceIndexes[row]!),
      backfilled: this.backfilled[row] === 1,
    };
  }

  private write(row: number, bar: Candle, sources: readonly VenueId[], backfilled: boolean): void {
    this.times[row] = bar.time;
    this.decimals.set(row, bar, bar.time);
    this.trades[row] = bar.trades;
    this.sourceIndexes[row] = this.sources.indexOf(sources);
    this.backfilled[row] = backfilled ? 1 : 0;
    this.objects?.delete(bar.time);
  }

  /**
   * Room for one more row at the end: moves the held rows to the front when at least a quarter of the arrays lies
   * before them (dropped bars) or the arrays reached the expected size, else doubles them (up to the expected size).
   */
  private makeRoom(): void {
    const head = this.head;
    const size = this.size;
    const limit = this.expectedBars + SLACK_ROWS;
    const compact = head > 0 && (head * 4 >= this.capacity || this.capacity >= limit);
    const doubled = Math.max(INITIAL_CAPACITY, this.capacity * 2);
    const capacity = compact ? this.capacity : this.capacity < limit ? Math.min(doubled, limit) : doubled;
    const rows = { head, size, capacity, inPlace: compact };
    this.times = moveRows(this.times, (n) => new Float64Array(n), 1, rows);
    this.decimals.moveRows(rows);
    this.trades = moveRows(this.trades, (n) => new Float64Array(n), 1, rows);
    this.sourceIndexes = moveRows(this.sourceIndexes, (n) => new Uint16Array(n), 1, rows);
    this.backfilled = moveRows(this.backfilled, (n) => new Uint8Array(n), 1, rows);
    this.head = 0;
    this.capacity = capacity;
  }
}
