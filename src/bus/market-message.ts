import type { BookLevel } from '../domain/book.ts';
import { tryParseDecimal, type Decimal } from '../domain/decimal.ts';
import { isVenueId, type VenueId } from '../domain/instrument.ts';
import type { Ticker } from '../domain/ticker.ts';
import type { Side, Trade } from '../domain/trade.ts';

/**
 * Bus messages of the market channels (trades, tickers, order-book top-N snapshots) from the ingest side to the
 * gateways. JSON with short keys, decimals as exact strings, one instrument of one venue per message. Each
 * decoder accepts exactly what its encoder writes and throws an Error on anything else, so a gateway can count
 * and skip a bad message.
 */

/** Channel of trade batches (`encodeTrades`). */
export const TRADES_CHANNEL = 'tickwire:trades';
/** Channel of tickers (`encodeTicker`). */
export const TICKER_CHANNEL = 'tickwire:tickers';
/** Channel of order-book top-N snapshots (`encodeBookSnapshot`). */
export const BOOK_CHANNEL = 'tickwire:books';

/**
 * Levels per side the ingest side publishes in a book snapshot, and the deepest book a gateway can serve.
 * Publishers may send fewer (a thin book); never more.
 */
export const BOOK_SNAPSHOT_LEVELS = 50;
/** Minimum spacing of two published snapshots of one book, ms: books are conflated to this before the bus. */
export const BOOK_SNAPSHOT_INTERVAL_MS = 100;

/** The best levels of one book at one moment, as the ingest side publishes it. */
export interface BookSnapshot {
  readonly venue: VenueId;
  readonly symbol: string;
  /** Best first (highest bid, lowest ask); at most BOOK_SNAPSHOT_LEVELS each; the venue's original strings. */
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
  /** The book's sequence position at the venue (BookUpdate.seq of the last applied message), if any. */
  readonly seq?: number | undefined;
  /** Exchange time of the last applied message, ms UTC. */
  readonly time: number;
  /** Local receive time of the last applied message, ms UTC. */
  readonly receivedAt: number;
}

/** A batch of trades of one instrument on one venue, in the order they happened. */
export interface TradeBatch {
  readonly venue: VenueId;
  readonly symbol: string;
  readonly trades: readonly Trade[];
}

function malformed(kind: string, why: string): Error {
  return new Error(`malformed ${kind} message: ${why}`);
}

function objectOf(kind: string, message: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    throw malformed(kind, 'not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed(kind, 'not an object');
  return raw as Record<string, unknown>;
}

function venueSymbol(kind: string, o: Record<string, unknown>): { venue: VenueId; symbol: string } {
  if (!isVenueId(o.v)) throw malformed(kind, 'unknown venue');
  if (typeof o.s !== 'string' || o.s === '') throw malformed(kind, 'no symbol');
  return { venue: o.v, symbol: o.s };
}

/** The fixed start of every market message: `{"v":"<venue>","s":"<symbol>"` (a symbol needs no escape). */
const INSTRUMENT_PREFIX = /^\{"v":"([a-z]+)","s":"([^"\\]+)"/;

/**
 * `venue:symbol` of a market message, read from its first bytes without decoding it; undefined when the message
 * does not start as the encoders write it (decoding it then tells what is wrong). Lets a reader skip the decoding of
 * messages nobody is subscribed to.
 */
export function marketMessageInstrument(message: string): string | undefined {
  const m = INSTRUMENT_PREFIX.exec(message);
  return m === null ? undefined : `${m[1] as string}:${m[2] as string}`;
}

function time(kind: string, value: unknown, field: string): number {
  if (!Number.isSafeInteger(value)) throw malformed(kind, `${field} is not an integer`);
  return value as number;
}

function decimal(kind: string, value: unknown, field: string): Decimal {
  const d = typeof value === 'string' ? tryParseDecimal(value) : undefined;
  if (d === undefined) throw malformed(kind, `${field} is not a decimal string`);
  return d;
}

/**
 * The decimal's plain text, as `toPlainString` prints it ("0.00002894", "145.23", "0"), built from one string of the
 * coefficient's digits: every trade and ticker is encoded once per message, and `toPlainString` drops trailing
 * zeros by BigInt division, a BigInt allocated per digit dropped.
 */
