/**
 * The few exact decimal operations the account engine needs beyond src/domain/decimal.ts: division to a fixed
 * number of places (entry price averages, liquidation prices), sign handling, and ticks/lots as decimals.
 */
import { compare, normalize, type Decimal, ZERO } from '../../domain/decimal.ts';

export { ZERO };

/** Places kept by divisions (an average entry price keeps as many digits as the indexer prints). */
export const DIVISION_PLACES = 20;

export function negate(a: Decimal): Decimal {
  return { coef: -a.coef, scale: a.scale };
}

export function abs(a: Decimal): Decimal {
  return a.coef < 0n ? negate(a) : a;
}

export function sign(a: Decimal): -1 | 0 | 1 {
  return a.coef < 0n ? -1 : a.coef > 0n ? 1 : 0;
}

export function isPositive(a: Decimal): boolean {
  return a.coef > 0n;
}

export function lessThan(a: Decimal, b: Decimal): boolean {
  return compare(a, b) < 0;
}

/**
 * a / b with `places` fraction digits, rounded half away from zero, normalized (no trailing zeros). Throws on
 * division by zero: callers check sizes before dividing.
 */
export function divide(a: Decimal, b: Decimal, places = DIVISION_PLACES): Decimal {
  if (b.coef === 0n) throw new RangeError('division by zero');
  // a/b = (a.coef / b.coef) × 10^(b.scale − a.scale); scale the numerator so the quotient has `places` digits.
  const exponent = places + b.scale - a.scale;
  let num = a.coef;
  let den = b.coef;
  if (exponent >= 0) num *= 10n ** BigInt(exponent);
  else den *= 10n ** BigInt(-exponent);
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const q = num / den;
  const r = num % den;
  const rounded = 2n * (r < 0n ? -r : r) >= den ? q + (num < 0n ? -1n : 1n) : q;
  return normalize({ coef: rounded, scale: places });
}

/** `count` units of `unit` (ticks × tick size, lots × step). */
export function units(count: number | bigint, unit: Decimal): Decimal {
  return { coef: BigInt(count) * unit.coef, scale: unit.scale };
}

/** The largest multiple of `unit` not above |a|, with a's sign (sizes rounded down to the lot step). */
export function floorTo(a: Decimal, unit: Decimal): Decimal {
  const n = divide(abs(a), unit, 0);
  let count = n.coef * 10n ** BigInt(n.scale);
  if (compare(units(count, unit), abs(a)) > 0) count -= 1n;
  const out = units(count, unit);
  return a.coef < 0n ? negate(out) : out;
}

/** The multiple of `unit` nearest to a (prices rounded to the tick). */
export function roundTo(a: Decimal, unit: Decimal): Decimal {
  const n = divide(a, unit, 0);
  return units(n.coef * 10n ** BigInt(n.scale), unit);
}
