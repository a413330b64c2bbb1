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

/**
 * A history read that could answer only part of its window: the database behind the store failed, and
 * `available` holds the bars a faster tier (memory) had for that window, oldest first (possibly none). It is an
 * error, not a shorter answer, so that no caller can take a truncated history for the whole of it; a caller that
 * can use part of the history (and say so to its client) takes `available`.
 */
export class IncompleteHistoryError extends Error {
  constructor(
    readonly available: StoredCandle[],
    options: { cause: unknown },
  ) {
    super(
      `history could not be read completely (${available.length} bars available): ${errorText(options.cause)}`,
      options,
    );
    this.name = 'IncompleteHistoryError';
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Where bars are kept for history. Writes are idempotent upserts on (symbol, interval, time). */
export interface CandleStore {
  write(updates: readonly CandleUpdate[]): Promise<void>;
  /**
   * Up to `limit` most recent bars with time < `end` (all when `end` is undefined), oldest first. The answer is
   * always the whole window: a store that cannot read it all rejects (IncompleteHistoryError when it holds part
   * of the window), it never resolves with fewer bars than it has.
   */
  recent(symbol: string, interval: Interval, limit: number, end?: number): Promise<StoredCandle[]>;
  /**
   * Resolves once every write made before the call is in the database (a row written again since counts once its
   * newer version is), so that readers of the database, in this process or another, see it. A store that writes
   * behind waits through an outage until the database takes the writes; it rejects when they can no longer get
   * there (dropped from its full buffer, or left unwritten by `close()`). A store whose `write` resolves only
   * once the bars are stored resolves at once.
   */
  flushed(): Promise<void>;
  close(): Promise<void>;
}
