import type { Trade } from '../domain/trade.ts';

/** A range of sequence numbers not seen yet (inclusive both ends). */
export interface SeqGap {
  readonly from: number;
  readonly to: number;
}

export interface TradeDedupeOptions {
  /**
   * The venue numbers its trades without holes (Binance aggregate ids): a jump in `seq` means trades were
   * missed, and is reported as a gap. Venues whose ids merely increase (OKX) set this to false: their trades are
   * deduplicated by number within the recent memory, as trades without numbers are by id.
   */
  readonly contiguousSeq: boolean;
  /** Open gaps remembered at most; older ones are given up (and counted). */
  readonly maxOpenGaps?: number;
  /** Ids (or numbers, where they are no contiguous sequence) remembered. */
  readonly maxRecentIds?: number;
}

export interface TradeDedupeStats {
  readonly accepted: number;
  readonly duplicates: number;
  readonly gapsOpened: number;
  readonly gapsAbandoned: number;
  readonly openGaps: readonly SeqGap[];
  readonly lastSeq: number | undefined;
}

/**
 * Deduplicates one instrument's trades from one venue, whether they come from the live stream, a REST
 * backfill or both at once, and notices the trades that are missing.
 *
 * With contiguous sequence numbers it keeps the highest seq seen and the list of holes below it (a handful of
 * ranges), so memory does not grow with traffic; a trade is new when it is above the highest or inside a hole.
 * Otherwise it remembers the last `maxRecentIds` ids: a lost trade that a fetch brings later is new however many
 * trades came after it. Numbers that merely increase are remembered as numbers, and one at or below a number
 * already forgotten (or `resumeAfter`) counts as seen: a fetch reaching back past the memory adds nothing twice.
 */
export class TradeDedupe {
  private lastSeq: number | undefined;
  private gaps: { from: number; to: number }[] = [];
  private readonly recentIds = new Set<string | number>();
  /** The remembered ids in arrival order; once full, a ring whose oldest entry is at `oldestId`. */
  private readonly recentOrder: (string | number)[] = [];
  private oldestId = 0;
  /** Numbers that merely increase: every one up to this is taken as seen (resumed after, or forgotten). */
  private seenThrough = -Infinity;
  private accepted = 0;
  private duplicates = 0;
  private gapsOpened = 0;
  private gapsAbandoned = 0;
  private readonly maxOpenGaps: number;
  private readonly maxRecentIds: number;

  constructor(private readonly options: TradeDedupeOptions) {
    this.maxOpenGaps = options.maxOpenGaps ?? 64;
    this.maxRecentIds = options.maxRecentIds ?? 20_000;
  }

  /** Starts the sequence after `seq` (the last trade already reflected in history), without opening a gap. */
  resumeAfter(seq: number): void {
    if (this.lastSeq === undefined || seq > this.lastSeq) this.lastSeq = seq;
    if (seq > this.seenThrough) this.seenThrough = seq;
  }

  /**
   * True when the trade has not been seen before. A new trade above a hole in the sequence opens a gap, which
   * `onGap` reports (the caller backfills it over REST).
   */
  accept(trade: Trade, onGap?: (gap: SeqGap) => void): boolean {
    const seq = trade.seq;
    if (seq === undefined || !this.options.contiguousSeq) return this.acceptRecent(trade);
    if (this.lastSeq === undefined || seq > this.lastSeq) {
      if (this.lastSeq !== undefined && seq > this.lastSeq + 1) {
        const gap = { from: this.lastSeq + 1, to: seq - 1 };
        this.gaps.push(gap);
        this.gapsOpened++;
        if (this.gaps.length > this.maxOpenGaps) {
          this.gaps.shift();
          this.gapsAbandoned++;
        }
        onGap?.({ ...gap });
      }
      this.lastSeq = seq;
      this.accepted++;
      return true;
    }
    const index = this.gaps.findIndex((g) => seq >= g.from && seq <= g.to);
    if (index < 0) {
      this.duplicates++;
      return false;
    }
    const gap = this.gaps[index] as { from: number; to: number };
    if (gap.from === gap.to) this.gaps.splice(index, 1);
    else if (seq === gap.from) gap.from++;
    else if (seq === gap.to) gap.to--;
    else this.gaps.splice(index, 1, { from: gap.from, to: seq - 1 }, { from: seq + 1, to: gap.to });
    this.accepted++;
    return true;
  }

