/**
 * Readers for Binance trade dumps, one line at a time:
 * - `binance-aggtrades-json`: JSON lines of aggregate trades as REST /api/v3/aggTrades items or `@aggTrade` stream
 *   payloads (fields a, p, q, f, l, T, m; a combined-stream wrapper `{"stream":..,"data":{..}}` is unwrapped);
 * - `binance-trades-csv`: public-data trade dumps, `id,price,qty,quoteQty,time,isBuyerMaker[,isBestMatch]`;
 * - `binance-aggtrades-csv`: public-data aggTrades dumps,
 *   `aggId,price,qty,firstId,lastId,time,isBuyerMaker[,isBestMatch]`.
 * CSV dumps come with or without a header line; times are ms or µs (newer dumps), told apart by magnitude.
 * A dump has no receive time; the trade time stands in for it.
 * Each reader throws an Error whose message says what is wrong with the line; the caller adds the line number.
 */
import type { Trade } from '../../domain/trade.ts';
import { parseAggTrade, parseRestTrade, toMillis } from './parse.ts';
import type { BinanceAggTrade, BinanceRestTrade } from './wire.ts';

export const BINANCE_DUMP_FORMATS = [
  'binance-aggtrades-json',
  'binance-trades-csv',
  'binance-aggtrades-csv',
] as const;
export type BinanceDumpFormat = (typeof BINANCE_DUMP_FORMATS)[number];

const INTEGER = /^\d+$/;
const DECIMAL = /^\d+(?:\.\d*)?$/;

function csvBoolean(text: string | undefined, name: string): boolean {
  switch (text?.toLowerCase()) {
    case 'true':
      return true;
    case 'false':
      return false;
    default:
      throw new Error(`column ${name} must be true or false, got ${JSON.stringify(text ?? '')}`);
  }
}

function csvInteger(text: string | undefined, name: string): number {
  const value = Number(text);
  if (text === undefined || !INTEGER.test(text) || !Number.isSafeInteger(value)) {
    throw new Error(`column ${name} must be a non-negative integer, got ${JSON.stringify(text ?? '')}`);
  }
  return value;
}

function csvDecimal(text: string | undefined, name: string): string {
  if (text === undefined || !DECIMAL.test(text)) {
    throw new Error(`column ${name} must be a decimal number, got ${JSON.stringify(text ?? '')}`);
  }
  return text;
}

function splitCsv(line: string): string[] {
  return line.trim().split(',');
}

/** True for a CSV header line (its first column is not a number). */
export function isCsvHeader(line: string): boolean {
  const first = splitCsv(line)[0] ?? '';
  return !INTEGER.test(first.trim());
}

/** Index after `text` when `line` has it at `at`, else -1. */
function skip(line: string, at: number, text: string): number {
  if (at < 0 || at + text.length > line.length) return -1;
  for (let i = 0; i < text.length; i++) if (line.charCodeAt(at + i) !== text.charCodeAt(i)) return -1;
  return at + text.length;
}

/** Index after the digits at `at` (at itself when there are none). */
function digitsEnd(line: string, at: number): number {
  let i = at;
  for (let c = line.charCodeAt(i); c >= 48 && c <= 57; c = line.charCodeAt(++i));
  return i;
}

/** The JSON integer line[from, to): digits only, no leading zero, safe in a double; NaN otherwise. */
function unsignedInteger(line: string, from: number, to: number): number {
  if (to === from || to - from > 16 || (to - from > 1 && line.charCodeAt(from) === 48)) return NaN;
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + (line.charCodeAt(i) - 48);
  return Number.isSafeInteger(value) ? value : NaN;
}

/** Index of the closing quote of a string of digits and points starting after the quote at `at`, else -1. */
function decimalEnd(line: string, at: number): number {
  if (at < 0 || line.charCodeAt(at) !== 34) return -1;
  let i = at + 1;
  for (let c = line.charCodeAt(i); (c >= 48 && c <= 57) || c === 46; c = line.charCodeAt(++i));
  return i > at + 1 && line.charCodeAt(i) === 34 ? i : -1;
}

