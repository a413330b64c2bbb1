/**
 * Binary search over a market's trade window, which is ascending both by trade id and by time; venues page their
 * trade history with it.
 */
import type { SimTrade } from './market.ts';

/** First index whose `key` is ≥ `value`; `trades.length` when none is. `trades` must be ascending by `key`. */
export function lowerBound(trades: readonly SimTrade[], key: (t: SimTrade) => number, value: number): number {
  let lo = 0;
  let hi = trades.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(trades[mid] as SimTrade) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Orders trades by time (ms). */
export const byTradeTime = (t: SimTrade): number => t.T;
