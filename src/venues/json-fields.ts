/**
 * Readers of the fields of venue JSON (stream frames and REST bodies), which is untyped until read. Each returns
 * the field as the type it must have, or throws an Error that names the field ("field px must be a decimal
 * string"); a parser turns that into an `unknown` frame, a REST client into a rejected answer. Every venue reads
 * its fields with these, so the same mistake on the wire reads the same in every log.
 */
import type { BookLevel } from '../domain/book.ts';
import { parseDecimal, type Decimal } from '../domain/decimal.ts';

export type JsonObject = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether an optional field carries no value. Venues print "no value" as an absent field, `null` (dYdX oracle
 * prices) or "" (OKX and Bitget empty book sides and 24 h figures).
 */
function isAbsent(value: unknown): value is undefined | null | '' {
  return value === undefined || value === null || value === '';
}

/** A string field. */
export function stringValue(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new Error(`field ${field} must be a string`);
  return value;
}

export function nonEmptyString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`field ${field} must be a non-empty string`);
  return value;
}

/** A decimal sent as a string ("0.00141342"), parsed exactly. */
export function decimal(value: unknown, field: string): Decimal {
  if (typeof value !== 'string') throw new Error(`field ${field} must be a decimal string`);
  return parseDecimal(value);
}

/** A price: a decimal string above zero. A venue never prices anything at zero or below. */
export function positiveDecimal(value: unknown, field: string): Decimal {
  const d = decimal(value, field);
  if (d.coef <= 0n) throw new Error(`field ${field} must be a decimal above zero`);
  return d;
}

/** A size, volume or other amount: a decimal string not below zero. */
export function nonNegativeDecimal(value: unknown, field: string): Decimal {
  const d = decimal(value, field);
  if (d.coef < 0n) throw new Error(`field ${field} must be a decimal not below zero`);
  return d;
}

/** An amount as nonNegativeDecimal reads it, or undefined when the field has no value (absent, null or ""). */
export function optionalNonNegativeDecimal(value: unknown, field: string): Decimal | undefined {
  return isAbsent(value) ? undefined : nonNegativeDecimal(value, field);
}

/** A decimal string, or undefined when the field has no value (absent, null or ""). */
export function optionalDecimal(value: unknown, field: string): Decimal | undefined {
  return isAbsent(value) ? undefined : decimal(value, field);
}

/**
 * A decimal string kept as the venue printed it, after checking that it is one: book levels keep their text
 * because checksums are computed over it.
 */
export function decimalText(value: unknown, field: string): string {
  // Book frames carry hundreds of levels a second: the common plain form is checked without building a Decimal
  // (a BigInt per price and size); anything else goes through the full parser, which also names the field.
  if (typeof value === 'string' && isPlainDecimalText(value)) return value;
  decimal(value, field);
  return value as string;
}

/** Longest text the plain check takes; longer ones (up to parseDecimal's own limits) go through the parser. */
const MAX_PLAIN_LENGTH = 64;

/**
 * Whether `text` is a decimal in plain notation ("-123.4500", "5.", ".5"): an optional sign, digits and at most
 * one point, at least one digit. Exactly what parseDecimal accepts in that form, without allocating.
 */
function isPlainDecimalText(text: string): boolean {
  const length = text.length;
  if (length === 0 || length > MAX_PLAIN_LENGTH) return false;
  let i = 0;
  const first = text.charCodeAt(0);
  if (first === 45 /* - */ || first === 43 /* + */) i = 1;
  let digits = 0;
  let point = false;
  for (; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46 /* . */ && !point) point = true;
    else return false;
  }
  return digits > 0;
}

/** An integer sent as a JSON number. */
export function integer(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new Error(`field ${field} must be an integer`);
  return value;
}

/** A count or a time: an integer JSON number not below zero. */
export function nonNegativeInteger(value: unknown, field: string): number {
  const n = integer(value, field);
  if (n < 0) throw new Error(`field ${field} must be an integer not below zero`);
  return n;
}

/** An integer JSON number, or undefined when the field has no value (absent, null or ""). */
export function optionalInteger(value: unknown, field: string): number | undefined {
  return isAbsent(value) ? undefined : integer(value, field);
}

const INTEGER_TEXT = /^-?[0-9]{1,16}$/;

/** An integer sent as a string of digits ("1646311839593", OKX ids and times) or as a JSON number. */
export function integerText(value: unknown, field: string): number {
  return integer(typeof value === 'string' && INTEGER_TEXT.test(value) ? Number(value) : value, field);
}

/** An integer as integerText reads it, or undefined when the field has no value (absent, null or ""). */
export function optionalIntegerText(value: unknown, field: string): number | undefined {
  return isAbsent(value) ? undefined : integerText(value, field);
}

/** A time in ms since the epoch, sent as a string of digits or as a JSON number. */
export function timeMs(value: unknown, field: string): number {
  const n = typeof value === 'string' && value !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new Error(`field ${field} must be a time in ms`);
  return n;
}

/** The date-and-time form of ISO 8601 ("2024-07-24T19:12:35.705Z"), which Date.parse alone would not insist on. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/**
 * An ISO-8601 time ("2024-07-24T19:12:35.705Z"), in ms since the epoch. Only the date-and-time form, and not
 * before the epoch: Date.parse also reads "01420" (the year 1420) or "March 7".
 */
export function isoTime(value: unknown, field: string): number {
  const t = typeof value === 'string' && ISO_DATE_TIME.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(t) || t < 0) throw new Error(`field ${field} must be an ISO time`);
  return t;
}

/** A JSON array; `of` says what it holds, for the message. */
export function array(value: unknown, field: string, of: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`field ${field} must be an array of ${of}`);
  return value as unknown[];
}

/**
 * A decimal text as `text` (default: decimalText) reads it, of an item of an array field: the item's name
 * (`bids[3][0]`, `field[index]suffix`) is built only when the text is not a plain decimal, so that a book frame of
 * hundreds of levels does not print two names per level that only an error would use.
 */
export function decimalTextAt(
  value: unknown,
  field: string,
  index: number,
  suffix: string,
  text: (value: unknown, field: string) => string = decimalText,
): string {
  if (typeof value === 'string' && isPlainDecimalText(value)) return value;
  return text(value, `${field}[${index}]${suffix}`);
}

/**
 * Book levels printed as `[price, size, ...]` tuples, each kept as the venue's text. `text` reads one price or
 * size that is not a plain decimal string (default: decimalText); a plain one (see decimalText) is kept as is.
 */
export function tupleLevels(
  value: unknown,
  field: string,
  text: (value: unknown, field: string) => string = decimalText,
): BookLevel[] {
  const tuples = array(value, field, '[price, size]');
  const out = new Array<BookLevel>(tuples.length);
  for (let i = 0; i < tuples.length; i++) {
    const tuple = tuples[i];
    if (!Array.isArray(tuple) || tuple.length < 2)
      throw new Error(`field ${field}[${i}] must be [price, size]`);
    out[i] = {
      price: decimalTextAt(tuple[0], field, i, '[0]', text),
      size: decimalTextAt(tuple[1], field, i, '[1]', text),
    };
  }
  return out;
}
