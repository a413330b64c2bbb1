import type { Candle, CandleUpdate } from '../domain/candle.ts';
import type { Interval } from '../domain/interval.ts';

/** Where bars are kept for history. Writes are idempotent upserts on (symbol, interval, time). */
export interface CandleStore {
  write(updates: readonly CandleUpdate[]): Promise<void>;
  /** Up to `limit` most recent bars with time < `end` (all when `end` is undefined), oldest first. */
  recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<Candle[]>;
  close(): Promise<void>;
}
