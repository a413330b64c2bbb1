/**
 * The 1m bars a candle engine keeps for revisions (up to eight days per instrument), stored in columns of typed
 * arrays instead of one object per bar with an object and a BigInt per decimal: about 130 bytes a bar instead of
 * about 800, with no garbage-collected object per bar.
 *
 * Exact: a decimal is stored as its coefficient in a double and its scale, which is exact while the coefficient is
 * a safe integer (|coef| < 2^53) and the scale fits 16 bits. A decimal outside that (sums of very long decimals) is
 * kept as it is, in a side map, and read back as the same value. Reading a bar gives fresh decimal objects of the
 * same value.
 *
 * The newest bar (the live minute) stays an ordinary MutableBar object, mutated in place by the engine; it goes into
 * the columns when a newer bar is pushed after it. Bars are contiguous minutes: the time of a bar is its position.
 */
import { type Decimal, ZERO } from '../domain/decimal.ts';
import { MINUTE_MS } from '../domain/interval.ts';
import { flatBar, type MutableBar } from './bar-builder.ts';

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
const INITIAL_CAPACITY = 64;
/** Rows past `expectedBars` the columns get, so that dropping bars and moving the rest to the front is rare. */
const SLACK_ROWS = 64;

export class MinuteBars {
  /**
   * `expectedBars`: how many bars the owner holds at most in the steady state (its retention); the columns stop
   * doubling there and move the held rows to the front instead. They still grow past it when more are pushed.
   */
  constructor(private readonly expectedBars = Infinity) {}

  /** Time of physical row 0; rows [head, head + stored) hold the closed bars, oldest first. */
  private origin = NaN;
  private head = 0;
  private stored = 0;
  private capacity = 0;
  private coefs = new Float64Array(0);
  private scales = new Int16Array(0);
  private trades = new Float64Array(0);
  /** Bit 0: traded; the source mask is in `masks`. */
  private flags = new Uint8Array(0);
  private masks = new Int32Array(0);
  private openTimes = new Float64Array(0);
  private closeTimes = new Float64Array(0);
  private openSeqs = new Float64Array(0);
  private closeSeqs = new Float64Array(0);
  private openVenues = new Int8Array(0);
  private closeVenues = new Int8Array(0);
  /** Decimals that do not fit a column, by minute number × FIELDS + field. */
  private readonly side = new Map<number, Decimal>();
  /** The newest bar, not in the columns. */
  private newest: MutableBar | undefined;

  /** Bars held, the newest included. */
  get length(): number {
    return this.stored + (this.newest === undefined ? 0 : 1);
  }

  /** Time of the oldest bar held. */
  get oldestTime(): number | undefined {
    if (this.stored > 0) return this.origin + this.head * MINUTE_MS;
    return this.newest?.time;
  }

  /** The newest bar: the engine's object, changed in place. */
  last(): MutableBar | undefined {
    return this.newest;
  }

  /**
   * Bar `index` (0 = oldest). The newest is the engine's own object; an older one is read into `into` (a fresh
   * object when not given). A bar read from the columns is a copy: `set` stores a change back.
   */
  at(index: number, into?: MutableBar): MutableBar {
    if (index === this.stored && this.newest !== undefined) return this.newest;
    if (!(index >= 0 && index < this.stored)) throw new RangeError(`no 1m bar at ${index}`);
    const row = this.head + index;
    const time = this.origin + row * MINUTE_MS;
    const bar = into ?? emptyBar();
    bar.time = time;
    bar.open = this.decimalAt(row, 0, time);
    bar.high = this.decimalAt(row, 1, time);
    bar.low = this.decimalAt(row, 2, time);
    bar.close = this.decimalAt(row, 3, time);
    bar.volume = this.decimalAt(row, 4, time);
    bar.quoteVolume = this.decimalAt(row, 5, time);
    bar.takerBuyVolume = this.decimalAt(row, 6, time);
    bar.takerBuyQuoteVolume = this.decimalAt(row, 7, time);
    bar.trades = this.trades[row]!;
    bar.traded = (this.flags[row]! & 1) !== 0;
    bar.mask = this.masks[row]!;
    bar.openTime = this.openTimes[row]!;
    bar.closeTime = this.closeTimes[row]!;
    bar.openSeq = this.openSeqs[row]!;
    bar.closeSeq = this.closeSeqs[row]!;
    bar.openVenue = this.openVenues[row]!;
    bar.closeVenue = this.closeVenues[row]!;
    return bar;
  }

  /** Stores a changed bar `index` back (a no-op for the newest, which is changed in place). */
  set(index: number, bar: MutableBar): void {
    if (index === this.stored && bar === this.newest) return;
    if (!(index >= 0 && index < this.stored)) throw new RangeError(`no 1m bar at ${index}`);
    this.write(this.head + index, bar);
  }

