import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Candle } from '../../domain/candle.ts';
import { parseDecimal, toPlainString, ZERO } from '../../domain/decimal.ts';
import { DAY_MS } from '../../domain/interval.ts';
import { rollupWeeks } from './weekly.ts';

/** Monday 2024-07-22 00:00 UTC. */
const MONDAY = Date.UTC(2024, 6, 22);

function day(
  index: number,
  o: string,
  h: string,
  l: string,
  c: string,
  v: string,
  q: string,
  n: number,
): Candle {
  return {
    time: MONDAY + index * DAY_MS,
    open: parseDecimal(o),
    high: parseDecimal(h),
    low: parseDecimal(l),
    close: parseDecimal(c),
    volume: parseDecimal(v),
    quoteVolume: parseDecimal(q),
    takerBuyVolume: ZERO,
    takerBuyQuoteVolume: ZERO,
    trades: n,
  };
}

function flat(index: number, price: string): Candle {
  return day(index, price, price, price, price, '0', '0', 0);
}

function show(c: Candle): string[] {
  return [
    new Date(c.time).toISOString().slice(0, 10),
    toPlainString(c.open),
    toPlainString(c.high),
    toPlainString(c.low),
    toPlainString(c.close),
    toPlainString(c.volume),
    toPlainString(c.quoteVolume),
    String(c.trades),
  ];
}

describe('rollupWeeks', () => {
  it('builds Monday-aligned weeks with exact sums, prices from the days that traded', () => {
    const days = [
      // An empty Monday flat at the previous close must not become the open or the low.
      flat(0, '3000'),
      day(1, '3100', '3250.5', '3090', '3200', '10.001', '31500.1', 40),
      day(2, '3200', '3300', '3150.25', '3150.25', '0.0001', '0.3150025', 1),
      flat(3, '3150.25'),
      day(4, '3150', '3160', '2999.99', '3001', '5', '15400', 7),
      flat(5, '3001'),
      flat(6, '3001'),
      // The next week: only empty days, flat at the close before.
      flat(7, '3001'),
      flat(8, '3001'),
    ];
    assert.deepEqual(rollupWeeks(days).map(show), [
      ['2024-07-22', '3100', '3300', '2999.99', '3001', '15.0011', '46900.4150025', '48'],
      ['2024-07-29', '3001', '3001', '3001', '3001', '0', '0', '0'],
    ]);
  });

  it('starts a week at its first Monday even when the days begin mid-week', () => {
    const days = [day(3, '10', '12', '9', '11', '1', '10', 2), day(7, '11', '11', '11', '11', '2', '22', 1)];
    const weeks = rollupWeeks(days);
    assert.deepEqual(
      weeks.map((w) => w.time),
      [MONDAY, MONDAY + 7 * DAY_MS],
    );
    assert.deepEqual(weeks.map(show)[0], ['2024-07-22', '10', '12', '9', '11', '1', '10', '2']);
  });

  it('returns nothing for no days', () => {
    assert.deepEqual(rollupWeeks([]), []);
  });
});