/**
 * The aggTrade line exactly as Binance writes it (REST items and the public-data dumps), read without JSON.parse:
 * `{"a":1,"p":"0.1","q":"2","f":1,"l":1,"T":1,"m":true,"M":true}` with keys in this order, no spaces and "M"
 * optional. Any other text, valid JSON or not, gives undefined and goes through JSON.parse, so results and errors
 * are the same either way; this only spares the generic parse on files of millions of lines.
 */
function scanCanonicalAggTrade(line: string): BinanceAggTrade | undefined {
  const aFrom = skip(line, 0, '{"a":');
  if (aFrom < 0) return undefined;
  const aTo = digitsEnd(line, aFrom);
  const pQuote = skip(line, aTo, ',"p":');
  const pEnd = decimalEnd(line, pQuote);
  const qQuote = skip(line, pEnd + 1, ',"q":');
  if (pEnd < 0 || qQuote < 0) return undefined;
  const qEnd = decimalEnd(line, qQuote);
  const fFrom = skip(line, qEnd + 1, ',"f":');
  if (qEnd < 0 || fFrom < 0) return undefined;
  const fTo = digitsEnd(line, fFrom);
  const lFrom = skip(line, fTo, ',"l":');
  if (lFrom < 0) return undefined;
  const lTo = digitsEnd(line, lFrom);
  const tFrom = skip(line, lTo, ',"T":');
  if (tFrom < 0) return undefined;
  const tTo = digitsEnd(line, tFrom);
  const mFrom = skip(line, tTo, ',"m":');
  let end = skip(line, mFrom, 'true');
  const m = end >= 0;
  if (!m) end = skip(line, mFrom, 'false');
  const M = skip(line, end, ',"M":');
  if (M >= 0) end = Math.max(skip(line, M, 'true'), skip(line, M, 'false'));
  if (skip(line, end, '}') !== line.length) return undefined;
  const a = unsignedInteger(line, aFrom, aTo);
  const f = unsignedInteger(line, fFrom, fTo);
  const l = unsignedInteger(line, lFrom, lTo);
  const T = unsignedInteger(line, tFrom, tTo);
  if (Number.isNaN(a) || Number.isNaN(f) || Number.isNaN(l) || Number.isNaN(T)) return undefined;
  return { a, p: line.slice(pQuote + 1, pEnd), q: line.slice(qQuote + 1, qEnd), f, l, T, m };
}

/** The literal's bytes (ASCII). */
function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const OPEN_A = ascii('{"a":');
const KEY_P = ascii(',"p":');
const KEY_Q = ascii(',"q":');
const KEY_F = ascii(',"f":');
const KEY_L = ascii(',"l":');
const KEY_T = ascii(',"T":');
const KEY_M = ascii(',"m":');
const KEY_BEST = ascii(',"M":');
const TRUE = ascii('true');
const FALSE = ascii('false');
const QUOTE = 34;
const POINT = 46;
const ZERO_DIGIT = 48;
const CLOSE = 125;
/** Digits a decimal may have to be summed in a double exactly (10^15 < 2^53), as parseDecimal's fast path. */
const MAX_DECIMAL_DIGITS = 15;

/**
 * Reads aggTrade lines of Binance's exact shape (as `scanCanonicalAggTrade` reads them) straight from the bytes of
 * a file, into numbers: no string per line or field, no decimal objects. Files of millions of lines spend most
 * of their time here, so a line becomes the trade's numbers in one pass over its bytes.
 *
 * It takes only what `parseAggTradeJsonLine` would read to exactly these numbers: decimals of at most 15 digits,
 * a price above zero, `l` not below `f`. Any other line (another shape, a bad field, larger numbers) is left to
 * `parseAggTradeJsonLine`, which reads it or says what is wrong, as for any line.
 *
 * The fields are those of the line last scanned; one scanner is reused for every line.
 */