  /** Appends `bar` (the minute after the newest) as the newest; the previous newest goes into the columns. */
  push(bar: MutableBar): void {
    const previous = this.newest;
    if (previous !== undefined) {
      if (bar.time !== previous.time + MINUTE_MS) throw new RangeError('1m bars must be contiguous');
      if (this.stored === 0) {
        this.origin = previous.time;
        this.head = 0;
      }
      const row = this.head + this.stored;
      if (row >= this.capacity) this.makeRoom();
      this.write(this.head + this.stored, previous);
      this.stored++;
    }
    this.newest = bar;
  }

  /** Removes the newest bar; the one before it (read from the columns) becomes the newest. */
  pop(): void {
    if (this.newest === undefined) return;
    if (this.stored === 0) {
      this.newest = undefined;
      return;
    }
    const before = this.at(this.stored - 1);
    this.clearSide(this.head + this.stored - 1);
    this.stored--;
    this.newest = before;
  }

  /** Drops the oldest bar (not the newest). */
  dropOldest(): void {
    if (this.stored === 0) throw new RangeError('the newest 1m bar cannot be dropped');
    this.clearSide(this.head);
    this.head++;
    this.stored--;
    if (this.stored === 0) this.head = 0;
  }

  private decimalAt(row: number, field: number, time: number): Decimal {
    const cell = row * FIELDS + field;
    const scale = this.scales[cell]!;
    if (scale === IN_SIDE_MAP) return this.side.get((time / MINUTE_MS) * FIELDS + field)!;
    const coef = this.coefs[cell]!;
    return coef === 0 && scale === 0 ? ZERO : { coef: BigInt(coef), scale };
  }

  private write(row: number, bar: MutableBar): void {
    const minute = (this.origin + row * MINUTE_MS) / MINUTE_MS;
    for (let field = 0; field < FIELDS; field++) {
      const value = bar[DECIMAL_FIELDS[field]!];
      const cell = row * FIELDS + field;
      const key = minute * FIELDS + field;
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
    this.flags[row] = bar.traded ? 1 : 0;
    this.masks[row] = bar.mask;
    this.openTimes[row] = bar.openTime;
    this.closeTimes[row] = bar.closeTime;
    this.openSeqs[row] = bar.openSeq;
    this.closeSeqs[row] = bar.closeSeq;
    this.openVenues[row] = bar.openVenue;
    this.closeVenues[row] = bar.closeVenue;
  }

  private clearSide(row: number): void {
    if (this.side.size === 0) return;
    const minute = (this.origin + row * MINUTE_MS) / MINUTE_MS;
    for (let field = 0; field < FIELDS; field++) this.side.delete(minute * FIELDS + field);
  }

  /**
   * Room for one more row at the end: moves the held rows to the front when at least half the arrays lie before
   * them (dropped bars) or the arrays reached the expected size, else doubles them (up to the expected size).
   */
  private makeRoom(): void {
    const head = this.head;
    const stored = this.stored;
    const limit = this.expectedBars + SLACK_ROWS;
    const compact = head > 0 && (head * 2 >= this.capacity || this.capacity >= limit);
    const doubled = Math.max(INITIAL_CAPACITY, this.capacity * 2);
    const capacity = compact ? this.capacity : this.capacity < limit ? Math.min(doubled, limit) : doubled;
    function move<T extends Float64Array | Int16Array | Int32Array | Int8Array | Uint8Array>(
      old: T,
      make: (n: number) => T,
      width: number,
    ): T {
      if (compact) {
        old.copyWithin(0, head * width, (head + stored) * width);
        return old;
      }
      const next = make(capacity * width);
      next.set(old.subarray(head * width, (head + stored) * width));
      return next;
    }
    this.coefs = move(this.coefs, (n) => new Float64Array(n), FIELDS);
    this.scales = move(this.scales, (n) => new Int16Array(n), FIELDS);
    this.trades = move(this.trades, (n) => new Float64Array(n), 1);
    this.flags = move(this.flags, (n) => new Uint8Array(n), 1);
    this.masks = move(this.masks, (n) => new Int32Array(n), 1);
    this.openTimes = move(this.openTimes, (n) => new Float64Array(n), 1);
    this.closeTimes = move(this.closeTimes, (n) => new Float64Array(n), 1);
    this.openSeqs = move(this.openSeqs, (n) => new Float64Array(n), 1);
    this.closeSeqs = move(this.closeSeqs, (n) => new Float64Array(n), 1);
    this.openVenues = move(this.openVenues, (n) => new Int8Array(n), 1);
    this.closeVenues = move(this.closeVenues, (n) => new Int8Array(n), 1);
    this.origin += head * MINUTE_MS;
    this.head = 0;
    this.capacity = capacity;
  }
}

/** A bar object to read into. */
export function emptyBar(): MutableBar {
  return flatBar(0, ZERO);
}
