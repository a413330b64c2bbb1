import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toPlainString } from '../domain/decimal.ts';
import {
  decimal,
  decimalText,
  decimalTextAt,
  integer,
  integerText,
  isoTime,
  nonEmptyString,
  nonNegativeDecimal,
  nonNegativeInteger,
  optionalDecimal,
  optionalInteger,
  optionalIntegerText,
  optionalNonNegativeDecimal,
  positiveDecimal,
  stringValue,
  timeMs,
  tupleLevels,
} from './json-fields.ts';

describe('JSON field readers', () => {
  it('read prices above zero and amounts and counts not below zero, naming the field', () => {
    assert.equal(toPlainString(positiveDecimal('0.00000001', 'px')), '0.00000001');
    for (const bad of ['0', '-0', '-1.5', '0.000']) {
      assert.throws(() => positiveDecimal(bad, 'px'), /^Error: field px must be a decimal above zero$/);
    }
    assert.equal(toPlainString(nonNegativeDecimal('0', 'sz')), '0');
    assert.equal(toPlainString(nonNegativeDecimal('-0', 'sz')), '0');
    assert.throws(
      () => nonNegativeDecimal('-0.1', 'sz'),
      /^Error: field sz must be a decimal not below zero$/,
    );
    assert.equal(optionalNonNegativeDecimal('', 'bidSz'), undefined);
    assert.throws(() => optionalNonNegativeDecimal('-1', 'bidSz'), /bidSz must be a decimal not below zero/);
    assert.equal(nonNegativeInteger(0, 'n'), 0);
    assert.throws(() => nonNegativeInteger(-1, 'n'), /^Error: field n must be an integer not below zero$/);
    assert.throws(() => nonNegativeInteger(1.5, 'n'), /^Error: field n must be an integer$/);
  });

  it('read decimals exactly from their strings and refuse numbers, naming the field', () => {
    const price = decimal('0.00141342', 'px');
    assert.equal(toPlainString(price), '0.00141342');
    assert.equal(price.scale, 8, 'keeps the scale of the text');
    assert.throws(() => decimal(0.5, 'px'), /^Error: field px must be a decimal string$/);
    assert.throws(() => decimal('1,5', 'px'));
  });

  it('take an absent field, null and "" as no value, and still refuse a malformed one', () => {
    for (const none of [undefined, null, '']) {
      assert.equal(optionalDecimal(none, 'bidPx'), undefined);
      assert.equal(optionalInteger(none, 'seq'), undefined);
      assert.equal(optionalIntegerText(none, 'count'), undefined);
    }
    assert.throws(() => optionalDecimal(12, 'bidPx'), /field bidPx must be a decimal string/);
    assert.throws(() => optionalInteger('12', 'seq'), /field seq must be an integer/);
  });

  it('keep a decimal as printed once it is checked (book levels are checksummed over the text)', () => {
    assert.equal(decimalText('41006.8', 'px'), '41006.8');
    assert.equal(decimalText('0.10', 'sz'), '0.10');
    assert.throws(() => decimalText('abc', 'px'));
  });

  it('accept as book level text exactly what the decimal parser accepts', () => {
    const texts = [
      '0',
      '-0',
      '+1',
      '5.',
      '.5',
      '.',
      '',
      '-',
      '+',
      '-.',
      '1.2.3',
      '1..2',
      '12a',
      ' 1',
      '1 ',
      '1e5',
      '1E-8',
      '-2.5e+3',
      'e5',
      '1e',
      '0x10',
      'Infinity',
      'NaN',
      '٣',
      '1,5',
      '123456789012345678901234567890.123456789',
      '9'.repeat(64),
      '9'.repeat(65),
      '0.' + '1'.repeat(999),
      '0.' + '1'.repeat(1001),
      '1e1001',
    ];
    for (const text of texts) {
      let parsed: boolean;
      try {
        decimal(text, 'px');
        parsed = true;
      } catch {
        parsed = false;
      }
      if (parsed) assert.equal(decimalText(text, 'px'), text, text);
      else assert.throws(() => decimalText(text, 'px'), /px|decimal/, text);
    }
  });

  it('read integers from JSON numbers, or also from strings of digits where the venue prints them so', () => {
    assert.equal(integer(42, 'n'), 42);
    assert.throws(() => integer('42', 'n'), /field n must be an integer/);
    assert.throws(() => integer(1.5, 'n'), /field n must be an integer/);
    assert.throws(() => integer(2 ** 53, 'n'), /field n must be an integer/);
    assert.equal(integerText('1646311839593', 'ts'), 1646311839593);
    assert.equal(integerText(-1, 'prevSeqId'), -1);
    assert.throws(() => integerText('1e3', 'ts'), /field ts must be an integer/);
    assert.equal(optionalIntegerText('3', 'count'), 3);
  });

  it('read times in ms, and ISO times', () => {
    assert.equal(timeMs('1730332858796', 'ts'), 1730332858796);
    assert.equal(timeMs(1730332858796, 'ts'), 1730332858796);
    assert.throws(() => timeMs('-5', 'ts'), /field ts must be a time in ms/);
    assert.throws(() => timeMs('', 'ts'), /field ts must be a time in ms/);
    assert.equal(isoTime('2024-07-24T19:12:35.705Z', 'createdAt'), Date.UTC(2024, 6, 24, 19, 12, 35, 705));
    assert.throws(() => isoTime('yesterday', 'createdAt'), /field createdAt must be an ISO time/);
    // Date.parse reads these too; a venue's time is neither a bare year nor before 1970.
    for (const bad of ['01420', '2024', 'March 7, 2024', '1969-12-31T23:59:59Z', '2024-07-24']) {
      assert.throws(() => isoTime(bad, 'createdAt'), /field createdAt must be an ISO time/, bad);
    }
  });

  it('read strings, empty or not', () => {
    assert.equal(stringValue('', 'id'), '');
    assert.throws(() => stringValue(7, 'id'), /field id must be a string/);
    assert.equal(nonEmptyString('x', 'id'), 'x');
    assert.throws(() => nonEmptyString('', 'id'), /field id must be a non-empty string/);
  });

  it('read [price, size, ...] levels as text, naming the level that is wrong', () => {
    assert.deepEqual(
      tupleLevels(
        [
          ['41006.8', '0.6', '0', '1'],
          ['41006.3', '0'],
        ],
        'bids',
      ),
      [
        { price: '41006.8', size: '0.6' },
        { price: '41006.3', size: '0' },
      ],
    );
    assert.throws(() => tupleLevels({}, 'bids'), /field bids must be an array of \[price, size\]/);
    assert.throws(() => tupleLevels([['1']], 'asks'), /field asks\[0\] must be \[price, size\]/);
    assert.throws(() => tupleLevels([['1', 2]], 'asks'), /field asks\[0\]\[1\] must be a decimal string/);
    const printed = (value: unknown): string => String(value);
    assert.deepEqual(tupleLevels([[1.5, 2]], 'asks', printed), [{ price: '1.5', size: '2' }]);
    assert.throws(
      () =>
        tupleLevels(
          [
            ['1', '2'],
            [null, '2'],
          ],
          'bids',
        ),
      /field bids\[1\]\[0\]/,
    );
    assert.throws(
      () =>
        tupleLevels(
          [
            ['1', '2'],
            ['1e', '2'],
          ],
          'bids',
        ),
      /not a decimal number: "1e"/,
    );
    assert.deepEqual(tupleLevels([['1e5', '2']], 'bids'), [{ price: '1e5', size: '2' }]);
  });

  it('read an item of an array field as decimal text, naming it only when it is wrong', () => {
    assert.equal(decimalTextAt('41006.8', 'bids', 3, '.price'), '41006.8');
    assert.equal(decimalTextAt('1E-8', 'bids', 3, '.size'), '1E-8');
    assert.throws(() => decimalTextAt('abc', 'asks', 7, '.price'), /not a decimal number: "abc"/);
    assert.throws(() => decimalTextAt(null, 'asks', 7, '.price'), /field asks\[7\]\.price/);
    assert.throws(() => decimalTextAt(5, 'asks', 0, '.size'), /field asks\[0\]\.size/);
  });
});