export class AggTradeByteScanner {
  /** The aggregate id `a` (the trade's id and sequence). */
  seq = 0;
  priceCoef = 0;
  priceScale = 0;
  sizeCoef = 0;
  sizeScale = 0;
  /** `m`: the buyer was the maker, so the taker sold. */
  sell = false;
  /** Individual trades: l - f + 1. */
  fills = 0;
  /** `T` in ms. */
  time = 0;
  /** A dump has no receive time: the trade time stands in for it. */
  receivedAt = 0;
  /** Index of the next byte to read. */
  private at = 0;
  /** Scale of the decimal last read. */
  private scale = 0;

  /** Reads the line `bytes[from, to)`; false when it is not a line this scanner takes (nothing else to do). */
  scan(bytes: Uint8Array, from: number, to: number): boolean {
    this.at = from;
    if (!this.literal(bytes, OPEN_A)) return false;
    const a = this.integer(bytes);
    if (a < 0 || !this.literal(bytes, KEY_P)) return false;
    const price = this.decimal(bytes);
    if (price <= 0) return false;
    const priceScale = this.scale;
    if (!this.literal(bytes, KEY_Q)) return false;
    const size = this.decimal(bytes);
    if (size < 0 || !this.literal(bytes, KEY_F)) return false;
    const first = this.integer(bytes);
    if (first < 0 || !this.literal(bytes, KEY_L)) return false;
    const last = this.integer(bytes);
    if (last < first || !this.literal(bytes, KEY_T)) return false;
    const time = this.integer(bytes);
    if (time < 0 || !this.literal(bytes, KEY_M)) return false;
    const sell = this.literal(bytes, TRUE);
    if (!sell && !this.literal(bytes, FALSE)) return false;
    if (this.literal(bytes, KEY_BEST) && !this.literal(bytes, TRUE) && !this.literal(bytes, FALSE))
      return false;
    if (this.at !== to - 1 || bytes[this.at] !== CLOSE) return false;
    this.seq = a;
    this.priceCoef = price;
    this.priceScale = priceScale;
    this.sizeCoef = size;
    this.sizeScale = this.scale;
    this.sell = sell;
    this.fills = last - first + 1;
    this.time = toMillis(time);
    this.receivedAt = this.time;
    return true;
  }

  /** Steps over `text` when the bytes have it next. */
  private literal(bytes: Uint8Array, text: Uint8Array): boolean {
    const at = this.at;
    for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text[i]) return false;
    this.at = at + text.length;
    return true;
  }

  /** A JSON integer as `unsignedInteger` takes it (digits, no leading zero, safe in a double); else -1. */
  private integer(bytes: Uint8Array): number {
    const from = this.at;
    let value = 0;
    let i = from;
    for (let c = bytes[i]!; c >= ZERO_DIGIT && c <= ZERO_DIGIT + 9; c = bytes[++i]!)
      value = value * 10 + (c - ZERO_DIGIT);
    const digits = i - from;
    if (digits === 0 || digits > 16 || (digits > 1 && bytes[from] === ZERO_DIGIT)) return -1;
    if (!Number.isSafeInteger(value)) return -1;
    this.at = i;
    return value;
  }

  /**
   * A quoted plain decimal (digits with at most one point) of at most 15 digits: its coefficient, its scale in
   * `this.scale`, as parseDecimal reads the text; else -1.
   */
  private decimal(bytes: Uint8Array): number {
    if (bytes[this.at] !== QUOTE) return -1;
    let i = this.at + 1;
    let value = 0;
    let digits = 0;
    let point = -1;
    for (let c = bytes[i]!; ; c = bytes[++i]!) {
      if (c >= ZERO_DIGIT && c <= ZERO_DIGIT + 9) {
        value = value * 10 + (c - ZERO_DIGIT);
        digits++;
      } else if (c === POINT && point < 0) point = i;
      else break;
    }
    if (bytes[i] !== QUOTE || digits === 0 || digits > MAX_DECIMAL_DIGITS) return -1;
    this.scale = point < 0 ? 0 : i - point - 1;
    this.at = i + 1;
    return value;
  }
}

