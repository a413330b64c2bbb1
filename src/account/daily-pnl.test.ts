import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDecimal as d, toPlainString } from '../domain/decimal.ts';
import { DailyPnl, DAY_MS, utcDayStart } from './daily-pnl.ts';

const DAY = Date.UTC(2024, 1, 29);

describe('DailyPnl', () => {
  it('finds the UTC day of a time', () => {
    assert.equal(utcDayStart(DAY + DAY_MS - 1), DAY);
    assert.equal(utcDayStart(DAY + DAY_MS), DAY + DAY_MS);
  });

  it("sums the day's fills by their own time and the move of unrealized PnL since the day's start", () => {
    const daily = new DailyPnl(DAY + 1000);
    daily.observe(d('10'));
    daily.addFill(DAY + 5, d('4'), d('1'));
    daily.addFill(DAY - 5, d('100'), d('0'));
    daily.addFill(DAY + DAY_MS + 5, d('7'), d('0'));
    assert.equal(toPlainString(daily.value(d('12'))), '5', '(4 − 1) + (12 − 10)');
    assert.equal(daily.roll(DAY + 2000, d('0')), false);
    assert.equal(daily.roll(DAY + DAY_MS, d('12')), true);
    assert.equal(toPlainString(daily.value(d('11'))), '6', 'the early fill of the next day, 7, and 11 − 12');
  });

  it('counts from the first unrealized PnL seen when the start is unknown', () => {
    const daily = new DailyPnl(DAY);
    assert.equal(toPlainString(daily.value(d('50'))), '0');
    daily.observe(d('50'));
    daily.observe(d('70'));
    assert.equal(toPlainString(daily.value(d('70'))), '20');
    daily.setStartUnrealized(d('0'));
    assert.equal(toPlainString(daily.value(d('70'))), '70');
  });
});
