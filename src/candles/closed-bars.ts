/**
 * The closed bars of one higher interval that a candle engine keeps (time-sorted, unique times; up to a few
 * thousand per interval and instrument), stored in columns of typed arrays instead of one `Candle` per bar with an
 * object and a BigInt per decimal: about 100 bytes a bar instead of about 400, and no garbage-collected object per
 * bar for the collector to trace. Every instrument of every venue has an engine: as objects, these bars were a
 * large part of the idle process's live heap (80,728 of them in a heap snapshot of the whole stack).
 *
 * Exact (see BarDecimalColumns). A bar read is a fresh object (its decimals too): the engine reads these bars rarely
 * (a rollup before the oldest held minute, a revision, `history`), so no object is kept.
 */
import { BarDecimalColumns, lowerBoundOf, moveRows } from '../domain/bar-decimal-columns.ts';
import type { Candle } from '../domain/candle.ts';

const INITIAL_CAPACITY = 16;

export class ClosedBars {
  /** Rows [head, head + size) hold the bars, oldest first. */
  private head = 0;
  private size = 0;
  private capacity = 0;
  private times = new Float64Array(0);
  /** Keyed by the bar's time. */
  private readonly decimals = new BarDecimalColumns();
  private trades = new Float64Array(0);

  get length(): number {
    return this.size;
  }

  /** Start of bar `index` (0 = oldest). */
  timeAt(index: number): number {
    this.check(index);
    return this.times[this.head + index]!;
  }

  /** Bar `index` (0 = oldest), as a fresh object. */
  at(index: number): Candle {
    this.check(index);
    return this.read(this.head + index);
  }

  /** Start of the newest bar, undefined when empty. */
  lastTime(): number | undefined {
    return this.size === 0 ? undefined : this.times[this.head + this.size - 1];
  }

  /** Appends `bar`, which must start after the newest. */
  push(bar: Candle): void {
    const last = this.lastTime();
    if (last !== undefined && !(bar.time > last))
      throw new RangeError('closed bars must be pushed in time order');
    if (this.head + this.size >= this.capacity) this.makeRoom();
    this.write(this.head + this.size, bar);
    this.size++;
  }

  /** Removes the newest bar. */
  pop(): void {
    if (this.size === 0) return;
    this.decimals.forget(this.times[this.head + this.size - 1]!);
    this.size--;
    if (this.size === 0) this.head = 0;
  }

  /** Drops the `count` oldest bars. */
  dropOldest(count: number): void {
    const n = Math.min(count, this.size);
    for (let i = 0; i < n; i++) this.decimals.forget(this.times[this.head + i]!);
    this.head += n;
    this.size -= n;
    if (this.size === 0) this.head = 0;
  }

  /** Index of the first bar that starts at or after `time` (`length` if none). */
  lowerBound(time: number): number {
    return lowerBoundOf(this.times, this.head, this.size, time);
  }

  /** Replaces the bar with the same start as `bar`; returns the old one (undefined if none is held, nothing stored). */
  replace(bar: Candle): Candle | undefined {
    const index = this.lowerBound(bar.time);
    if (index >= this.size || this.times[this.head + index] !== bar.time) return undefined;
    const row = this.head + index;
    const old = this.read(row);
    this.write(row, bar);
    return old;
  }

  private check(index: number): void {
    if (!(index >= 0 && index < this.size)) throw new RangeError(`no closed bar at ${index}`);
  }

  private read(row: number): Candle {
    return this.decimals.candle(row, this.times[row]!, this.trades[row]!);
  }

  private write(row: number, bar: Candle): void {
    this.times[row] = bar.time;
    this.decimals.set(row, bar, bar.time);
    this.trades[row] = bar.trades;
  }

  /**
   * Room for one more row at the end: moves the held rows to the front when at least half the arrays lies before
   * them (dropped bars), else doubles the arrays.
   */
  private makeRoom(): void {
    const head = this.head;
    const size = this.size;
    const compact = head > 0 && head * 2 >= this.capacity;
    const capacity = compact ? this.capacity : Math.max(INITIAL_CAPACITY, this.capacity * 2);
    const rows = { head, size, capacity, inPlace: compact };
    this.times = moveRows(this.times, (n) => new Float64Array(n), 1, rows);
    this.decimals.moveRows(rows);
    this.trades = moveRows(this.trades, (n) => new Float64Array(n), 1, rows);
    this.head = 0;
    this.capacity = capacity;
  }
}
