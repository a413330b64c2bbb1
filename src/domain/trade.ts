import type { Decimal } from './decimal.ts';
import type { VenueId } from './instrument.ts';

/** The taker's side: "buy" means the aggressor bought (lifted the ask). */
export type Side = 'buy' | 'sell';

/**
 * One trade (or one exchange-aggregated trade: a taker order filled at one price) on a venue.
 * Two timestamps: the exchange's trade time and our local receive time, both ms since the epoch (UTC).
 */
export interface Trade {
  readonly venue: VenueId;
  /** Canonical symbol, e.g. "BTC/USDT". */
  readonly symbol: string;
  /** The venue's trade id, as text (ids can exceed 2^53). */
  readonly id: string;
  /**
   * Numeric position in the venue's trade sequence where the venue has one (Binance aggregate id), used to
   * deduplicate and to resume a backfill; undefined where ids are not ordered (dYdX fill ids).
   */
  readonly seq?: number | undefined;
  readonly price: Decimal;
  readonly size: Decimal;
  readonly side: Side;
  /** Individual fills this trade stands for (Binance aggTrade: l - f + 1); 1 for a plain trade. */
  readonly fills: number;
  /** Exchange trade time, ms UTC. Candles are bucketed on this time. */
  readonly time: number;
  /** Local receive time, ms UTC. */
  readonly receivedAt: number;
}
