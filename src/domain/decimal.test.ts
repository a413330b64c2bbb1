import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  add,
  compare,
  DecimalFormatError,
  divide,
  mul,
  parseDecimal,
  shift,
  sub,
  toFixedString,
  toNumber,
  toPlainString,
  tryParseDecimal,
} from './decimal.ts';

const d = parseDecimal;

test('parses exchange strings exactly, keeping their scale', () => {
  assert.deepEqual(d('0.00141342'), { coef: 141342n, scale: 8 });
  assert.deepEqual(d('23.00000000'), { coef: 2300000000n, scale: 8 });
  assert.deepEqual(d('-1.5'), { coef: -15n, scale: 1 });
  assert.deepEqual(d('2340.7442700369913687'), { coef: 23407442700369913687n, scale: 16 });
  assert.deepEqual(d('1e-8'), { coef: 1n, scale: 8 });
  assert.deepEqual(d('1.5E3'), { coef: 1500n, scale: 0 });
  assert.deepEqual(d('.5'), { coef: 5n, scale: 1 });
});

test('rejects text that is not a finite decimal', () => {
  for (const bad of ['', '-', '.', 'abc', '1.2.3', 'NaN', 'Infinity', '0x10', '1e', ' 1']) {
    assert.throws(() => d(bad), DecimalFormatError, bad);
  }
  assert.equal(tryParseDecimal('x'), undefined);
  assert.equal(tryParseDecimal(null), undefined);
  assert.deepEqual(tryParseDecimal(0.1), { coef: 1n, scale: 1 });
});

test('sums without binary floating-point drift', () => {
  let sum = d('0');
  for (let i = 0; i < 10; i++) sum = add(sum, d('0.1'));
  assert.equal(toPlainString(sum), '1');
  assert.equal(toPlainString(sub(d('0.3'), d('0.1'))), '0.2');
  assert.equal(toPlainString(mul(d('0.00141342'), d('23'))), '0.03250866');
});

test('compares across scales', () => {
  assert.equal(compare(d('1.10'), d('1.1')), 0);
  assert.equal(compare(d('1.09'), d('1.1')), -1);
  assert.equal(compare(d('-2'), d('-10')), 1);
});

test('prints plain notation that is also a JSON number literal', () => {
  assert.equal(toPlainString(d('0.00002894')), '0.00002894');
  assert.equal(toPlainString(d('67234.50')), '67234.5');
  assert.equal(toPlainString(d('-0.0500')), '-0.05');
  assert.equal(toPlainString(d('0.000')), '0');
  assert.equal(JSON.parse(toPlainString(d('0.00002894'))), 0.00002894);
  assert.equal(toNumber(d('145.23')), 145.23);
});

test('prints coefficients on either side of the largest safe integer exactly', () => {
  // Up to 2^53 - 1 the coefficient is printed through a double, from 2^53 on through BigInt: both exact.
  assert.equal(toPlainString({ coef: 9007199254740991n, scale: 4 }), '900719925474.0991');
  assert.equal(toPlainString({ coef: 9007199254740992n, scale: 4 }), '900719925474.0992');
  assert.equal(toPlainString({ coef: -9007199254740990n, scale: 1 }), '-900719925474099');
  assert.equal(toPlainString({ coef: 90071992547409920n, scale: 20 }), '0.0009007199254740992');
  assert.equal(toPlainString({ coef: -5000n, scale: 6 }), '-0.005');
  assert.equal(toPlainString({ coef: 120n, scale: 0 }), '120');
});

test('formats a fixed number of places, rounding half away from zero', () => {
  assert.equal(toFixedString(d('1.005'), 2), '1.01');
  assert.equal(toFixedString(d('-1.005'), 2), '-1.01');
  assert.equal(toFixedString(d('1.004'), 2), '1.00');
  assert.equal(toFixedString(d('7'), 3), '7.000');
  assert.equal(toFixedString(d('0.5'), 0), '1');
});

test('shifts the decimal point exactly', () => {
  assert.equal(toPlainString(shift(d('123'), 2)), '1.23');
  assert.equal(toPlainString(shift(d('1.23'), -4)), '12300');
});

test('reads short and long plain numbers alike (15 digits and more), signs and bare points included', () => {
  assert.deepEqual(d('999999999999999'), { coef: 999999999999999n, scale: 0 });
  assert.deepEqual(d('9999999999999999'), { coef: 9999999999999999n, scale: 0 });
  assert.deepEqual(d('0.99999999999999999'), { coef: 99999999999999999n, scale: 17 });
  assert.deepEqual(d('43000.12000000'), { coef: 4300012000000n, scale: 8 });
  assert.deepEqual(d('+5'), { coef: 5n, scale: 0 });
  assert.deepEqual(d('5.'), { coef: 5n, scale: 0 });
  assert.deepEqual(d('-0.0'), { coef: 0n, scale: 1 });
  assert.deepEqual(d('007'), { coef: 7n, scale: 0 });
  assert.deepEqual(add(d('1.5'), d('0.25')), { coef: 175n, scale: 2 });
  assert.deepEqual(add(d('0.25'), d('1.5')), { coef: 175n, scale: 2 });
  assert.equal(compare(d('2'), d('1.99')), 1);
  assert.equal(compare(d('1.99'), d('2')), -1);
});

test('divides to a fixed number of places, rounding half away from zero', () => {
  const q = (a: string, b: string, places: number): string =>
    toFixedString(divide(d(a), d(b), places), places);
  assert.equal(q('1', '3', 4), '0.3333');
  assert.equal(q('2', '3', 4), '0.6667');
  assert.equal(q('-1', '8', 2), '-0.13');
  assert.equal(q('1', '-8', 2), '-0.13');
  assert.equal(q('-1', '-8', 2), '0.13');
  assert.equal(q('0.125', '1', 2), '0.13');
  assert.equal(q('0.124999', '1', 2), '0.12');
  assert.equal(q('45', '100', 0), '0');
  assert.equal(q('50', '100', 0), '1');
  assert.equal(q('12345.678', '0.001', 1), '12345678.0');
  assert.equal(q('0.00000003', '7', 12), '0.000000004286');
  assert.equal(q('0', '-5', 3), '0.000');
  assert.deepEqual(divide(d('7'), d('2'), 3), { coef: 3500n, scale: 3 });
});

test('refuses a division by zero and a bad number of places', () => {
  assert.throws(() => divide(d('1'), d('0.000'), 2), /division by zero/);
  assert.throws(() => divide(d('1'), d('2'), -1), RangeError);
  assert.throws(() => divide(d('1'), d('2'), 1.5), RangeError);
  assert.throws(() => divide(d('1'), d('2'), 37), RangeError);
});