/** Reads one JSON line of an aggregate trade. */
export function parseAggTradeJsonLine(line: string, symbol: string): Trade {
  const canonical = scanCanonicalAggTrade(line);
  if (canonical !== undefined) return parseAggTrade(canonical, symbol, toMillis(canonical.T));
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new Error('not valid JSON');
  }
  if (typeof raw === 'object' && raw !== null && 'data' in raw) raw = (raw as { data: unknown }).data;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not a JSON object');
  const o = raw as Record<string, unknown>;
  if (typeof o.p !== 'string') throw new Error('aggTrade price p must be a decimal string');
  if (typeof o.q !== 'string') throw new Error('aggTrade quantity q must be a decimal string');
  if (typeof o.T !== 'number') throw new Error('aggTrade time T must be a number');
  return parseAggTrade(raw as BinanceAggTrade, symbol, toMillis(o.T));
}

/** Reads one row of a trades CSV dump; null for a header line. */
export function parseTradeCsvRow(line: string, symbol: string): Trade | null {
  if (isCsvHeader(line)) return null;
  const c = splitCsv(line);
  if (c.length !== 6 && c.length !== 7) throw new Error(`expected 6 or 7 trades columns, got ${c.length}`);
  const time = csvInteger(c[4], 'time');
  const raw: BinanceRestTrade = {
    id: csvInteger(c[0], 'id'),
    price: csvDecimal(c[1], 'price'),
    qty: csvDecimal(c[2], 'qty'),
    quoteQty: csvDecimal(c[3], 'quoteQty'),
    time,
    isBuyerMaker: csvBoolean(c[5], 'isBuyerMaker'),
  };
  return parseRestTrade(raw, symbol, toMillis(time));
}

/** Reads one row of an aggTrades CSV dump; null for a header line. */
export function parseAggTradeCsvRow(line: string, symbol: string): Trade | null {
  if (isCsvHeader(line)) return null;
  const c = splitCsv(line);
  if (c.length !== 7 && c.length !== 8) throw new Error(`expected 7 or 8 aggTrades columns, got ${c.length}`);
  const time = csvInteger(c[5], 'time');
  const raw: BinanceAggTrade = {
    a: csvInteger(c[0], 'aggId'),
    p: csvDecimal(c[1], 'price'),
    q: csvDecimal(c[2], 'qty'),
    f: csvInteger(c[3], 'firstId'),
    l: csvInteger(c[4], 'lastId'),
    T: time,
    m: csvBoolean(c[6], 'isBuyerMaker'),
  };
  if (raw.l < raw.f) throw new Error('lastId is before firstId');
  return parseAggTrade(raw, symbol, toMillis(time));
}

/**
 * Guesses the dump format from one non-header data line (or a header line), undefined when none fits.
 * Trades rows have booleans from column 6 on; aggTrades rows have integer ids in columns 4 and 5.
 */
export function detectDumpFormat(line: string): BinanceDumpFormat | undefined {
  const text = line.trim();
  if (text.startsWith('{'))
    return /"a"\s*:/.test(text) && /"p"\s*:/.test(text) ? 'binance-aggtrades-json' : undefined;
  const c = splitCsv(text).map((s) => s.trim().toLowerCase());
  if (isCsvHeader(text)) {
    if (c.includes('first_trade_id') || c.includes('firstid') || c.includes('first_id'))
      return 'binance-aggtrades-csv';
    if (c.includes('quote_qty') || c.includes('quoteqty')) return 'binance-trades-csv';
    return undefined;
  }
  const isBool = (s: string | undefined): boolean => s === 'true' || s === 'false';
  if ((c.length === 6 || c.length === 7) && isBool(c[5])) return 'binance-trades-csv';
  if ((c.length === 7 || c.length === 8) && isBool(c[6]) && INTEGER.test(c[3] ?? ''))
    return 'binance-aggtrades-csv';
  return undefined;
}
