/**
 * Exact decimal numbers for prices and sizes.
 *
 * Exchanges send prices and sizes as decimal strings; candle volumes must be summed without the drift of
 * binary floating point (a bar built from trades must equal the exchange's own kline to the last digit).
 * A Decimal is a scaled integer: value = coef × 10^-scale. Arithmetic is exact; only `toNumber` rounds.
 */
export interface Decimal {
  readonly coef: bigint;
  readonly scale: number;
}

const DECIMAL_PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const MAX_SCALE = 36;
const POW10: bigint[] = [];
for (let i = 0, p = 1n; i <= MAX_SCALE * 2; i++, p *= 10n) POW10.push(p);

function pow10(n: number): bigint {
  return POW10[n] ?? 10n ** BigInt(n);
}

export const ZERO: Decimal = Object.freeze({ coef: 0n, scale: 0 });

/** Thrown by `parseDecimal` for text that is not a finite decimal number. */
export class DecimalFormatError extends Error {
  constructor(readonly input: string) {
    super(`not a decimal number: ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)}`);
    this.name = 'DecimalFormatError';
  }
}

/** Digits a plain decimal may have to be read through a double exactly (10^15 < 2^53). */
const MAX_FAST_DIGITS = 15;

/**
 * The common case of `parseDecimal`, without a regular expression or a digit string for BigInt: plain notation
 * ("-123.4500") of at most 15 digits, accumulated in a double, where it is exact. Undefined for anything else.
 */
function parsePlain(text: string): Decimal | undefined {
  const length = text.length;
  let i = 0;
  let negative = false;
  const first = text.charCodeAt(0);
  if (first === 45 /* - */ || first === 43 /* + */) {
    negative = first === 45;
    i = 1;
  }
  let value = 0;
  let digits = 0;
  let point = -1;
  for (; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 46 /* . */ && point < 0) point = i;
    else return undefined;
  }
  if (digits === 0 || digits > MAX_FAST_DIGITS) return undefined;
  const coef = BigInt(value);
  return { coef: negative ? -coef : coef, scale: point < 0 ? 0 : length - point - 1 };
}

/** Parses "123.4500", "-0.1", "1e-8" exactly. Keeps the scale of the text (trailing zeros count). */
export function parseDecimal(text: string): Decimal {
  const plain = parsePlain(text);
  if (plain !== undefined) return plain;
  const m = DECIMAL_PATTERN.exec(text);
  if (!m) throw new DecimalFormatError(text);
  const [, sign = '', int = '', frac = '', exp] = m;
  if (int === '' && frac === '') throw new DecimalFormatError(text);
  let coef = BigInt((int || '0') + frac);
  let scale = frac.length - (exp === undefined ? 0 : Number(exp));
  if (!Number.isSafeInteger(scale) || Math.abs(scale) > 1000) throw new DecimalFormatError(text);
  if (scale < 0) {
    coef *= pow10(-scale);
    scale = 0;
  }
  if (sign === '-') coef = -coef;
  return { coef, scale };
}

/** Parses and returns undefined instead of throwing. */
export function tryParseDecimal(text: unknown): Decimal | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? parseDecimal(String(text)) : undefined;
  if (typeof text !== 'string') return undefined;
  try {
    return parseDecimal(text);
  } catch {
    return undefined;
  }
}

export function fromInteger(n: number | bigint): Decimal {
  return { coef: BigInt(n), scale: 0 };
}

// add, sub and compare run for every trade in the candle engine: they align scales inline, without allocating.

export function add(a: Decimal, b: Decimal): Decimal {
  if (a.scale === b.scale) return { coef: a.coef + b.coef, scale: a.scale };
  if (a.scale > b.scale) return { coef: a.coef + b.coef * pow10(a.scale - b.scale), scale: a.scale };
  return { coef: a.coef * pow10(b.scale - a.scale) + b.coef, scale: b.scale };
}

export function sub(a: Decimal, b: Decimal): Decimal {
  if (a.scale === b.scale) return { coef: a.coef - b.coef, scale: a.scale };
  if (a.scale > b.scale) return { coef: a.coef - b.coef * pow10(a.scale - b.scale), scale: a.scale };
  return { coef: a.coef * pow10(b.scale - a.scale) - b.coef, scale: b.scale };
}

export function mul(a: Decimal, b: Decimal): Decimal {
  return { coef: a.coef * b.coef, scale: a.scale + b.scale };
}

/**
 * a / b with exactly `places` fraction digits (0–36), rounded half away from zero (as `toFixedString`):
 * divide(1, 3, 4) = 0.3333, divide(2, 3, 4) = 0.6667, divide(-1, 8, 2) = -0.13. The quotient is computed on the
 * integers, so no digit is lost before the one rounding. Throws a RangeError for b = 0 or a bad `places`.
 */
