import { fractionDigits, plainNumber } from './format.ts';

/**
 * The order book ladder's figures: each level with the cumulative size up to it and that size as a fraction of
 * the deeper side's total, which is the width of the level's depth bar (both sides on one scale, so the bars
 * compare bid and ask depth).
 */

export interface LadderLevel {
  readonly price: number;
  readonly size: number;
  readonly cumulative: number;
  /** 0..1: the depth bar's width. */
  readonly depth: number;
}

export interface Ladder {
  /** Best (highest) first. */
  readonly bids: readonly LadderLevel[];
  /** Best (lowest) first. */
  readonly asks: readonly LadderLevel[];
  /** Best ask minus best bid, written with the prices' decimals; undefined with an empty side. */
  readonly spread?: string;
}

function accumulate(
  levels: readonly (readonly [number, number])[],
  rows: number,
): [number, number, number][] {
  let total = 0;
  return levels.slice(0, rows).map(([price, size]) => {
    total += size;
    return [price, size, total];
  });
}

export function buildLadder(
  bids: readonly (readonly [number, number])[],
  asks: readonly (readonly [number, number])[],
  rows: number,
): Ladder {
  const bidLevels = accumulate(bids, rows);
  const askLevels = accumulate(asks, rows);
  const deepest = Math.max(bidLevels.at(-1)?.[2] ?? 0, askLevels.at(-1)?.[2] ?? 0);
  const level = ([price, size, cumulative]: [number, number, number]): LadderLevel => ({
    price,
    size,
    cumulative,
    depth: deepest > 0 ? cumulative / deepest : 0,
  });
  const bestBid = bids[0]?.[0];
  const bestAsk = asks[0]?.[0];
  const ladder: { -readonly [K in keyof Ladder]: Ladder[K] } = {
    bids: bidLevels.map(level),
    asks: askLevels.map(level),
  };
  if (bestBid !== undefined && bestAsk !== undefined) {
    const digits = Math.max(fractionDigits(bestBid), fractionDigits(bestAsk));
    ladder.spread = plainNumber(Number((bestAsk - bestBid).toFixed(digits)));
  }
  return ladder;
}
