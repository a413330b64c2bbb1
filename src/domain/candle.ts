import type { Decimal } from './decimal.ts';
import type { Interval } from './interval.ts';
import type { VenueId } from './instrument.ts';

/**
 * One OHLCV bar. `time` is the bar's start (ms UTC). Volumes are exact decimal sums:
 * volume in base units, quoteVolume = Σ price × size, takerBuy* the part where the taker bought.
 */
export interface Candle {
  readonly time: number;
  readonly open: Decimal;
  readonly high: Decimal;
  readonly low: Decimal;
  readonly close: Decimal;
  readonly volume: Decimal;
  readonly quoteVolume: Decimal;
  readonly takerBuyVolume: Decimal;
  readonly takerBuyQuoteVolume: Decimal;
  /** Individual trades in the bar (0 for an empty bar, which is flat at the previous close). */
  readonly trades: number;
}

/**
 * What a change to a bar means to a client:
 * - `live`: the bar in progress changed;
 * - `closed`: the bar's final state (its interval ended);
 * - `revised`: a correction of a bar that had already closed (a late trade, a backfill).
 */
export type CandleState = 'live' | 'closed' | 'revised';

/** A bar of one (symbol, interval) stream and what the change means. */
export interface CandleUpdate {
  readonly symbol: string;
  readonly interval: Interval;
  readonly state: CandleState;
  readonly bar: Candle;
  /** Venues whose trades built the bar. */
  readonly sources: readonly VenueId[];
  /**
   * True when some of the bar's trades or the bar itself came over the venue's REST API (history at start-up,
   * the backfill after an outage) rather than from its live stream.
   */
  readonly backfilled?: boolean;
}
