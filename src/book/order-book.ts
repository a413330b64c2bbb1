import type { BookLevel } from '../domain/book.ts';
import type { VenueId } from '../domain/instrument.ts';
import { positiveInteger } from '../util/options.ts';

/** Which side of the book: bids are kept best (highest) first, asks best (lowest) first. */
export type BookSide = 'bid' | 'ask';

/** Limits of one order book. */
export interface OrderBookOptions {
  /**
   * Most levels kept per side (default 10,000). A level that would land beyond it is not stored, and the worst
   * level falls off when a better one is inserted into a full side. Binance snapshots reach 5,000 per side.
   */
  readonly maxLevelsPerSide?: number;
}

/** A top-N view of a book: levels best first with the venue's original strings. */
export interface BookTop {
  readonly bids: BookLevel[];
  readonly asks: BookLevel[];
}

const DEFAULT_MAX_LEVELS = 10_000;

/**
 * One side of a book as parallel sorted arrays: numeric keys for ordering, the levels as the venue printed them
 * (for checksums and output), and a stamp of the update that last touched each level (used to uncross).
 * Keys are `Number(price)`: two spellings of one price ("0.0010", "0.001") are one level; prices with more than
 * 15 significant digits could collide, which no venue's tick size comes near. The level objects are the parsed
 * messages' own (immutable), kept as they are: applying an update and taking a top-N view allocate no level.
 */
class SideLevels {
  readonly keys: number[] = [];
  readonly levels: BookLevel[] = [];
  readonly stamps: number[] = [];

  constructor(
    private readonly descending: boolean,
    private readonly maxLevels: number,
  ) {}

  get length(): number {
    return this.keys.length;
  }

  /** Index of `key`, or `-(insertion point) - 1` when absent. */
  search(key: number): number {
    const keys = this.keys;
    let lo = 0;
    let hi = keys.length - 1;
    const desc = this.descending;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid] as number;
      if (k === key) return mid;
      if (desc ? k > key : k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  /** Sets (or with a zero size removes) one level. Returns whether the side changed. */
  set(level: BookLevel, key: number, zero: boolean, stamp: number): boolean {
    const i = this.search(key);
    if (i >= 0) {
      if (zero) {
        this.removeAt(i, 1);
        return true;
      }
      this.levels[i] = level;
      this.stamps[i] = stamp;
      return true;
    }
    if (zero) return false;
    const at = -i - 1;
    if (at >= this.maxLevels) return false;
    this.keys.splice(at, 0, key);
    this.levels.splice(at, 0, level);
    this.stamps.splice(at, 0, stamp);
    if (this.keys.length > this.maxLevels) this.removeAt(this.maxLevels, this.keys.length - this.maxLevels);
    return true;
  }

  removeAt(start: number, count: number): void {
    this.keys.splice(start, count);
    this.levels.splice(start, count);
    this.stamps.splice(start, count);
  }

  clear(): void {
    this.keys.length = 0;
    this.levels.length = 0;
    this.stamps.length = 0;
  }
}

/** Thrown for a level whose price or size is not a finite non-negative number. */
export class BookLevelError extends Error {
  constructor(readonly level: BookLevel) {
    super(`invalid book level ${JSON.stringify([level.price, level.size]).slice(0, 80)}`);
    this.name = 'BookLevelError';
  }
}

/**
 * The order book of one instrument on one venue. Levels keep the venue's original strings (checksums are computed
 * over them); a size of zero removes a level. Updates are O(log n) to find plus an array shift, which stays well
 * under a microsecond per level for the few thousand levels a side venues send. Not a consistency checker: see
 * BookSync for sequence, checksum and resync rules.
 */
export class OrderBook {
  /** Sequence position of the last applied message (venue meaning, see BookUpdate.seq). */
  seq: number | undefined = undefined;
  /** Exchange time of the last applied message, ms UTC. */
  time = 0;
  /** Local receive time of the last applied message, ms UTC. */
  receivedAt = 0;
  private readonly bidSide: SideLevels;
  private readonly askSide: SideLevels;
  private stampCounter = 0;

  constructor(
    readonly venue: VenueId,
    readonly symbol: string,
    options: OrderBookOptions = {},
  ) {
    const max = positiveInteger(
      'OrderBook',
      'maxLevelsPerSide',
      options.maxLevelsPerSide ?? DEFAULT_MAX_LEVELS,
    );
    this.bidSide = new SideLevels(true, max);
    this.askSide = new SideLevels(false, max);
  }

  /** Levels per side currently held. */
  get bidCount(): number {
    return this.bidSide.length;
  }

  get askCount(): number {
    return this.askSide.length;
  }

  /** Empties both sides and forgets the sequence. */
  clear(): void {
    this.bidSide.clear();
    this.askSide.clear();
    this.seq = undefined;
    this.time = 0;
    this.receivedAt = 0;
  }