export function divide(a: Decimal, b: Decimal, places: number): Decimal {
  if (!Number.isSafeInteger(places) || places < 0 || places > MAX_SCALE) {
    throw new RangeError(`places must be a whole number from 0 to ${MAX_SCALE}, got ${String(places)}`);
  }
  if (b.coef === 0n) throw new RangeError('division by zero');
  // a/b = (a.coef / b.coef) × 10^(b.scale − a.scale); scaled by 10^places to keep `places` digits.
  let num = a.coef;
  let den = b.coef;
  const exp = places + b.scale - a.scale;
  if (exp >= 0) num *= pow10(exp);
  else den *= pow10(-exp);
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const q = num / den;
  const r = num % den;
  const twice = (r < 0n ? -r : r) * 2n;
  return { coef: twice >= den ? q + (num < 0n ? -1n : 1n) : q, scale: places };
}

/** -1, 0 or 1. */
export function compare(a: Decimal, b: Decimal): number {
  let x = a.coef;
  let y = b.coef;
  if (a.scale > b.scale) y *= pow10(a.scale - b.scale);
  else if (a.scale < b.scale) x *= pow10(b.scale - a.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function eq(a: Decimal, b: Decimal): boolean {
  return compare(a, b) === 0;
}

export function max(a: Decimal, b: Decimal): Decimal {
  return compare(a, b) >= 0 ? a : b;
}

export function min(a: Decimal, b: Decimal): Decimal {
  return compare(a, b) <= 0 ? a : b;
}

export function isZero(a: Decimal): boolean {
  return a.coef === 0n;
}

/** Drops trailing zeros of the fraction: 1.2300 → 1.23. */
export function normalize(a: Decimal): Decimal {
  let { coef, scale } = a;
  while (scale > 0 && coef % 10n === 0n) {
    coef /= 10n;
    scale--;
  }
  return scale === a.scale ? a : { coef, scale };
}

/** Multiplies by 10^-n exactly (shifts the decimal point left). */
export function shift(a: Decimal, n: number): Decimal {
  if (n >= 0) return { coef: a.coef, scale: a.scale + n };
  const up = -n;
  if (a.scale >= up) return { coef: a.coef, scale: a.scale - up };
  return { coef: a.coef * pow10(up - a.scale), scale: 0 };
}

/**
 * Plain decimal notation without exponent and without trailing fraction zeros ("0.00002894", "145.23", "0").
 * Also a valid JSON number literal, so it can be written into JSON without a detour through float.
 */
export function toPlainString(a: Decimal): string {
  // Most decimals of a market fit a double exactly: written without BigInt arithmetic, which allocated a BigInt
  // per digit dropped and per step (the store writes eight of these for every bar, by the thousand).
  const small = Number(a.coef);
  if (Number.isSafeInteger(small) && a.scale >= 0) return plainOfSafeInteger(small, a.scale);
  const n = normalize(a);
  const negative = n.coef < 0n;
  const digits = (negative ? -n.coef : n.coef).toString();
  if (n.scale === 0) return (negative ? '-' : '') + digits;
  const padded = digits.padStart(n.scale + 1, '0');
  const cut = padded.length - n.scale;
  return (negative ? '-' : '') + padded.slice(0, cut) + '.' + padded.slice(cut);
}

/** toPlainString of coef × 10^-scale for a safe integer `coef` (exact in a double) and `scale` >= 0. */
function plainOfSafeInteger(coef: number, scale: number): string {
  while (scale > 0 && coef % 10 === 0) {
    coef /= 10;
    scale--;
  }
  const negative = coef < 0;
  const digits = String(negative ? -coef : coef);
  if (scale === 0) return negative ? '-' + digits : digits;
  const padded = digits.padStart(scale + 1, '0');
  const cut = padded.length - scale;
  return (negative ? '-' : '') + padded.slice(0, cut) + '.' + padded.slice(cut);
}

/** Fixed number of fraction digits, rounding half away from zero when digits are dropped. */
export function toFixedString(a: Decimal, places: number): string {
  let coef = a.coef;
  if (a.scale > places) {
    const div = pow10(a.scale - places);
    const q = coef / div;
    const r = coef % div;
    const twice = (r < 0n ? -r : r) * 2n;
    coef = twice >= div ? q + (coef < 0n ? -1n : 1n) : q;
  } else {
    coef *= pow10(places - a.scale);
  }
  const negative = coef < 0n;
  const digits = (negative ? -coef : coef).toString();
  if (places === 0) return (negative ? '-' : '') + digits;
  const padded = digits.padStart(places + 1, '0');
  const cut = padded.length - places;
  return (negative ? '-' : '') + padded.slice(0, cut) + '.' + padded.slice(cut);
}

/** Nearest double; for display and statistics only, never for sums that must be exact. */
export function toNumber(a: Decimal): number {
  return Number(toPlainString(a));
}
