import type { Candle, CandleUpdate } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';

/** A bar as history holds it: with the venues that built it, so clients see its provenance. */
export interface StoredCandle {
  readonly bar: Candle;
  readonly sources: readonly VenueId[];
  /** See CandleUpdate.backfilled. */
  readonly backfilled?: boolean;
}

/** Where bars are kept for history. Writes are idempotent upserts on (symbol, interval, time). */
export interface CandleStore {
  write(updates: readonly CandleUpdate[]): Promise<void>;
  /** Up to `limit` most recent bars with time < `end` (all when `end` is undefined), oldest first. */
  recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]>;
  close(): Promise<void>;
}