  /** Whether `trade` would be accepted, without accepting it. */
  isNew(trade: Trade): boolean {
    const seq = trade.seq;
    if (seq === undefined || !this.options.contiguousSeq) return this.isRecentNew(trade);
    return (
      this.lastSeq === undefined || seq > this.lastSeq || this.gaps.some((g) => seq >= g.from && seq <= g.to)
    );
  }

  /**
   * Leaves the numbers between the highest seen and `seq` open, without reporting them, and returns them (undefined
   * when there are none). For the trades a REST fetch by time is about to bring after the stream delivered a later
   * one: below the highest, only the open gaps take new trades, so without this they would be taken for duplicates.
   * A jump opens its gap by itself; this is for the first trade of all. `close` ends it once the fetch is done.
   * Numbers that are no contiguous sequence need nothing left open: the ids remembered decide.
   */
  leaveOpenBelow(seq: number): SeqGap | undefined {
    if (!this.options.contiguousSeq) return undefined;
    const from = this.lastSeq === undefined ? Number.MIN_SAFE_INTEGER : this.lastSeq + 1;
    if (seq <= from) return undefined;
    const gap = { from, to: seq - 1 };
    this.gaps.push(gap);
    return { ...gap };
  }

  /** Closes what is still open of `range`: a fetch covered it, and the numbers it did not bring are no trades. */
  close(range: SeqGap): void {
    this.gaps = this.gaps.flatMap((g) => {
      if (g.to < range.from || g.from > range.to) return [g];
      const left = g.from < range.from ? [{ from: g.from, to: range.from - 1 }] : [];
      const right = g.to > range.to ? [{ from: range.to + 1, to: g.to }] : [];
      return [...left, ...right];
    });
  }

  private isRecentNew(trade: Trade): boolean {
    const seq = trade.seq;
    if (seq === undefined) return !this.recentIds.has(trade.id);
    return seq > this.seenThrough && !this.recentIds.has(seq);
  }

  private acceptRecent(trade: Trade): boolean {
    if (!this.isRecentNew(trade)) {
      this.duplicates++;
      return false;
    }
    const seq = trade.seq;
    const key = seq ?? trade.id;
    if (seq !== undefined && (this.lastSeq === undefined || seq > this.lastSeq)) this.lastSeq = seq;
    this.recentIds.add(key);
    if (this.recentOrder.length < this.maxRecentIds) this.recentOrder.push(key);
    else {
      // The oldest by its place in the ring, not as the Set's first entry: finding that entry skips every entry
      // deleted before it, and with 20,000 ids remembered that cost about 10 µs a trade once the Set was full.
      const forgotten = this.recentOrder[this.oldestId] as string | number;
      this.recentIds.delete(forgotten);
      if (typeof forgotten === 'number' && forgotten > this.seenThrough) this.seenThrough = forgotten;
      this.recentOrder[this.oldestId] = key;
      this.oldestId = (this.oldestId + 1) % this.maxRecentIds;
    }
    this.accepted++;
    return true;
  }

  /** Highest sequence number seen; backfills resume after it. */
  get highestSeq(): number | undefined {
    return this.lastSeq;
  }

  stats(): TradeDedupeStats {
    return {
      accepted: this.accepted,
      duplicates: this.duplicates,
      gapsOpened: this.gapsOpened,
      gapsAbandoned: this.gapsAbandoned,
      openGaps: this.gaps.map((g) => ({ ...g })),
      lastSeq: this.lastSeq,
    };
  }
}
