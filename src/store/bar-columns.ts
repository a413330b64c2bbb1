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

/** A bar to put in, with what is stored beside it (a CandleUpdate is one). */
export interface BarEntry {
  readonly bar: Candle;
  readonly sources: readonly VenueId[];
  readonly backfilled?: boolean;
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
   * The newest bar's latest state, not yet written into the columns: the bar in progress changes with every
   * publish of every series (over a thousand a second in `tickwire all`), and writing its eight decimals each time
   * was most of the memory tier's cost, for states that no read saw. Written by `settle`, before anything reads or
   * moves the rows.
   */
  private pendingBar: Candle | undefined;
  private pendingSources: readonly VenueId[] = [];
  private pendingBackfilled = false;

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
    if (size > 0 && this.times[this.head + size - 1] === time) {
      // The newest bar again (the bar in progress): kept as given until a read or another bar needs the columns.
      this.pendingBar = bar;
      this.pendingSources = sources;
      this.pendingBackfilled = backfilled;
      this.objects?.delete(time);
      return;
    }
    this.settle();
    if (size === 0 || this.times[this.head + size - 1]! < time) {
      if (this.head + size >= this.capacity) this.makeRoom(1);
      this.write(this.head + this.size, bar, sources, backfilled);
      this.size++;
      return;
    }
    const at = this.lowerBound(time);
    if (at < size && this.times[this.head + at] === time) {
      this.write(this.head + at, bar, sources, backfilled);
      return;
    }
    // A bar older than the newest that was not held (a late revision, a gap filled): the rows after it move.
    if (this.head + size >= this.capacity) this.makeRoom(1);
    const row = this.head + at;
    this.copyRows(row, this.head + size, row + 1);
    this.write(row, bar, sources, backfilled);
    this.size++;
  }

  /**
   * Puts many bars in at once, as `put` one by one followed each time by dropping the oldest bars past `keep`
   * would leave them: the newest `keep` bars of those held and those given, the last given of a time winning.
   *
   * Why: history arrives newest first, a piece of hundreds of bars at a time, each bar older than every one held.
   * Put one by one, every such bar moves all the held rows after it, so loading a series was quadratic in its
   * length; here the held rows move once per piece, each straight to its final row.
   */
  putMany(entries: readonly BarEntry[], keep = Infinity): void {
    this.settle();
    const byTime = new Map<number, BarEntry>();
    for (const entry of entries) byTime.set(entry.bar.time, entry);
    const sorted = [...byTime.values()].sort((a, b) => a.bar.time - b.bar.time);
    const newest = this.size > 0 ? this.times[this.head + this.size - 1]! : -Infinity;
    const older: BarEntry[] = [];
    const rest: BarEntry[] = [];
    for (const entry of sorted) {
      const time = entry.bar.time;
      if (time < newest && !this.holds(time)) older.push(entry);
      else rest.push(entry);
    }
    this.insertOlder(older, keep);
    // Replacements and appends: no row moves for these.
    for (const { bar, sources, backfilled } of rest) {
      this.put(bar, sources, backfilled === true);
      if (this.size > keep) this.dropOldest(this.size - keep);
    }
  }

  /** Drops the `count` oldest bars. */
  dropOldest(count: number): void {
    this.settle();
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

  /** The time of the oldest bar held (undefined when none is). */
  get oldestTime(): number | undefined {
    return this.size > 0 ? this.times[this.head] : undefined;
  }

  /** Whether a bar of this time is held. */
  holds(time: number): boolean {
    const at = this.lowerBound(time);
    return at < this.size && this.times[this.head + at] === time;
  }

  /** Index of the first bar with time >= `time` (0 = oldest). */
  lowerBound(time: number): number {
    return lowerBoundOf(this.times, this.head, this.size, time);
  }

  /** The bars [from, to) (0 = oldest), oldest first: the objects of earlier reads for bars unchanged since. */
  slice(from: number, to: number): StoredCandle[] {
    this.settle();
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

  /**
   * Inserts `older` (sorted by time, none of their times held, each older than the newest held) keeping the newest
   * `keep` of them and the held bars together. Merges from the newest end: each run of held rows newer than the
   * next bar to place moves once, straight to its final row.
   */
  private insertOlder(older: readonly BarEntry[], keep: number): void {
    // What `keep` would drop at once goes first: the oldest of the held and the given bars together.
    let excess = this.size + older.length - keep;
    let droppedHeld = 0;
    let skipped = 0;
    while (excess-- > 0) {
      const oldestHeld = droppedHeld < this.size ? this.times[this.head + droppedHeld]! : Infinity;
      if (skipped < older.length && older[skipped]!.bar.time < oldestHeld) skipped++;
      else droppedHeld++;
    }
    if (droppedHeld > 0) this.dropOldest(droppedHeld);
    const count = older.length - skipped;
    if (count <= 0) return;
    if (this.head + this.size + count > this.capacity) this.makeRoom(count);
    // Held rows [head, end) are still where they were; the rows from `to` on are final.
    let end = this.head + this.size;
    let to = end + count;
    for (let i = older.length - 1; i >= skipped; i--) {
      const { bar, sources, backfilled } = older[i]!;
      const from = this.head + lowerBoundOf(this.times, this.head, end - this.head, bar.time);
      const newer = end - from;
      if (newer > 0) this.copyRows(from, end, to - newer);
      to -= newer + 1;
      end = from;
      this.write(to, bar, sources, backfilled === true);
    }
    this.size += count;
  }

  /** Writes the newest bar's state kept by `put` into the columns. */
  private settle(): void {
    const bar = this.pendingBar;
    if (bar === undefined) return;
    this.pendingBar = undefined;
    this.write(this.head + this.size - 1, bar, this.pendingSources, this.pendingBackfilled);
  }

  /** Copies rows [start, end) to `target` in every column (ranges may overlap). */
  private copyRows(start: number, end: number, target: number): void {
    this.times.copyWithin(target, start, end);
    this.decimals.copyRows(target, start, end);
    this.trades.copyWithin(target, start, end);
    this.sourceIndexes.copyWithin(target, start, end);
    this.backfilled.copyWithin(target, start, end);
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
   * Room for `rows` more rows at the end: moves the held rows to the front when they then fit and at least a quarter
   * of the arrays lies before them (dropped bars) or the arrays reached the expected size, else doubles them (up to
   * the expected size) or more, as the rows need.
   */
  private makeRoom(rows: number): void {
    const head = this.head;
    const size = this.size;
    const limit = this.expectedBars + SLACK_ROWS;
    const fits = size + rows <= this.capacity;
    const compact = fits && head > 0 && (head * 4 >= this.capacity || this.capacity >= limit);
    const doubled = Math.max(INITIAL_CAPACITY, this.capacity * 2);
    const grown = this.capacity < limit ? Math.min(doubled, limit) : doubled;
    const capacity = compact ? this.capacity : Math.max(grown, size + rows);
    const held = { head, size, capacity, inPlace: compact };
    this.times = moveRows(this.times, (n) => new Float64Array(n), 1, held);
    this.decimals.moveRows(held);
    this.trades = moveRows(this.trades, (n) => new Float64Array(n), 1, held);
    this.sourceIndexes = moveRows(this.sourceIndexes, (n) => new Uint16Array(n), 1, held);
    this.backfilled = moveRows(this.backfilled, (n) => new Uint8Array(n), 1, held);
    this.head = 0;
    this.capacity = capacity;
  }
}
