/**
 * The closed bars of one higher interval that a candle engine keeps (time-sorted, unique times; up to a few
 * thousand per interval and instrument), stored in columns of typed arrays instead of one `Candle` per bar with an
 * object and a BigInt per decimal: about 100 bytes a bar instead of about 400, and no garbage-collected object per
 * bar for the collector to trace. Every instrument of every venue has an engine: as objects, these bars were a
 * large part of the idle process's live heap (80,728 of them in a heap snapshot of the whole stack).
 *
 * Exact: a decimal is stored as its coefficient in a double and its scale, which is exact while the coefficient is
 * a safe integer (|coef| < 2^53) and the scale fits 16 bits. A decimal outside that is kept as it is, in a side
 * map, and read back as the same value. A bar read is a fresh object (its decimals too): the engine reads these
 * bars rarely (a rollup before the oldest held minute, a revision, `history`), so no object is kept.
 */
import type { Candle } from '../domain/candle.ts';
import { type Decimal, ZERO } from '../domain/decimal.ts';

/** The decimal fields of a bar, in column order. */
const DECIMAL_FIELDS = [
  'open',
  'high',
  'low',
  'close',
  'volume',
  'quoteVolume',
  'takerBuyVolume',
  'takerBuyQuoteVolume',
] as const;
const FIELDS = DECIMAL_FIELDS.length;
/** Scale stored for a decimal kept in the side map (no real scale is this). */
const IN_SIDE_MAP = -32768;
const INITIAL_CAPACITY = 16;

export class ClosedBars {
  /** Rows [head, head + size) hold the bars, oldest first. */
  private head = 0;
  private size = 0;
  private capacity = 0;
  private times = new Float64Array(0);
  private coefs = new Float64Array(0);
  private scales = new Int16Array(0);
  private trades = new Float64Array(0);
  /** Decimals that do not fit a column, by bar time × FIELDS + field (times are whole milliseconds). */
  private readonly side = new Map<number, Decimal>();

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
    this.clearSide(this.head + this.size - 1);
    this.size--;
    if (this.size === 0) this.head = 0;
  }

  /** Drops the `count` oldest bars. */
  dropOldest(count: number): void {
    const n = Math.min(count, this.size);
    for (let i = 0; i < n; i++) this.clearSide(this.head + i);
    this.head += n;
    this.size -= n;
    if (this.size === 0) this.head = 0;
  }

  /** Index of the first bar that starts at or after `time` (`length` if none). */
  lowerBound(time: number): number {
    let lo = 0;
    let hi = this.size;
    const head = this.head;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[head + mid]! < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
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
    const time = this.times[row]!;
    return {
      time,
      open: this.decimalAt(row, 0, time),
      high: this.decimalAt(row, 1, time),
      low: this.decimalAt(row, 2, time),
      close: this.decimalAt(row, 3, time),
      volume: this.decimalAt(row, 4, time),
      quoteVolume: this.decimalAt(row, 5, time),
      takerBuyVolume: this.decimalAt(row, 6, time),
      takerBuyQuoteVolume: this.decimalAt(row, 7, time),
      trades: this.trades[row]!,
    };
  }

  private decimalAt(row: number, field: number, time: number): Decimal {
    const cell = row * FIELDS + field;
    const scale = this.scales[cell]!;
    if (scale === IN_SIDE_MAP) return this.side.get(time * FIELDS + field)!;
    const coef = this.coefs[cell]!;
    return coef === 0 && scale === 0 ? ZERO : { coef: BigInt(coef), scale };
  }

  private write(row: number, bar: Candle): void {
    const time = bar.time;
    this.times[row] = time;
    for (let field = 0; field < FIELDS; field++) {
      const value = bar[DECIMAL_FIELDS[field]!];
      const cell = row * FIELDS + field;
      const key = time * FIELDS + field;
      const coef = Number(value.coef);
      if (Number.isSafeInteger(coef) && value.scale > IN_SIDE_MAP && value.scale <= 32767) {
        this.coefs[cell] = coef;
        this.scales[cell] = value.scale;
        if (this.side.size > 0) this.side.delete(key);
      } else {
        this.scales[cell] = IN_SIDE_MAP;
        this.side.set(key, value);
      }
    }
    this.trades[row] = bar.trades;
  }

  private clearSide(row: number): void {
    if (this.side.size === 0) return;
    const time = this.times[row]!;
    for (let field = 0; field < FIELDS; field++) this.side.delete(time * FIELDS + field);
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
    function move<T extends Float64Array | Int16Array>(old: T, make: (n: number) => T, width: number): T {
      if (compact) {
        old.copyWithin(0, head * width, (head + size) * width);
        return old;
      }
      const next = make(capacity * width);
      next.set(old.subarray(head * width, (head + size) * width));
      return next;
    }
    this.times = move(this.times, (n) => new Float64Array(n), 1);
    this.coefs = move(this.coefs, (n) => new Float64Array(n), FIELDS);
    this.scales = move(this.scales, (n) => new Int16Array(n), FIELDS);
    this.trades = move(this.trades, (n) => new Float64Array(n), 1);
    this.head = 0;
    this.capacity = capacity;
  }
}
