/**
 * Checks of what a user passes to the client, with errors that say what was wrong and what is allowed, before
 * anything reaches the gateway (which would answer with an `error` message the caller may not be listening to).
 */
import { INTERVALS, isInterval, type Interval } from '../domain/interval.ts';
import { MAX_INITIAL_BARS } from './candle-merge.ts';

export const MAX_BOOK_DEPTH = 50;
const SEVERITIES = ['info', 'warning', 'critical'] as const;

export function checkSymbol(symbol: unknown): string {
  if (typeof symbol !== 'string' || symbol.trim() === '') {
    throw new TypeError(`symbol must be an instrument such as "BTC/USDT", got ${JSON.stringify(symbol)}`);
  }
  return symbol;
}

export function checkInterval(interval: unknown): Interval {
  if (!isInterval(interval)) {
    throw new RangeError(`Invalid interval: ${String(interval)}. Valid: ${INTERVALS.join(', ')}`);
  }
  return interval;
}

/** An integer count within [min, max]; `what` names the option in the message. */
export function checkCount(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export function checkInitialBars(value: unknown): number {
  return checkCount(value, 'initialBars', 0, MAX_INITIAL_BARS);
}

export function checkVenue(venue: unknown, optional: boolean): string | undefined {
  if (venue === undefined && optional) return undefined;
  if (typeof venue !== 'string' || venue.trim() === '') {
    throw new TypeError(`venue must be a venue name such as "binance", got ${JSON.stringify(venue)}`);
  }
  return venue;
}

export function checkSeverity(value: unknown): 'info' | 'warning' | 'critical' {
  if (value === undefined) return 'info';
  if (!(SEVERITIES as readonly unknown[]).includes(value)) {
    throw new RangeError(`minSeverity must be one of ${SEVERITIES.join(', ')}, got ${String(value)}`);
  }
  return value as 'info' | 'warning' | 'critical';
}
