import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BAR_DECIMAL_FIELDS, BarDecimalColumns, type BarDecimals } from './bar-decimal-columns.ts';
import { parseDecimal, toPlainString } from './decimal.ts';

/** A bar whose eight decimals are `texts`, in BAR_DECIMAL_FIELDS order. */
function bar(...texts: string[]): BarDecimals {
  return Object.fromEntries(
    BAR_DECIMAL_FIELDS.map((f, i) => [f, parseDecimal(texts[i] ?? '0')]),
  ) as BarDecimals;
}

function read(columns: BarDecimalColumns, row: number, key: number): string[] {
  return BAR_DECIMAL_FIELDS.map((_, field) => toPlainString(columns.get(row, field, key)));
}

const HUGE = '123456789012345678901234567890.123456789';

describe('BarDecimalColumns', () => {
  it('reads back every decimal exactly: those that fit a double and scale, and those kept aside', () => {
    const columns = new BarDecimalColumns();
    columns.moveRows({ head: 0, size: 0, capacity: 4, inPlace: false });
    const texts = ['0.00000001', '9007199254740991', HUGE, '-42.5', '0', '1e-30', '100.10', '3'];
    columns.set(1, bar(...texts), 60);
    assert.deepEqual(
      read(columns, 1, 60),
      texts.map((t) => toPlainString(parseDecimal(t))),
    );
  });

  it('keeps a row kept-aside decimal with its key across moves, and forgets it when told', () => {
    const columns = new BarDecimalColumns();
    columns.moveRows({ head: 0, size: 0, capacity: 2, inPlace: false });
    columns.set(0, bar('1'), 10);
    columns.set(1, bar(HUGE, '2.5'), 20);
    // Grown into new arrays, the rows from 1 on at the front.
    columns.moveRows({ head: 1, size: 1, capacity: 8, inPlace: false });
    assert.equal(read(columns, 0, 20)[0], HUGE);
    assert.equal(read(columns, 0, 20)[1], '2.5');
    // A row that moves up keeps its decimals; the one it replaced is gone from the front.
    columns.set(1, bar('7', HUGE), 30);
    columns.copyRows(2, 1, 2);
    assert.deepEqual(read(columns, 2, 30).slice(0, 2), ['7', HUGE]);
    columns.forget(20);
    assert.equal(columns.get(0, 0, 20), undefined, 'the kept-aside decimal is forgotten');
  });
});
