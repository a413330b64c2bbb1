import type { Candle } from '../../domain/candle.ts';
import { add, compare, ZERO } from '../../domain/decimal.ts';
import { bucketStart } from '../../domain/interval.ts';

/**
 * Weekly bars from dYdX 1DAY bars (dYdX has no weekly resolution). Weeks start Monday 00:00 UTC. The rule is the
 * candle engine's: open, high, low and close come from the days that traded only (an empty day is flat at the
 * previous close, which is no trade); volumes and trade counts are exact sums; a week without any trade is flat
 * at its newest day's close. dYdX gives no taker-buy split, so those volumes stay 0.
 *
 * `days` must be ascending and gap-free is not required: a week holds whatever days were given for it.
 */
export function rollupWeeks(days: readonly Candle[]): Candle[] {
  const out: Candle[] = [];
  let i = 0;
  while (i < days.length) {
    const first = days[i] as Candle;
    const week = bucketStart('1W', first.time);
    let open: Candle | undefined;
    let close: Candle | undefined;
    let high = first.high;
    let low = first.low;
    let volume = ZERO;
    let quoteVolume = ZERO;
    let trades = 0;
    let last = first;
    for (; i < days.length; i++) {
      const day = days[i] as Candle;
      if (bucketStart('1W', day.time) !== week) break;
      last = day;
      volume = add(volume, day.volume);
      quoteVolume = add(quoteVolume, day.quoteVolume);
      trades += day.trades;
      if (day.trades === 0 && day.volume.coef === 0n) continue;
      if (open === undefined) {
        open = day;
        high = day.high;
        low = day.low;
      } else {
        if (compare(day.high, high) > 0) high = day.high;
        if (compare(day.low, low) < 0) low = day.low;
      }
      close = day;
    }
    if (open === undefined || close === undefined) {
      const flat = last.close;
      out.push({
        time: week,
        open: flat,
        high: flat,
        low: flat,
        close: flat,
        volume,
        quoteVolume,
        takerBuyVolume: ZERO,
        takerBuyQuoteVolume: ZERO,
        trades,
      });
    } else {
      out.push({
        time: week,
        open: open.open,
        high,
        low,
        close: close.close,
        volume,
        quoteVolume,
        takerBuyVolume: ZERO,
        takerBuyQuoteVolume: ZERO,
        trades,
      });
    }
  }
  return out;
}