export function plainText(d: Decimal): string {
  const negative = d.coef < 0n;
  let digits = (negative ? -d.coef : d.coef).toString();
  let scale = d.scale;
  if (scale > 0) {
    let end = digits.length;
    while (scale > 0 && end > 1 && digits.charCodeAt(end - 1) === 48 /* 0 */) {
      end--;
      scale--;
    }
    if (digits === '0') scale = 0;
    if (end < digits.length) digits = digits.slice(0, end);
  }
  if (scale <= 0) return negative ? '-' + digits : digits;
  const padded = digits.length > scale ? digits : digits.padStart(scale + 1, '0');
  const cut = padded.length - scale;
  return (negative ? '-' : '') + padded.slice(0, cut) + '.' + padded.slice(cut);
}

/**
 * Bus encoding of trades of one instrument: `{"v":venue,"s":symbol,"t":[[id,price,size,side,time,receivedAt,
 * fills,seq?],...]}`. All trades must share `venue` and `symbol` (throws otherwise: a publisher bug).
 */
export function encodeTrades(venue: VenueId, symbol: string, trades: readonly Trade[]): string {
  let out = '{"v":"' + venue + '","s":' + JSON.stringify(symbol) + ',"t":[';
  for (let i = 0; i < trades.length; i++) {
    const t = trades[i] as Trade;
    if (t.venue !== venue || t.symbol !== symbol)
      throw new Error('encodeTrades: trades of several instruments');
    if (i > 0) out += ',';
    out +=
      '[' +
      JSON.stringify(t.id) +
      ',"' +
      plainText(t.price) +
      '","' +
      plainText(t.size) +
      '","' +
      t.side +
      '",' +
      t.time +
      ',' +
      t.receivedAt +
      ',' +
      t.fills +
      (t.seq === undefined ? '' : ',' + t.seq) +
      ']';
  }
  return out + ']}';
}

/** Decodes `encodeTrades` output; throws on anything else. */
export function decodeTrades(message: string): TradeBatch {
  const o = objectOf('trades', message);
  const { venue, symbol } = venueSymbol('trades', o);
  if (!Array.isArray(o.t)) throw malformed('trades', 'no trade list');
  const trades: Trade[] = [];
  for (const row of o.t as unknown[]) {
    if (!Array.isArray(row) || row.length < 7 || row.length > 8) throw malformed('trades', 'bad trade row');
    const [id, price, size, side, t, r, fills, seq] = row as unknown[];
    if (typeof id !== 'string') throw malformed('trades', 'id is not a string');
    if (side !== 'buy' && side !== 'sell') throw malformed('trades', 'bad side');
    if (!Number.isSafeInteger(fills) || (fills as number) < 1) throw malformed('trades', 'bad fills');
    if (seq !== undefined && !Number.isSafeInteger(seq)) throw malformed('trades', 'bad seq');
    trades.push({
      venue,
      symbol,
      id,
      ...(seq === undefined ? {} : { seq: seq as number }),
      price: decimal('trades', price, 'price'),
      size: decimal('trades', size, 'size'),
      side: side as Side,
      fills: fills as number,
      time: time('trades', t, 'time'),
      receivedAt: time('trades', r, 'receivedAt'),
    });
  }
  return { venue, symbol, trades };
}

/** Optional ticker fields and their bus keys. */
const TICKER_FIELDS = [
  ['bid', 'b'],
  ['bidSize', 'bs'],
  ['ask', 'a'],
  ['askSize', 'as'],
  ['open24h', 'o'],
  ['high24h', 'h'],
  ['low24h', 'lo'],
  ['volume24h', 'vb'],
  ['quoteVolume24h', 'vq'],
] as const;

/**
 * Bus encoding of a Ticker: `{"v","s","l":last,"b","bs","a","as","o","h","lo","vb","vq","t":time,"r":receivedAt}`,
 * decimals as exact strings, absent fields left out.
 */
