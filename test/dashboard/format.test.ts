import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ageText,
  changePercent,
  decimalText,
  fractionAsPercent,
  fractionDigits,
  localClock,
  moneyText,
  percentText,
  plainNumber,
  priceText,
  PricePrecisions,
  roundDecimal,
  signedMoneyText,
  signedText,
  signOf,
  sizeText,
  trimZeros,
  utcTitle,
} from '../../dashboard/src/format.ts';

describe('dashboard format', () => {
  it('writes received numbers with their exact digits, never in exponent form', () => {
    assert.equal(plainNumber(67234.5), '67234.5');
    assert.equal(plainNumber(0.00002894), '0.00002894');
    assert.equal(plainNumber(JSON.parse('0.0000001') as number), '0.0000001');
    assert.equal(plainNumber(1.5e-9), '0.0000000015');
    assert.equal(plainNumber(-2.5e-7), '-0.00000025');
    assert.equal(plainNumber(1e21), '1000000000000000000000');
    assert.equal(plainNumber(1.25e22), '12500000000000000000000');
    assert.equal(plainNumber(0), '0');
  });

  it('shows decimal strings exactly as received and a dash for a missing value', () => {
    assert.equal(decimalText('67234.50'), '67234.50');
    assert.equal(decimalText('-0.00002894'), '-0.00002894');
    assert.equal(decimalText(30000.1), '30000.1');
    assert.equal(decimalText(undefined), '—');
    assert.equal(decimalText(null), '—');
  });

  it('counts the decimals of a received number', () => {
    assert.equal(fractionDigits(67234.5), 1);
    assert.equal(fractionDigits(67234), 0);
    assert.equal(fractionDigits(1e-7), 7);
    assert.equal(fractionDigits('0.00002894'), 8);
  });

  it('turns a fraction string into a percentage by moving the point, without rounding', () => {
    assert.equal(fractionAsPercent('0.583'), '58.3%');
    assert.equal(fractionAsPercent('1'), '100%');
    assert.equal(fractionAsPercent('0.6'), '60%');
    assert.equal(fractionAsPercent('0.0005'), '0.05%');
    assert.equal(fractionAsPercent('0.123456789'), '12.3456789%');
    assert.equal(fractionAsPercent('-0.031'), '-3.1%');
    assert.equal(fractionAsPercent('0'), '0%');
    assert.equal(fractionAsPercent(undefined), '—');
    assert.equal(fractionAsPercent('n/a'), '—');
  });

  it('signs amounts and tells their direction', () => {
    assert.equal(signedText('12.5'), '+12.5');
    assert.equal(signedText('-3'), '-3');
    assert.equal(signedText('0'), '0');
    assert.equal(signOf('-0.01'), 'negative');
    assert.equal(signOf(2), 'positive');
    assert.equal(signOf('0.000'), 'zero');
    assert.equal(signOf(undefined), 'zero');
  });

  it('computes a 24 h change and writes it with two decimals', () => {
    assert.equal(percentText(changePercent(101, 100)), '+1.00%');
    assert.equal(percentText(changePercent(99.5, 100)), '-0.50%');
    assert.equal(changePercent(100, undefined), undefined);
    assert.equal(percentText(undefined), '—');
  });

  it('writes the UTC time for the hover text and the local time of day for the screen', () => {
    const ms = Date.UTC(2026, 11, 3, 10, 0, 5, 123);
    assert.equal(utcTitle(ms), '2026-12-03 10:00:05.123 UTC');
    const local = new Date(ms);
    const expected = [local.getHours(), local.getMinutes(), local.getSeconds()]
      .map((n) => String(n).padStart(2, '0'))
      .join(':');
    assert.equal(localClock(ms), expected);
    assert.equal(localClock(ms, true), `${expected}.123`);
  });

  it('writes ages short', () => {
    assert.equal(ageText(400), '0.4 s');
    assert.equal(ageText(12_300), '12 s');
    assert.equal(ageText(180_000), '3 min');
    assert.equal(ageText(7_200_000), '2 h');
    assert.equal(ageText(-1), '—');
  });

  it('rounds account decimals on their digits, half away from zero, to a fixed number of places', () => {
    assert.equal(roundDecimal('9983.64512526658', 2), '9983.65');
    assert.equal(roundDecimal('9983.645', 2), '9983.65');
    assert.equal(roundDecimal('9983.644999', 2), '9983.64');
    assert.equal(roundDecimal('67000.1', 2), '67000.10');
    assert.equal(roundDecimal('10000', 2), '10000.00');
    assert.equal(roundDecimal('9.999', 2), '10.00');
    assert.equal(roundDecimal('-12.345', 2), '-12.35');
    assert.equal(roundDecimal('-0.004', 2), '0.00', 'no minus sign on a rounded zero');
    assert.equal(roundDecimal('.5', 0), '1');
    assert.equal(roundDecimal('67012.34567891234567891234', 2), '67012.35', 'beyond a double');
    assert.equal(roundDecimal('123456789012345678901.995', 2), '123456789012345678902.00');
    assert.equal(roundDecimal('n/a', 2), 'n/a');
  });

  it('shows money to its currency places, prices to the instrument precision, sizes trimmed', () => {
    assert.equal(moneyText('9983.64512526658', 'USDT'), '9983.65');
    assert.equal(moneyText('9983.64512526658'), '9983.65');
    assert.equal(moneyText('0.000123456789', 'BTC'), '0.00012346');
    assert.equal(moneyText(undefined, 'USDT'), '—');
    assert.equal(signedMoneyText('12.345', 'USDC'), '+12.35');
    assert.equal(signedMoneyText('-3', 'USDC'), '-3.00');
    assert.equal(signedMoneyText('0.001', 'USDC'), '0.00', 'no plus sign on a rounded zero');
    assert.equal(priceText('67012.34000000000000000001', 2), '67012.34');
    assert.equal(priceText('3525.255', 3), '3525.255');
    assert.equal(priceText('0', 2), '—', 'a zero mark or liquidation price is none');
    assert.equal(priceText(undefined, 2), '—');
    assert.equal(sizeText('0.01000'), '0.01');
    assert.equal(sizeText('5.000'), '5');
    assert.equal(sizeText('120'), '120');
    assert.equal(trimZeros('100'), '100', 'no point: integer zeros stay');
  });

  it('learns an instrument price precision from the prices seen, within 2 and 10 places', () => {
    const p = new PricePrecisions();
    assert.equal(p.places('BTC/USDT'), 2, 'nothing seen: 2');
    p.note('BTC/USDT', 67012.3);
    assert.equal(p.places('BTC/USDT'), 2);
    p.note('BTC/USDT', '67012.345');
    p.note('BTC/USDT', '67012.10000');
    assert.equal(p.places('BTC/USDT'), 3, 'the most decimals seen, trailing zeros not counted');
    p.note('PEPE/USDT', 1.2345e-9);
    assert.equal(p.places('PEPE/USDT'), 10);
    assert.equal(p.places('ETH/USDT'), 2, 'per instrument');
  });
});
