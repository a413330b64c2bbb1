/**
 * The columnar form of bars that engines and stores hold by the thousand: typed arrays instead of an object per
 * bar with an object and a BigInt per decimal, so that the collector has nothing per bar to trace. Shared by the
 * candle engine's 1m bars (src/candles/minute-bars.ts) and closed higher bars (src/candles/closed-bars.ts) and the
 * store's memory tier (src/store/bar-columns.ts), which each add the columns of their own.
 */
import type { Candle } from './candle.ts';
import { type Decimal, ZERO } from './decimal.ts';

/** The decimal fields of a bar, in column order. */
export const BAR_DECIMAL_FIELDS = [
  'open',
  'high',
  'low',
  'close',
  'volume',
  'quoteVolume',
  'takerBuyVolume',
  'takerBuyQuoteVolume',
] as const;
const FIELDS = BAR_DECIMAL_FIELDS.length;

/** A bar's decimals: a Candle, a MutableBar. */
export type BarDecimals = { readonly [K in (typeof BAR_DECIMAL_FIELDS)[number]]: Decimal };

/** Scale stored for a decimal kept in the side map (no real scale is this). */
const IN_SIDE_MAP = -32768;

type TypedColumn = Float64Array | Int32Array | Int16Array | Int8Array | Uint16Array | Uint8Array;

/**
 * Rows [head, head + size) of a column of `width` cells a row, moved to the front: in place (`inPlace`, the arrays
 * keep their size), else into a new column of `capacity` rows made by `make`. Returns the column to use.
 */
export function moveRows<T extends TypedColumn>(
  column: T,
  make: (cells: number) => T,
  width: number,
  rows: {
    readonly head: number;
    readonly size: number;
    readonly capacity: number;
    readonly inPlace: boolean;
  },
): T {
  const { head, size, capacity, inPlace } = rows;
  if (inPlace) {
    column.copyWithin(0, head * width, (head + size) * width);
    return column;
  }
  const next = make(capacity * width);
  next.set(column.subarray(head * width, (head + size) * width));
  return next;
}

/** Index (from `head`) of the first of the `size` sorted times from row `head` on that is >= `time`; `size` if none. */
export function lowerBoundOf(times: Float64Array, head: number, size: number, time: number): number {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[head + mid]! < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The eight decimals of each row, exact: a decimal is stored as its coefficient in a double and its scale, which is
 * exact while the coefficient is a safe integer (|coef| < 2^53) and the scale fits 16 bits. A decimal outside that
 * (sums of very long decimals) is kept as it is in a side map, under its row's `key` (a number that names the bar
 * wherever its row moves: its time, or its minute), and read back as the same value. A decimal read is a fresh
 * object of the same value.
 */
export class BarDecimalColumns {
  private coefs = new Float64Array(0);
  private scales = new Int16Array(0);
  private readonly side = new Map<number, Decimal>();

  /** Decimal `field` (an index into BAR_DECIMAL_FIELDS) of `row`, whose bar's key is `key`. */
  get(row: number, field: number, key: number): Decimal {
    const cell = row * FIELDS + field;
    const scale = this.scales[cell]!;
    if (scale === IN_SIDE_MAP) return this.side.get(key * FIELDS + field)!;
    const coef = this.coefs[cell]!;
    return coef === 0 && scale === 0 ? ZERO : { coef: BigInt(coef), scale };
  }

  /** The bar of `row` as a Candle, keyed by its `time`, with its trade count (a column of the holder's). */
  candle(row: number, time: number, trades: number): Candle {
    return {
      time,
      open: this.get(row, 0, time),
      high: this.get(row, 1, time),
      low: this.get(row, 2, time),
      close: this.get(row, 3, time),
      volume: this.get(row, 4, time),
      quoteVolume: this.get(row, 5, time),
      takerBuyVolume: this.get(row, 6, time),
      takerBuyQuoteVolume: this.get(row, 7, time),
      trades,
    };
  }

  /** Stores the decimals of `bar` in `row`, whose key is `key`. */
  set(row: number, bar: BarDecimals, key: number): void {
    for (let field = 0; field < FIELDS; field++) {
      const value = bar[BAR_DECIMAL_FIELDS[field]!];
      const cell = row * FIELDS + field;
      const sideKey = key * FIELDS + field;
      const coef = Number(value.coef);
      if (Number.isSafeInteger(coef) && value.scale > IN_SIDE_MAP && value.scale <= 32767) {
        this.coefs[cell] = coef;
        this.scales[cell] = value.scale;
        if (this.side.size > 0) this.side.delete(sideKey);
      } else {
        this.scales[cell] = IN_SIDE_MAP;
        this.side.set(sideKey, value);
      }
    }
  }

  /** Forgets what the side map holds for the bar of `key` (its row is dropped). */
  forget(key: number): void {
    if (this.side.size === 0) return;
    for (let field = 0; field < FIELDS; field++) this.side.delete(key * FIELDS + field);
  }

  /** Copies rows [start, end) to `target` (a bar inserted between others moves the rows after it). */
  copyRows(target: number, start: number, end: number): void {
    this.coefs.copyWithin(target * FIELDS, start * FIELDS, end * FIELDS);
    this.scales.copyWithin(target * FIELDS, start * FIELDS, end * FIELDS);
  }

  /** See `moveRows`. */
  moveRows(rows: Parameters<typeof moveRows>[3]): void {
    this.coefs = moveRows(this.coefs, (n) => new Float64Array(n), FIELDS, rows);
    this.scales = moveRows(this.scales, (n) => new Int16Array(n), FIELDS, rows);
  }
}
