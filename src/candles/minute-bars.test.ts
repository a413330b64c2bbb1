import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Decimal, parseDecimal, toPlainString } from '../domain/decimal.ts';
import { MINUTE_MS } from '../domain/interval.ts';
import { type MutableBar, flatBar } from './bar-builder.ts';
import { MinuteBars } from './minute-bars.ts';
import { LONG_DECIMALS, ORDINARY_DECIMALS } from '../domain/bar-decimals.test-support.ts';

const T0 = Date.UTC(2026, 0, 5);
const d = parseDecimal;

/** A traded bar whose every field differs from the others, with decimals of the given texts. */
function tradedBar(time: number, texts: readonly string[]): MutableBar {
  const [open, high, low, close, volume, quoteVolume, takerBuyVolume, takerBuyQuoteVolume] = texts.map(d) as [
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
  ];
  return {
    time,
    open,
    high,
    low,
    close,
    volume,
    quoteVolume,
    takerBuyVolume,
    takerBuyQuoteVolume,
    trades: 3_000_000_007,
    traded: true,
    mask: 0b10101,
    openTime: time + 1,
    openVenue: 2,
    openSeq: 9_007_199_254_740_000,
    closeTime: time + 59_999,
    closeVenue: 3,
    closeSeq: NaN,
  };
}

/** The bar as plain data, decimals as coefficient and scale (a scale that changed would show). */
function plain(bar: MutableBar): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(bar)) {
    out[key] = typeof value === 'object' ? `${(value as Decimal).coef}e-${(value as Decimal).scale}` : value;
  }
  return out;
}

describe('MinuteBars', () => {
  it('gives back every field of a stored bar exactly, decimals that do not fit a column included', () => {
    const bars = new MinuteBars();
    const stored = [
      tradedBar(T0, ORDINARY_DECIMALS),
      tradedBar(T0 + MINUTE_MS, LONG_DECIMALS),
      flatBar(T0 + 2 * MINUTE_MS, d('7.70')),
    ];
    // A scale past 16 bits (a product of long decimals, in principle).
    stored[1]!.takerBuyVolume = { coef: 1n, scale: 40_000 };
    for (const bar of stored) bars.push({ ...bar });
    bars.push(flatBar(T0 + 3 * MINUTE_MS, d('7.70')));
    assert.equal(bars.length, 4);
    for (let i = 0; i < stored.length; i++) assert.deepEqual(plain(bars.at(i)), plain(stored[i]!));
    assert.equal(toPlainString(bars.at(1).open), '9007199254740993');
    assert.equal(toPlainString(bars.at(1).high), '-123456789012345678901234567890.123456789');
  });

  it('stores a change back with set, also from a huge value to an ordinary one and back', () => {
    const bars = new MinuteBars();
    bars.push(tradedBar(T0, LONG_DECIMALS));
    bars.push(flatBar(T0 + MINUTE_MS, d('1')));
    const changed = bars.at(0);
    changed.volume = d('2.5');
    changed.open = d('123456789012345678901234567890');
    bars.set(0, changed);
    assert.equal(toPlainString(bars.at(0).volume), '2.5');
    assert.equal(toPlainString(bars.at(0).open), '123456789012345678901234567890');
    assert.equal(toPlainString(bars.at(0).high), '-123456789012345678901234567890.123456789');
  });

  it('keeps the newest bar as the caller object and stores it when a newer one comes', () => {
    const bars = new MinuteBars();
    const first = flatBar(T0, d('1.5'));
    bars.push(first);
    assert.equal(bars.last(), first);
    assert.equal(bars.at(0), first);
    first.close = d('1.75');
    bars.push(flatBar(T0 + MINUTE_MS, d('1.75')));
    assert.notEqual(bars.at(0), first);
    assert.equal(toPlainString(bars.at(0).close), '1.75');
    assert.throws(() => bars.push(flatBar(T0 + 3 * MINUTE_MS, d('1'))), /contiguous/);
  });

  for (const expected of [undefined, 40]) {
    it(`pops the newest, drops the oldest, and keeps the bars right while growing and compacting (expected ${expected})`, () => {
      const bars = new MinuteBars(expected);
      const price = (i: number): Decimal => (i % 7 === 0 ? d(`${i}00000000000000000000.1`) : d(`${i}.01`));
      let next = 0;
      let oldest = 0;
      for (let round = 0; round < 40; round++) {
        for (let k = 0; k < 97; k++, next++) bars.push(flatBar(T0 + next * MINUTE_MS, price(next)));
        for (let k = 0; k < 60; k++, oldest++) bars.dropOldest();
        bars.pop();
        next--;
      }
      assert.equal(bars.length, next - oldest);
      assert.equal(bars.oldestTime, T0 + oldest * MINUTE_MS);
      for (let i = 0; i < bars.length; i++) {
        const bar = bars.at(i);
        assert.equal(bar.time, T0 + (oldest + i) * MINUTE_MS);
        assert.equal(toPlainString(bar.close), toPlainString(price(oldest + i)));
      }
      assert.equal(bars.last()!.time, T0 + (next - 1) * MINUTE_MS);
    });
  }

  it('refuses to drop the newest bar and to read a bar it does not hold', () => {
    const bars = new MinuteBars();
    bars.push(flatBar(T0, d('1')));
    assert.throws(() => bars.dropOldest(), RangeError);
    assert.throws(() => bars.at(1), RangeError);
    bars.pop();
    assert.equal(bars.length, 0);
    assert.equal(bars.oldestTime, undefined);
  });
});
