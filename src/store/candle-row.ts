import type { CandleUpdate } from '../domain/candle.ts';

/**
 * The identity of a stored bar and what a store accepts. A persistent store keeps one row per venue that built
 * a bar, so the row key is (venue, symbol, interval, time), the venue being the first source ('' when unknown).
 */

/** The venue a row belongs to: the bar's first source, '' when the update names none. */
export function rowVenue(update: CandleUpdate): string {
  return update.sources[0] ?? '';
}

/** The row key of an update, as one string (for maps that coalesce updates of the same row). */
export function rowKey(update: CandleUpdate): string {
  return `${rowVenue(update)}\u0000${update.symbol}\u0000${update.interval}\u0000${update.bar.time}`;
}

/** Latest instant a JavaScript Date can hold; a bar time past it cannot be stored as a timestamp. */
const MAX_TIME_MS = 8.64e15;

/**
 * Throws a RangeError naming the bar when an update cannot be stored: a time that is not whole milliseconds
 * between the epoch and the end of Date's range, a trade count that is not a whole number, or text with a NUL
 * character (PostgreSQL refuses it). Checked before a write is queued, because a bar the database refuses would
 * otherwise fail its whole batch on every retry.
 */
export function checkStorable(update: CandleUpdate): void {
  const { bar } = update;
  // Called twice for every bar stored (thousands per history piece): nothing is allocated unless it throws.
  if (!Number.isSafeInteger(bar.time) || bar.time < 0 || bar.time > MAX_TIME_MS) {
    throw new RangeError(`candle ${where(update)}: time must be whole milliseconds from 0 to ${MAX_TIME_MS}`);
  }
  if (!Number.isSafeInteger(bar.trades) || bar.trades < 0) {
    throw new RangeError(
      `candle ${where(update)}: trades must be a whole number >= 0, got ${String(bar.trades)}`,
    );
  }
  if (hasNul(update.symbol) || hasNul(update.interval) || update.sources.some(hasNul)) {
    throw new RangeError(`candle ${where(update)}: text contains a NUL character`);
  }
}

function where(update: CandleUpdate): string {
  return `${update.symbol} ${update.interval} at ${String(update.bar.time)}`;
}

function hasNul(text: string): boolean {
  return text.includes('\u0000');
}