export function encodeTicker(ticker: Ticker): string {
  let out =
    '{"v":"' +
    ticker.venue +
    '","s":' +
    JSON.stringify(ticker.symbol) +
    ',"l":"' +
    plainText(ticker.last) +
    '"';
  for (const [field, key] of TICKER_FIELDS) {
    const value = ticker[field];
    if (value !== undefined) out += ',"' + key + '":"' + plainText(value) + '"';
  }
  return out + ',"t":' + ticker.time + ',"r":' + ticker.receivedAt + '}';
}

/** Decodes `encodeTicker` output; throws on anything else. */
export function decodeTicker(message: string): Ticker {
  const o = objectOf('ticker', message);
  const { venue, symbol } = venueSymbol('ticker', o);
  const optional: Partial<Record<(typeof TICKER_FIELDS)[number][0], Decimal>> = {};
  for (const [field, key] of TICKER_FIELDS) {
    if (o[key] !== undefined) optional[field] = decimal('ticker', o[key], field);
  }
  return {
    venue,
    symbol,
    last: decimal('ticker', o.l, 'last'),
    ...optional,
    time: time('ticker', o.t, 'time'),
    receivedAt: time('ticker', o.r, 'receivedAt'),
  };
}

const LEVEL_TEXT = /^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Whether `text` is an unsigned decimal as LEVEL_TEXT reads it. The usual plain form ("123.45") is checked by a
 * character loop, several times faster than the regular expression; other forms go through the expression.
 */
function isLevelText(text: string): boolean {
  const length = text.length;
  let point = -1;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) continue;
    if (c === 46 /* . */ && point < 0 && i > 0 && i < length - 1) point = i;
    else return LEVEL_TEXT.test(text);
  }
  return length > 0;
}

/**
 * The one buffer book snapshots are written into (grown as needed). A snapshot is copied into it character by
 * character and read out as one flat string: the copy checks each level text as it goes (the check and the copy
 * touch the same characters once), and nothing is allocated per level. Joining parts (a string per level, an
 * array of 400 parts, then the joined copy) cost twice the time, most of it in reading the levels' strings twice.
 */
let out = Buffer.allocUnsafe(16_384);

function reserve(at: number, more: number): void {
  if (at + more <= out.length) return;
  const grown = Buffer.allocUnsafe(Math.max(at + more, out.length * 2));
  out.copy(grown, 0, 0, at);
  out = grown;
}

/** Copies `text` to `at` if it is level text (isLevelText); returns the new end, or -1 when it is not. */
function copyLevelText(text: string, at: number): number {
  const length = text.length;
  let point = -1;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      out[at + i] = c;
      continue;
    }
    if (c === 46 /* . */ && point < 0 && i > 0 && i < length - 1) {
      point = i;
      out[at + i] = c;
      continue;
    }
    // Exponent forms are rare: the expression decides, and what it accepts is ASCII.
    return LEVEL_TEXT.test(text) ? at + out.write(text, at, 'latin1') : -1;
  }
  return length > 0 ? at + length : -1;
}

const QUOTE = 34;
const COMMA = 44;

/** Writes one level (`["price","size"]`) at `at`; returns the new end. Throws when a text is not level text. */
function writeLevel(at: number, l: BookLevel): number {
  reserve(at, 7 + l.price.length + l.size.length);
  out[at++] = 91; /* [ */
  out[at++] = QUOTE;
  at = copyLevelText(l.price, at);
  if (at < 0) throw new Error('book snapshot level not decimal');
  out[at++] = QUOTE;
  out[at++] = COMMA;
  out[at++] = QUOTE;
  at = copyLevelText(l.size, at);
  if (at < 0) throw new Error('book snapshot level not decimal');
  out[at++] = QUOTE;
  out[at++] = 93; /* ] */
  return at;
}

/** Writes a side's levels (`["price","size"]`, comma-separated) from `at`; returns the new end. */
function writeLevels(at: number, levels: readonly BookLevel[]): number {
  for (let i = 0; i < levels.length; i++) {
    if (i > 0) {
      reserve(at, 1);
      out[at++] = COMMA;
    }
    at = writeLevel(at, levels[i] as BookLevel);
  }
  return at;
}

/** Writes `text` at `at` as UTF-8; returns the new end. */
function writeText(at: number, text: string): number {
  reserve(at, 3 * text.length);
  return at + out.write(text, at, 'utf8');
}

