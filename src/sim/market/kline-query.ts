/**
 * Bars of any interval over a market's minutes, with the paging rules exchanges share: bars are selected by open
 * time, from `startTime` forwards when given, otherwise the latest ones up to `endTime` (or now). The current bar is
 * included, partial. Buckets that begin before the first minute held are cut to the minutes held.
 */
import { MINUTE_MS } from '../../domain/interval.ts';
import { aggregateMinutes, type AggregatedBar } from './bars.ts';
import { bucketAfter, bucketBefore, bucketStartOf, type BucketRule } from './buckets.ts';
import type { SimMarket } from './market.ts';

export interface KlineQuery {
  /** Bars whose open time is ≥ startTime. */
  readonly startTime?: number;
  /** Bars whose open time is ≤ endTime. */
  readonly endTime?: number;
  readonly limit: number;
}

/** The bar of `rule` that opens at `start` (a bucket start), aggregated from the market's minutes. */
export function barAt(market: SimMarket, rule: BucketRule, start: number): AggregatedBar {
  const end = bucketAfter(rule, start);
  const first = market.firstMinute;
  const minutes = market.minutes;
  const count = minutes.length;
  const from = Math.min(count, Math.max(0, Math.ceil((start - first) / MINUTE_MS)));
  const to = Math.min(count, Math.max(0, Math.ceil((end - first) / MINUTE_MS)));
  return aggregateMinutes(minutes, from, to, start, end);
}

/** Bars matching `query`, oldest first. */
export function queryBars(market: SimMarket, rule: BucketRule, query: KlineQuery): AggregatedBar[] {
  const earliest = bucketStartOf(rule, market.firstMinute);
  const latest = bucketStartOf(rule, market.currentMinuteTime);
  let lo = earliest;
  if (query.startTime !== undefined) {
    const s = bucketStartOf(rule, query.startTime);
    lo = Math.max(earliest, s < query.startTime ? bucketAfter(rule, s) : s);
  }
  const hi = query.endTime === undefined ? latest : Math.min(latest, bucketStartOf(rule, query.endTime));
  const starts: number[] = [];
  if (query.startTime !== undefined) {
    for (let s = lo; s <= hi && starts.length < query.limit; s = bucketAfter(rule, s)) starts.push(s);
  } else {
    for (let s = hi; s >= lo && starts.length < query.limit; s = bucketBefore(rule, s)) starts.push(s);
    starts.reverse();
  }
  return starts.map((s) => barAt(market, rule, s));
}
