/**
 * Fuzzes the venue parsers (src/venues/<venue>/parse.ts, as each feed hands a frame to its handlers: the
 * `contractSubject.parse` of the venue's contract support) with the captured payloads of test/fixtures/, mutated:
 * fields deleted, types swapped, numbers as strings and back, odd number spellings, arrays cut or doubled, text
 * truncated, bytes flipped. A parser must return domain data that is well formed (every decimal a real decimal,
 * every time and count an integer, prices positive, sizes not negative, book levels decimal text) or reject the frame as `unknown`; it
 * must never throw.
 */
import { compare, parseDecimal, ZERO, type Decimal } from '../../src/domain/decimal.ts';
import { isInterval } from '../../src/domain/interval.ts';
import { contractSubject as binance } from '../../src/venues/binance/contract.test-support.ts';
import { contractSubject as bitget } from '../../src/venues/bitget/contract.test-support.ts';
import { contractSubject as dydx } from '../../src/venues/dydx/contract.test-support.ts';
import { contractSubject as okx } from '../../src/venues/okx/contract.test-support.ts';
import type { ParsedFrame, VenueContractSubject } from '../../src/venues/venue.contract.ts';
import type { Finding } from './gateway-fuzz.ts';
import { flipBit } from './client-frames.ts';
import { Random } from './random.ts';

export const PARSER_VENUES: Readonly<Record<string, VenueContractSubject>> = { binance, bitget, okx, dydx };

const RECEIVED = 1_700_000_000_000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Number spellings a venue could send by mistake, or a byte flip could make. */
const ODD_NUMBERS = [
  '-1',
  '0',
  '-0',
  '1e400',
  '-1e400',
  '1e-400',
  'NaN',
  'Infinity',
  '',
  ' 1',
  '0x10',
  '1_000',
  '9'.repeat(400),
  '1e999999',
  '.',
  '-',
  '1e',
  '+5',
  '1.2.3',
];

/** Every path to a value inside `value` (keys and indexes), the root excluded. */
function paths(
  value: Json,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  if (out.length > 2000) return out;
  const children: [string | number, Json][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : value !== null && typeof value === 'object'
      ? Object.entries(value)
      : [];
  for (const [key, child] of children) {
    out.push([...prefix, key]);
    paths(child, [...prefix, key], out);
  }
  return out;
}

function parentOf(root: Json, path: (string | number)[]): { parent: Json; key: string | number } | undefined {
  let node: Json = root;
  for (const step of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, Json>)[step] as Json;
  }
  if (node === null || typeof node !== 'object') return undefined;
  return { parent: node, key: path[path.length - 1] as string | number };
}

/** One structural mutation of a JSON payload, in place. */
function mutateJson(r: Random, root: Json): void {
  const all = paths(root);
  if (all.length === 0) return;
  const at = parentOf(root, r.pick(all));
  if (!at) return;
  const parent = at.parent as Record<string | number, Json>;
  const value = parent[at.key] as Json;
  switch (r.int(0, 7)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(at.key as number, 1);
      else delete parent[at.key];
      return;
    case 1:
      parent[at.key] = r.pick<Json>([null, true, false, 0, -1, 1.5, '', 'x', [], {}, [[]], { a: 1 }]);
      return;
    case 2:
      // Numbers as strings and back.
      parent[at.key] =
        typeof value === 'number'
          ? String(value)
          : typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
            ? Number(value)
            : value;
      return;
    case 3:
      parent[at.key] = r.pick(ODD_NUMBERS);
      return;
    case 4:
      if (typeof value === 'string' && value.length > 0)
        parent[at.key] = r.chance(0.5) ? value.slice(0, r.int(0, value.length - 1)) : `-${value}`;
      else if (typeof value === 'number')
        parent[at.key] = r.pick([-value, value * 1e300, value + 0.5, Number.MAX_SAFE_INTEGER + 2, -1]);
      return;
    case 5:
      if (Array.isArray(value))
        parent[at.key] = r.chance(0.5) ? value.slice(0, r.int(0, value.length)) : [...value, ...value];
      return;
    case 6:
      if (Array.isArray(value) && value.length > 0)
        parent[at.key] = value.map((v) => (Array.isArray(v) ? v.slice(0, r.int(0, v.length)) : v));
      return;
    default:
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const keys = Object.keys(value);
        if (keys.length >= 2) {
          // Swap two fields' values.
          const [a, b] = [r.pick(keys), r.pick(keys)] as [string, string];
          const o = value as Record<string, Json>;
          [o[a], o[b]] = [o[b] as Json, o[a] as Json];
        }
      }
  }
}