/**
 * Bus encoding of a book snapshot: `{"v","s","b":[[price,size],...],"a":[...],"q":seq?,"t":time,"r":receivedAt}`,
 * levels as the venue's strings. Throws when a side has more than BOOK_SNAPSHOT_LEVELS levels or a level is not
 * an unsigned decimal (a publisher bug; the strings go into JSON unescaped).
 */
export function encodeBookSnapshot(snapshot: BookSnapshot): string {
  return encodeSnapshot(snapshot, writeLevels);
}

/**
 * Writes `snapshot` into `out` and reads it out as one string, its sides written by `writeSide` (which throws on
 * a level that is not level text).
 */
function encodeSnapshot(
  snapshot: BookSnapshot,
  writeSide: (at: number, levels: readonly BookLevel[], side: 'bids' | 'asks') => number,
): string {
  if (snapshot.bids.length > BOOK_SNAPSHOT_LEVELS || snapshot.asks.length > BOOK_SNAPSHOT_LEVELS) {
    throw new Error(`book snapshot over ${BOOK_SNAPSHOT_LEVELS} levels`);
  }
  const head = '{"v":"' + snapshot.venue + '","s":' + JSON.stringify(snapshot.symbol) + ',"b":[';
  let at = writeText(0, head);
  // Everything after the head is ASCII: the message is Latin-1 (one byte a character) unless the symbol is not.
  const latin1 = at === head.length;
  at = writeSide(at, snapshot.bids, 'bids');
  at = writeText(at, '],"a":[');
  at = writeSide(at, snapshot.asks, 'asks');
  at = writeText(
    at,
    ']' +
      (snapshot.seq === undefined ? '' : ',"q":' + snapshot.seq) +
      ',"t":' +
      snapshot.time +
      ',"r":' +
      snapshot.receivedAt +
      '}',
  );
  return out.toString(latin1 ? 'latin1' : 'utf8', 0, at);
}

/** One side of a book as last encoded by a BookSnapshotEncoder: its levels and their bytes. */
interface EncodedSide {
  /** The level objects, best first. */
  levels: BookLevel[];
  /** Where each level's `["price","size"]` starts and ends in `bytes`; levels are joined by commas. */
  starts: Int32Array;
  ends: Int32Array;
  bytes: Buffer;
  length: number;
}

function encodedSide(): EncodedSide {
  return {
    levels: [],
    starts: new Int32Array(BOOK_SNAPSHOT_LEVELS),
    ends: new Int32Array(BOOK_SNAPSHOT_LEVELS),
    bytes: Buffer.allocUnsafe(2048),
    length: 0,
  };
}

/** Where the levels of the side being written start and end in `out`, relative to the side's start. */
const sideStarts = new Int32Array(BOOK_SNAPSHOT_LEVELS);
const sideEnds = new Int32Array(BOOK_SNAPSHOT_LEVELS);

/** Index of `level` (by identity) among the first `length` of `levels`, from `from` on and then before it; -1. */
function indexOfLevel(levels: readonly BookLevel[], length: number, level: BookLevel, from: number): number {
  for (let k = from; k < length; k++) if (levels[k] === level) return k;
  for (let k = 0; k < from && k < length; k++) if (levels[k] === level) return k;
  return -1;
}

/**
 * Writes a side's levels from `at` as writeLevels does, copying the bytes of every level object `prev` already
 * encoded (runs of them in one copy) instead of reading its texts again; then makes `prev` this side. Returns the
 * new end.
 */
