/**
 * A synthetic order book per simulated market: `depth` levels a side around the last trade price, one tick apart,
 * with sizes that are a fixed function of the price level and a slowly changing epoch. After each trade the book
 * is rebuilt and the difference to the previous one is the update the indexer would send (size "0" removes a
 * level), so a client that applies snapshot + updates holds exactly the server's book.
 */
import { hashSeedIntegers } from '../random.ts';

/** Price level (ticks) → size (lots). */
export type SimLevels = Map<number, number>;

export interface BookDiff {
  /** [ticks, lots]; lots 0 removes the level. */
  readonly bids: [number, number][];
  readonly asks: [number, number][];
}

export class SimBook {
  bids: SimLevels = new Map();
  asks: SimLevels = new Map();
  private epoch = 0;

  constructor(
    private readonly seed: number,
    private readonly depth: number,
  ) {}

  /** Rebuilds the book around `lastTicks` and returns what changed (empty sides when nothing did). */
  rebuild(lastTicks: number): BookDiff {
    this.epoch++;
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    for (let i = 1; i <= this.depth; i++) {
      const bid = lastTicks - i;
      if (bid > 0) bids.set(bid, this.size(bid, i));
      asks.set(lastTicks + i, this.size(lastTicks + i, i));
    }
    const diff: BookDiff = { bids: diffSide(this.bids, bids), asks: diffSide(this.asks, asks) };
    this.bids = bids;
    this.asks = asks;
    return diff;
  }

  /** Levels sorted best first: bids descending, asks ascending. */
  sorted(): { bids: [number, number][]; asks: [number, number][] } {
    return {
      bids: [...this.bids].sort((a, b) => b[0] - a[0]),
      asks: [...this.asks].sort((a, b) => a[0] - b[0]),
    };
  }

  /** Sizes near the top change with every rebuild, deeper ones only every 16th: a book that moves like a real one. */
  private size(ticks: number, distance: number): number {
    const epoch = distance <= 3 ? this.epoch : this.epoch >>> 4;
    return 1 + (hashSeedIntegers(this.seed, ticks, epoch) % 2000);
  }
}

function diffSide(before: SimLevels, after: SimLevels): [number, number][] {
  const out: [number, number][] = [];
  for (const [ticks, lots] of after) if (before.get(ticks) !== lots) out.push([ticks, lots]);
  for (const [ticks] of before) if (!after.has(ticks)) out.push([ticks, 0]);
  return out;
}