/** Byte mutations of the text: truncation and flipped bits (the socket hands text, so the bytes are decoded). */
function mutateText(r: Random, text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (r.chance(0.5)) return bytes.subarray(0, r.int(0, bytes.length)).toString('utf8');
  for (let i = r.int(1, 4); i > 0 && bytes.length > 0; i--)
    flipBit(bytes, r.int(0, bytes.length - 1), r.int(0, 7));
  return bytes.toString('utf8');
}

/** A mutated copy of a captured frame. */
export function mutateFrame(r: Random, text: string): string {
  if (r.chance(0.2)) return mutateText(r, text);
  let root: Json;
  try {
    root = JSON.parse(text) as Json;
  } catch {
    return mutateText(r, text);
  }
  for (let i = r.int(1, 3); i > 0; i--) mutateJson(r, root);
  const out = JSON.stringify(root) ?? '';
  return r.chance(0.1) ? mutateText(r, out) : out;
}

function isDecimal(d: unknown): d is Decimal {
  const x = d as Decimal;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.coef === 'bigint' &&
    Number.isSafeInteger(x.scale) &&
    x.scale >= 0
  );
}

/** Why the parsed frame is not well-formed domain data, or null. */
export function parsedProblem(frame: ParsedFrame, venue: string): string | null {
  const problems: string[] = [];
  const check = (ok: boolean, what: string): void => void (ok || problems.push(what));
  const dec = (d: unknown, what: string, rule: 'positive' | 'notNegative' | 'any' = 'any'): void => {
    if (!isDecimal(d)) return check(false, `${what} is not a decimal (${String(d)})`);
    if (rule === 'positive') check(compare(d, ZERO) > 0, `${what} must be > 0`);
    if (rule === 'notNegative') check(compare(d, ZERO) >= 0, `${what} must be ≥ 0`);
  };
  const optDec = (d: unknown, what: string, rule: 'positive' | 'notNegative' | 'any' = 'any'): void => {
    if (d !== undefined) dec(d, what, rule);
  };
  const time = (t: unknown, what: string): void =>
    check(Number.isSafeInteger(t) && (t as number) >= 0, `${what} is not a time (${String(t)})`);
  const optInt = (n: unknown, what: string): void =>
    check(n === undefined || Number.isSafeInteger(n), `${what} is not an integer (${String(n)})`);
  const text = (s: unknown, what: string): void =>
    check(typeof s === 'string' && s !== '', `${what} is not a non-empty string`);
  const of = (x: { venue: string; symbol: string }, what: string): void => {
    check(x.venue === venue, `${what} venue ${x.venue}`);
    text(x.symbol, `${what} symbol`);
  };
  for (const t of frame.trades) {
    of(t, 'trade');
    text(t.id, 'trade id');
    dec(t.price, 'trade price', 'positive');
    dec(t.size, 'trade size', 'notNegative');
    check(t.side === 'buy' || t.side === 'sell', `trade side ${String(t.side)}`);
    check(Number.isSafeInteger(t.fills) && t.fills >= 1, `trade fills ${t.fills}`);
    optInt(t.seq, 'trade seq');
    time(t.time, 'trade time');
    time(t.receivedAt, 'trade receivedAt');
  }
  for (const c of frame.candles) {
    of(c, 'candle');
    check(isInterval(c.interval), `candle interval ${String(c.interval)}`);
    time(c.bar.time, 'candle time');
    for (const f of ['open', 'high', 'low', 'close'] as const) dec(c.bar[f], `candle ${f}`, 'positive');
    for (const f of ['volume', 'quoteVolume', 'takerBuyVolume', 'takerBuyQuoteVolume'] as const)
      dec(c.bar[f], `candle ${f}`, 'notNegative');
    check(Number.isSafeInteger(c.bar.trades) && c.bar.trades >= 0, `candle trades ${c.bar.trades}`);
    check(typeof c.closed === 'boolean', 'candle closed');
  }
  for (const t of frame.tickers) {
    of(t, 'ticker');
    dec(t.last, 'ticker last', 'positive');
    for (const f of ['bid', 'ask', 'open24h', 'high24h', 'low24h'] as const)
      optDec(t[f], `ticker ${f}`, 'notNegative');
    for (const f of ['bidSize', 'askSize', 'volume24h', 'quoteVolume24h'] as const)
      optDec(t[f], `ticker ${f}`, 'notNegative');
    time(t.time, 'ticker time');
  }
  for (const b of frame.books) {
    of(b, 'book');
    check(b.kind === 'snapshot' || b.kind === 'delta', `book kind ${String(b.kind)}`);
    // The sign of a level is the order book's to judge (a negative one is an unusable level: the book is rebuilt,
    // BOOK_OUT_OF_SYNC); the parser must hand over decimal text.
    for (const level of [...b.bids, ...b.asks]) {
      try {
        parseDecimal(level.price);
        parseDecimal(level.size);
      } catch {
        check(false, `book level ${JSON.stringify(level)} is not decimal text`);
      }
    }
    optInt(b.seq, 'book seq');
    optInt(b.prevSeq, 'book prevSeq');
    optInt(b.checksum, 'book checksum');
    time(b.time, 'book time');
  }
  return problems.length === 0 ? null : problems.join('; ');
}