  /**
   * Replaces the whole book with these levels (any order; zero sizes are skipped). Throws BookLevelError, leaving
   * the book empty, when a level is not a number.
   */
  replace(bids: readonly BookLevel[], asks: readonly BookLevel[]): void {
    this.clear();
    try {
      this.apply(bids, asks);
    } catch (error) {
      this.clear();
      throw error;
    }
  }

  /**
   * Applies one message's level changes to both sides, in order: a level with size zero is removed, any other
   * replaces the size at its price or is inserted in sorted position. All levels are validated before any is
   * applied, so a bad level leaves the book unchanged (throws BookLevelError). The levels of one message share
   * one update stamp, which `uncross` uses to tell the newer side from the older.
   */
  apply(bids: readonly BookLevel[], asks: readonly BookLevel[]): void {
    const numbers = numbersOf(bids, asks);
    const stamp = ++this.stampCounter;
    setAll(this.bidSide, bids, numbers, 0, stamp);
    setAll(this.askSide, asks, numbers, bids.length, stamp);
  }

  /** `apply` for one side. */
  applyLevels(side: BookSide, levels: readonly BookLevel[]): void {
    if (side === 'bid') this.apply(levels, []);
    else this.apply([], levels);
  }

  /** Sets one level (size zero removes it). Throws BookLevelError on a non-numeric level. */
  setLevel(side: BookSide, price: string, size: string): void {
    this.applyLevels(side, [{ price, size }]);
  }

  /** Price string of the i-th best level of a side (0 = best), or undefined past the end. */
  priceAt(side: BookSide, i: number): string | undefined {
    return (side === 'bid' ? this.bidSide : this.askSide).levels[i]?.price;
  }

  /** Size string of the i-th best level of a side, or undefined past the end. */
  sizeAt(side: BookSide, i: number): string | undefined {
    return (side === 'bid' ? this.bidSide : this.askSide).levels[i]?.size;
  }

  /** Best bid / ask as numbers (NaN when that side is empty); for comparisons, not for output. */
  bestBidValue(): number {
    return this.bidSide.keys[0] ?? Number.NaN;
  }

  bestAskValue(): number {
    return this.askSide.keys[0] ?? Number.NaN;
  }

  /** True when both sides have levels and the best bid is at or above the best ask. */
  isCrossed(): boolean {
    const b = this.bidSide.keys[0];
    const a = this.askSide.keys[0];
    return b !== undefined && a !== undefined && b >= a;
  }

  /**
   * Repairs a crossed book: while the best bid is at or above the best ask, the one of the two best levels that
   * was updated less recently is removed (it is the stale one: the venue moved the other side past it).
   * Returns how many levels were removed.
   */
  uncross(): number {
    let removed = 0;
    const bids = this.bidSide;
    const asks = this.askSide;
    for (;;) {
      const b = bids.keys[0];
      const a = asks.keys[0];
      if (b === undefined || a === undefined || b < a) return removed;
      if ((bids.stamps[0] as number) < (asks.stamps[0] as number)) bids.removeAt(0, 1);
      else asks.removeAt(0, 1);
      removed++;
    }
  }

  /** The best `n` levels per side (fewer when the side is shorter), as new arrays of the (immutable) levels. */
  top(n: number): BookTop {
    return { bids: topOf(this.bidSide, n), asks: topOf(this.askSide, n) };
  }
}

/** Prices and sizes of the levels being applied, as numbers: read once, by the check, for the update (reused). */
interface LevelNumbers {
  prices: Float64Array;
  sizes: Float64Array;
}

const scratch: LevelNumbers = { prices: new Float64Array(1024), sizes: new Float64Array(1024) };

/**
 * Checks every level of both sides (a price and size that are finite non-negative numbers) and returns their
 * numbers, bids first: each text is read once (a Binance diff re-sends its whole top 50 a side ten times a second).
 */
function numbersOf(bids: readonly BookLevel[], asks: readonly BookLevel[]): LevelNumbers {
  const count = bids.length + asks.length;
  if (scratch.prices.length < count) {
    scratch.prices = new Float64Array(count);
    scratch.sizes = new Float64Array(count);
  }
  readNumbers(bids, 0);
  readNumbers(asks, bids.length);
  return scratch;
}

function readNumbers(levels: readonly BookLevel[], at: number): void {
  const { prices, sizes } = scratch;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as BookLevel;
    const p = Number(level.price);
    const s = Number(level.size);
    if (
      level.price === '' ||
      level.size === '' ||
      !Number.isFinite(p) ||
      !Number.isFinite(s) ||
      p < 0 ||
      s < 0
    ) {
      throw new BookLevelError(level);
    }
    prices[at + i] = p;
    sizes[at + i] = s;
  }
}

function setAll(
  side: SideLevels,
  levels: readonly BookLevel[],
  numbers: LevelNumbers,
  at: number,
  stamp: number,
): void {
  const { prices, sizes } = numbers;
  for (let i = 0; i < levels.length; i++) {
    side.set(levels[i] as BookLevel, prices[at + i] as number, sizes[at + i] === 0, stamp);
  }
}

function topOf(side: SideLevels, n: number): BookLevel[] {
  return side.levels.slice(0, Math.max(0, n));
}
