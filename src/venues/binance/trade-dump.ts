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

/** Reads one JSON line of an aggregate trade. */
export function parseAggTradeJsonLine(line: string, symbol: string): Trade {
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
