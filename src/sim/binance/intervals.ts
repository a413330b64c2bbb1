/**
 * Binance kline interval names and their UTC buckets. Minutes, hours and days count from the epoch (3d included),
 * weeks start on Monday 00:00 UTC, months on the 1st. `1s` is not offered: the simulator's finest bars are minutes.
 */
import { DAY_MS, MINUTE_MS } from '../../domain/interval.ts';
import { fixedRule, MONDAY_ORIGIN_MS, MONTH_RULE, type BucketRule } from '../market/buckets.ts';

const HOUR_MS = 60 * MINUTE_MS;

export const BINANCE_INTERVALS: ReadonlyMap<string, BucketRule> = new Map<string, BucketRule>([
  ['1m', fixedRule(MINUTE_MS)],
  ['3m', fixedRule(3 * MINUTE_MS)],
  ['5m', fixedRule(5 * MINUTE_MS)],
  ['15m', fixedRule(15 * MINUTE_MS)],
  ['30m', fixedRule(30 * MINUTE_MS)],
  ['1h', fixedRule(HOUR_MS)],
  ['2h', fixedRule(2 * HOUR_MS)],
  ['4h', fixedRule(4 * HOUR_MS)],
  ['6h', fixedRule(6 * HOUR_MS)],
  ['8h', fixedRule(8 * HOUR_MS)],
  ['12h', fixedRule(12 * HOUR_MS)],
  ['1d', fixedRule(DAY_MS)],
  ['3d', fixedRule(3 * DAY_MS)],
  ['1w', fixedRule(7 * DAY_MS, MONDAY_ORIGIN_MS)],
  ['1M', MONTH_RULE],
]);
