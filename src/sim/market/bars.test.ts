import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MINUTE_MS } from '../../domain/interval.ts';
import {
  addTradeToMinute,
  aggregateMinutes,
  aggregateWindowToOpenMinute,
  emptyMinute,
  type MinuteBar,
} from './bars.ts';
import { SimMarket } from './market.ts';
import { symbolSpec } from './symbol-specs.ts';

const NOW = Date.UTC(2026, 4, 20, 10, 15, 42, 123);
const DAY_OF_MINUTES = 1440;

describe('aggregateWindowToOpenMinute', () => {
  it('equals aggregateMinutes over the last day up to the open minute, as trades come and minutes close', () => {
    const market = new SimMarket({
      spec: symbolSpec('ETH/USDT'),
      seed: 5,
      nowMs: NOW,
      historyDays: 2,
      tradeWindowMs: 30 * MINUTE_MS,
      tradesPerSecond: 8,
    });
    let compared = 0;
    let closes = 0;
    let lastLength = 0;
    // Before and after the history is generated (the minutes array is replaced then), across minute closes.
    for (let t = NOW; t < NOW + 5 * MINUTE_MS; t += 700) {
      market.advanceTo(t);
      const minutes = market.minutes;
      const to = minutes.length;
      if (to !== lastLength) closes++;
      lastLength = to;
      for (const from of [Math.max(0, to - DAY_OF_MINUTES), to - 3, to - 1]) {
        const first = minutes[from];
        assert.ok(first !== undefined);
        assert.deepEqual(
          aggregateWindowToOpenMinute(minutes, from, to, first.t, t),
          aggregateMinutes(minutes, from, to, first.t, t),
        );
        compared++;
      }
    }
    assert.ok(closes >= 5, 'minutes closed on the way');
    assert.ok(compared > 1000);
  });

  it('is flat at the close before a window without trades, and sums a window with some', () => {
    const minutes = [emptyMinute(0, 100), emptyMinute(MINUTE_MS, 100), emptyMinute(2 * MINUTE_MS, 100)];
    addTradeToMinute(minutes[0] as MinuteBar, 105, 3, true, 1, 2);
    const quiet = aggregateWindowToOpenMinute(minutes, 1, 3, MINUTE_MS, 3 * MINUTE_MS);
    assert.equal(quiet.n, 0);
    assert.equal(quiet.o, 105);
    assert.deepEqual(quiet, aggregateMinutes(minutes, 1, 3, MINUTE_MS, 3 * MINUTE_MS));
    // A trade in the open minute shows at the next call; the closed minutes' sums are reused.
    addTradeToMinute(minutes[2] as MinuteBar, 99, 2, false, 3, 3);
    const traded = aggregateWindowToOpenMinute(minutes, 1, 3, MINUTE_MS, 3 * MINUTE_MS);
    assert.deepEqual([traded.o, traded.l, traded.c, traded.n, traded.v, traded.q], [99, 99, 99, 1, 2n, 198n]);
    assert.deepEqual(traded, aggregateMinutes(minutes, 1, 3, MINUTE_MS, 3 * MINUTE_MS));
  });
});
