/**
 * OKX bar names and their buckets. Plain bars of 6 h and longer start at 00:00 UTC+8 (weeks on Monday UTC+8); the
 * `...utc` names start at 00:00 UTC. Calendar months are served in their UTC form only.
 */
import { DAY_MS, MINUTE_MS } from '../../domain/interval.ts';
import type { AggregatedBar } from '../market/bars.ts';
import { fixedRule, MONDAY_ORIGIN_MS, MONTH_RULE, type BucketRule } from '../market/buckets.ts';
import type { OkxNumberFormat } from './format.ts';
import type { OkxSimCandleRow } from './wire.ts';

const HOUR_MS = 60 * MINUTE_MS;
const UTC8_MS = -8 * HOUR_MS;

export const OKX_BARS: ReadonlyMap<string, BucketRule> = new Map<string, BucketRule>([
  ['1m', fixedRule(MINUTE_MS)],
  ['3m', fixedRule(3 * MINUTE_MS)],
  ['5m', fixedRule(5 * MINUTE_MS)],
  ['15m', fixedRule(15 * MINUTE_MS)],
  ['30m', fixedRule(30 * MINUTE_MS)],
  ['1H', fixedRule(HOUR_MS)],
  ['2H', fixedRule(2 * HOUR_MS)],
  ['4H', fixedRule(4 * HOUR_MS)],
  ['6H', fixedRule(6 * HOUR_MS, UTC8_MS)],
  ['12H', fixedRule(12 * HOUR_MS, UTC8_MS)],
  ['1D', fixedRule(DAY_MS, UTC8_MS)],
  ['2D', fixedRule(2 * DAY_MS, UTC8_MS)],
  ['1W', fixedRule(7 * DAY_MS, MONDAY_ORIGIN_MS + UTC8_MS)],
  ['6Hutc', fixedRule(6 * HOUR_MS)],
  ['12Hutc', fixedRule(12 * HOUR_MS)],
  ['1Dutc', fixedRule(DAY_MS)],
  ['2Dutc', fixedRule(2 * DAY_MS)],
  ['1Wutc', fixedRule(7 * DAY_MS, MONDAY_ORIGIN_MS)],
  ['1Mutc', MONTH_RULE],
]);

/** A bar as an OKX candle row; `confirm` is "1" once the bar's interval has ended at `nowMs`. */
export function candleRow(bar: AggregatedBar, fmt: OkxNumberFormat, nowMs: number): OkxSimCandleRow {
  const quote = fmt.quote(bar.q);
  return [
    String(bar.openTime),
    fmt.price(bar.o),
    fmt.price(bar.h),
    fmt.price(bar.l),
    fmt.price(bar.c),
    fmt.size(bar.v),
    quote,
    quote,
    bar.endTime <= nowMs ? '1' : '0',
  ];
}