function writeLevelsReusing(at: number, levels: readonly BookLevel[], prev: EncodedSide): number {
  const sideStart = at;
  const prevLevels = prev.levels;
  const prevLength = prev.length;
  // The run of consecutive previous levels being reused: previous indices [runFrom, runTo), written at runAt.
  let runFrom = -1;
  let runTo = -1;
  let runAt = 0;
  let next = 0;
  const flush = (): void => {
    if (runFrom < 0) return;
    const from = prev.starts[runFrom] as number;
    const to = prev.ends[runTo - 1] as number;
    reserve(runAt, to - from);
    prev.bytes.copy(out, runAt, from, to);
    runFrom = -1;
  };
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] as BookLevel;
    const k =
      next < prevLength && prevLevels[next] === l ? next : indexOfLevel(prevLevels, prevLength, l, next);
    if (k >= 0 && runFrom >= 0 && k === runTo) {
      // Continues the run: the comma before it is among the copied bytes.
      at += (prev.ends[k] as number) - (prev.ends[k - 1] as number);
      sideStarts[i] = at - ((prev.ends[k] as number) - (prev.starts[k] as number)) - sideStart;
      sideEnds[i] = at - sideStart;
      runTo = k + 1;
      next = k + 1;
      continue;
    }
    flush();
    if (i > 0) {
      reserve(at, 1);
      out[at++] = COMMA;
    }
    sideStarts[i] = at - sideStart;
    if (k >= 0) {
      runFrom = k;
      runTo = k + 1;
      runAt = at;
      at += (prev.ends[k] as number) - (prev.starts[k] as number);
      next = k + 1;
    } else {
      at = writeLevel(at, l);
    }
    sideEnds[i] = at - sideStart;
  }
  flush();
  // This side becomes the one later snapshots reuse.
  const length = at - sideStart;
  if (prev.bytes.length < length) prev.bytes = Buffer.allocUnsafe(Math.max(length, prev.bytes.length * 2));
  out.copy(prev.bytes, 0, sideStart, at);
  prev.levels.length = levels.length;
  for (let i = 0; i < levels.length; i++) prev.levels[i] = levels[i] as BookLevel;
  prev.starts.set(sideStarts.subarray(0, levels.length));
  prev.ends.set(sideEnds.subarray(0, levels.length));
  prev.length = levels.length;
  return at;
}

/**
 * Encodes book snapshots as `encodeBookSnapshot` does (the same text, the same errors), for a publisher that
 * sends the same books again and again: it keeps each book's last encoded sides and copies the bytes of every level
 * it has encoded before instead of reading the level's texts again. Between two snapshots of a book a few of its
 * 100 levels change; reading the others' 200 strings, scattered over the heap, was most of the encoding's time.
 *
 * A level is recognised by identity: level objects must not change once encoded (BookLevel is immutable; the
 * order books keep the parsed levels as they are, `src/book/order-book.ts`).
 */
export class BookSnapshotEncoder {
  private readonly books = new Map<VenueId, Map<string, { bids: EncodedSide; asks: EncodedSide }>>();

  encode(snapshot: BookSnapshot): string {
    let ofVenue = this.books.get(snapshot.venue);
    if (ofVenue === undefined) {
      ofVenue = new Map();
      this.books.set(snapshot.venue, ofVenue);
    }
    let sides = ofVenue.get(snapshot.symbol);
    if (sides === undefined) {
      sides = { bids: encodedSide(), asks: encodedSide() };
      ofVenue.set(snapshot.symbol, sides);
    }
    const last = sides;
    return encodeSnapshot(snapshot, (at, levels, side) => writeLevelsReusing(at, levels, last[side]));
  }
}

function decodeLevels(value: unknown, field: string): BookLevel[] {
  if (!Array.isArray(value) || value.length > BOOK_SNAPSHOT_LEVELS) throw malformed('book', `bad ${field}`);
  const out: BookLevel[] = [];
  for (const l of value as unknown[]) {
    if (!Array.isArray(l) || l.length !== 2) throw malformed('book', `bad ${field} level`);
    const [price, size] = l as unknown[];
    if (typeof price !== 'string' || typeof size !== 'string' || !isLevelText(price) || !isLevelText(size)) {
      throw malformed('book', `bad ${field} level`);
    }
    out.push({ price, size });
  }
  return out;
}

/** Decodes `encodeBookSnapshot` output; throws on anything else. */
export function decodeBookSnapshot(message: string): BookSnapshot {
  const o = objectOf('book', message);
  const { venue, symbol } = venueSymbol('book', o);
  if (o.q !== undefined && !Number.isSafeInteger(o.q)) throw malformed('book', 'bad seq');
  return {
    venue,
    symbol,
    bids: decodeLevels(o.b, 'bids'),
    asks: decodeLevels(o.a, 'asks'),
    ...(o.q === undefined ? {} : { seq: o.q as number }),
    time: time('book', o.t, 'time'),
    receivedAt: time('book', o.r, 'receivedAt'),
  };
}
