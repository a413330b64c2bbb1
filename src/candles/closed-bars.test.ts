import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Candle } from '../domain/candle.ts';
import { type Decimal, parseDecimal } from '../domain/decimal.ts';
import { ClosedBars } from './closed-bars.ts';

const T0 = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;

function bar(time: number, texts: readonly string[], trades = 7): Candle {
  const [open, high, low, close, volume, quoteVolume, takerBuyVolume, takerBuyQuoteVolume] = texts.map(
    parseDecimal,
  ) as [Decimal, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal];
  return { time, open, high, low, close, volume, quoteVolume, takerBuyVolume, takerBuyQuoteVolume, trades };
}

const PLAIN = ['100.5', '101', '99.25', '100', '3.5', '351.75', '1.5', '150.75'];
/** Coefficients far past 2^53 (sums of long decimals) and a negative one: kept in the side map. */
const LONG = [
  '0.000000000000000000012345678901234567891',
  '123456789012345678901234567890.5',
  '-1.000000000000000000001',
  '0',
  '98765432109876543210.123456789',
  '0.0',
  '1e-40',
  '42',
];

function all(bars: ClosedBars): Candle[] {
  return Array.from({ length: bars.length }, (_, i) => bars.at(i));
}

describe('ClosedBars', () => {
  it('reads back exactly what was pushed, decimals of every size and their scales included', () => {
    const bars = new ClosedBars();
    const pushed: Candle[] = [];
    for (let i = 0; i < 100; i++) {
      const b = bar(T0 + i * HOUR, i % 3 === 0 ? LONG : PLAIN, i);
      pushed.push(b);
      bars.push(b);
    }
    assert.deepEqual(all(bars), pushed);
    assert.equal(bars.lastTime(), T0 + 99 * HOUR);
    assert.equal(bars.timeAt(5), T0 + 5 * HOUR);
    // A read is a fresh object, not the one pushed.
    assert.notEqual(bars.at(0), pushed[0]);
  });

  it('replaces a bar by its time and gives the old one back; a time not held changes nothing', () => {
    const bars = new ClosedBars();
    for (let i = 0; i < 10; i++) bars.push(bar(T0 + i * HOUR, PLAIN));
    const revised = bar(T0 + 4 * HOUR, LONG, 9);
    assert.deepEqual(bars.replace(revised), bar(T0 + 4 * HOUR, PLAIN));
    assert.deepEqual(bars.at(4), revised);
    assert.deepEqual(bars.replace(bar(T0 + 4 * HOUR, PLAIN)), revised);
    assert.deepEqual(bars.at(4), bar(T0 + 4 * HOUR, PLAIN));
    assert.equal(bars.replace(bar(T0 + 20 * HOUR, PLAIN)), undefined);
    assert.equal(bars.length, 10);
  });

  it('drops the oldest and the newest, and keeps growing and moving rows without losing a bar', () => {
    const bars = new ClosedBars();
    const expected: Candle[] = [];
    for (let i = 0; i < 3000; i++) {
      const b = bar(T0 + i * HOUR, i % 7 === 0 ? LONG : PLAIN, i);
      bars.push(b);
      expected.push(b);
      if (bars.length > 200) {
        bars.dropOldest(100);
        expected.splice(0, 100);
      }
    }
    bars.pop();
    expected.pop();
    assert.deepEqual(all(bars), expected);
    assert.equal(bars.lowerBound(expected[0]!.time), 0);
    assert.equal(bars.lowerBound(expected[3]!.time - 1), 3);
    assert.equal(bars.lowerBound(expected[3]!.time + 1), 4);
    assert.equal(bars.lowerBound(T0 + 10_000 * HOUR), bars.length);
    bars.dropOldest(bars.length);
    assert.equal(bars.length, 0);
    assert.equal(bars.lastTime(), undefined);
  });

  it('refuses a bar that does not start after the newest, and an index not held', () => {
    const bars = new ClosedBars();
    bars.push(bar(T0, PLAIN));
    assert.throws(() => bars.push(bar(T0, PLAIN)), RangeError);
    assert.throws(() => bars.at(1), RangeError);
    assert.throws(() => bars.timeAt(-1), RangeError);
  });
});
