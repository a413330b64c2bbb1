/**
 * The simulator's trade rate as `tickwire sim` and `tickwire demo` take it (`--trade-rate`,
 * TICKWIRE_SIM_TRADE_RATE). Apart from the simulator so that the CLI checks it without loading the simulator.
 */

/** Highest `tradesPerSecond` accepted. */
export const MAX_TRADES_PER_SECOND = 1000;

/**
 * The simulator's trade rate from `--trade-rate` or TICKWIRE_SIM_TRADE_RATE: undefined when unset (the
 * simulator's default), else a number 0..MAX_TRADES_PER_SECOND, or the error to print.
 */
export function simTradeRate(text: string | undefined): number | undefined | string {
  if (text === undefined || text.trim() === '') return undefined;
  const rate = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (Number.isFinite(rate) && rate <= MAX_TRADES_PER_SECOND) return rate;
  return `--trade-rate (TICKWIRE_SIM_TRADE_RATE) must be a number 0..${MAX_TRADES_PER_SECOND}, got ${JSON.stringify(text)}`;
}