export interface ParserFuzzRun {
  readonly cases: number;
  readonly seconds: number;
  readonly findings: readonly Finding[];
  /** Per venue: cases, frames rejected as unknown, frames that gave domain data. */
  readonly perVenue: Readonly<Record<string, { cases: number; unknown: number; data: number }>>;
}

/** Runs `cases` mutated frames through each venue's parser (the same count per venue). */
export function runParserFuzz(options: { cases: number; seed: number; maxFindings?: number }): ParserFuzzRun {
  const started = performance.now();
  const root = new Random(options.seed);
  const findings: Finding[] = [];
  const perVenue: Record<string, { cases: number; unknown: number; data: number }> = {};
  const venues = Object.entries(PARSER_VENUES);
  const perVenueCases = Math.ceil(options.cases / venues.length);
  let caseNo = 0;
  for (const [venue, subject] of venues) {
    const r = root.fork();
    const captures = subject.captures();
    const stats = (perVenue[venue] = { cases: 0, unknown: 0, data: 0 });
    for (let i = 0; i < perVenueCases; i++, caseNo++) {
      const frame = mutateFrame(r, r.pick(captures).text);
      stats.cases++;
      let parsed: ParsedFrame;
      try {
        parsed = subject.parse(frame, RECEIVED);
      } catch (err) {
        findings.push({
          caseNo,
          problem: `${venue} parser threw ${(err as Error)?.stack ?? String(err)}`,
          frames: [frame.slice(0, 1500)],
        });
        continue;
      }
      if (parsed.unknown) stats.unknown++;
      if (parsed.trades.length + parsed.candles.length + parsed.tickers.length + parsed.books.length > 0)
        stats.data++;
      const problem = parsedProblem(parsed, venue);
      if (problem) findings.push({ caseNo, problem: `${venue}: ${problem}`, frames: [frame.slice(0, 1500)] });
      if (findings.length >= (options.maxFindings ?? 1000)) break;
    }
  }
  return { cases: caseNo, seconds: (performance.now() - started) / 1000, findings, perVenue };
}
