/**
 * A synthetic order book per simulated market: `depth` levels a side around the last trade price, one tick apart,
 * with sizes that are a fixed function of the price level and a slowly changing epoch (one step per trade). The
 * difference between two states of the book is the update the indexer would send (size "0" removes a level), so a
 * client that applies snapshot + updates holds exactly the server's book.
 *
 * The book is a pure function of (epoch, last trade price), so a trade only records those two; the levels are
 * worked out when someone needs them (a subscriber's update, a snapshot, a REST call). Working them out again only
 * draws the sizes that can have changed: the three levels nearest the price change at every epoch, deeper ones only
 * every 16th, and a deep level keeps its size while the price moves as long as it stays deep.
 */
import { hashSeedIntegers } from '../random.ts';

export interface BookDiff {
  /** [ticks, lots]; lots 0 removes the level. */
  readonly bids: [number, number][];
  readonly asks: [number, number][];
}

/** Levels nearer the price than this many ticks change size at every epoch. */
const NEAR = 3;

/** The levels as last worked out: sizes by distance from `lastTicks` (index 0 = one tick away). */
interface Shown {
  readonly epoch: number;
  readonly lastTicks: number;
  readonly bids: readonly number[];
  readonly asks: readonly number[];
}

export class SimBook {
  private epoch = 0;
  private lastTicks = 0;
  /** Undefined until the levels are first worked out: an empty book. */
  private shown: Shown | undefined;

  constructor(
    private readonly seed: number,
    private readonly depth: number,
  ) {}

  /** A trade at `lastTicks`: the book moves to the next epoch around it. Nothing is computed here. */
  move(lastTicks: number): void {
    this.epoch++;
    this.lastTicks = lastTicks;
  }

  /**
   * Brings the levels up to date and returns what changed since they were last worked out (by `changes` or
   * `sorted`): bids then asks, each in order of distance from the price, the levels that left after them.
   */
  changes(): BookDiff {
    const before = this.shown;
    if (before !== undefined && before.epoch === this.epoch && before.lastTicks === this.lastTicks) {
      return { bids: [], asks: [] };
    }
    const bids: number[] = [];
    const asks: number[] = [];
    const diff: BookDiff = {
      bids: this.diffSide(before, -1, bids),
      asks: this.diffSide(before, 1, asks),
    };
    this.shown = { epoch: this.epoch, lastTicks: this.lastTicks, bids, asks };
    return diff;
  }

  /** Levels sorted best first: bids descending, asks ascending. */
  sorted(): { bids: [number, number][]; asks: [number, number][] } {
    this.changes();
    const shown = this.shown as Shown;
    const side = (sizes: readonly number[], sign: number): [number, number][] =>
      sizes.map((lots, i) => [shown.lastTicks + sign * (i + 1), lots]);
    return { bids: side(shown.bids, -1), asks: side(shown.asks, 1) };
  }

  /**
   * Fills `sizes` with the side's levels now (`sign` -1 for bids, below the price; +1 for asks) and returns the
   * differences to `before`. A bid exists only above tick 0.
   */
  private diffSide(before: Shown | undefined, sign: number, sizes: number[]): [number, number][] {
    const out: [number, number][] = [];
    const old = before === undefined ? [] : sign < 0 ? before.bids : before.asks;
    const oldLast = before?.lastTicks ?? 0;
    const deepUnchanged = before !== undefined && before.epoch >>> 4 === this.epoch >>> 4;
    for (let distance = 1; distance <= this.depth; distance++) {
      const ticks = this.lastTicks + sign * distance;
      if (sign < 0 && ticks <= 0) break;
      const oldDistance = sign * (ticks - oldLast);
      const oldLots = oldDistance >= 1 && oldDistance <= old.length ? old[oldDistance - 1] : undefined;
      if (oldLots !== undefined && deepUnchanged && distance > NEAR && oldDistance > NEAR) {
        sizes.push(oldLots);
        continue;
      }
      const lots = this.size(ticks, distance);
      sizes.push(lots);
      if (oldLots !== lots) out.push([ticks, lots]);
    }
    for (let oldDistance = 1; oldDistance <= old.length; oldDistance++) {
      const ticks = oldLast + sign * oldDistance;
      const distance = sign * (ticks - this.lastTicks);
      if (distance < 1 || distance > sizes.length) out.push([ticks, 0]);
    }
    return out;
  }

  /** Sizes near the top change with every epoch, deeper ones only every 16th: a book that moves like a real one. */
  private size(ticks: number, distance: number): number {
    const epoch = distance <= NEAR ? this.epoch : this.epoch >>> 4;
    return 1 + (hashSeedIntegers(this.seed, ticks, epoch) % 2000);
  }
}
