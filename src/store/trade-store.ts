import type { Trade } from '../domain/trade.ts';

/** Where trades are kept when STORE_TRADES is on. Writes are idempotent: a trade already kept is skipped. */
export interface TradeStore {
  /** Keeps `trades`; one already kept (same venue, symbol, id and time) is left as it is. */
  writeTrades(trades: readonly Trade[]): Promise<void>;
}

/** Latest instant a JavaScript Date can hold. */
const MAX_TIME_MS = 8.64e15;

/**
 * Throws a RangeError naming the trade when it cannot be stored: a time or receive time that is not whole
 * milliseconds from the epoch to the end of Date's range, a fill count that is not a whole number >= 1, or text
 * with a NUL character (PostgreSQL refuses it). Checked before a trade is queued, so that a trade the database
 * refuses cannot fail its batch on every retry.
 */
export function checkStorableTrade(trade: Trade): void {
  const where = `trade ${trade.venue} ${trade.symbol} ${trade.id}`;
  for (const [name, ms] of [
    ['time', trade.time],
    ['receivedAt', trade.receivedAt],
  ] as const) {
    if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_TIME_MS) {
      throw new RangeError(`${where}: ${name} must be whole milliseconds from 0 to ${MAX_TIME_MS}`);
    }
  }
  if (!Number.isSafeInteger(trade.fills) || trade.fills < 1 || trade.fills > 2_147_483_647) {
    throw new RangeError(
      `${where}: fills must be a whole number from 1 to 2147483647, got ${String(trade.fills)}`,
    );
  }
  for (const text of [trade.venue, trade.symbol, trade.id]) {
    if (text.includes('\u0000')) throw new RangeError(`${where}: text contains a NUL character`);
  }
}
