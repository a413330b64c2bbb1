/**
 * Fuzz cases for the gateway's WebSocket protocol: client frames built from valid messages of every type of
 * docs/PROTOCOL.md, then mutated (fields dropped, wrong JSON types, huge and odd numbers, nested junk, unknown
 * and duplicate keys, truncation, flipped bytes, invalid UTF-8, binary, fragmented and oversized frames).
 */
import { INTERVALS } from '../../src/domain/interval.ts';
import { VENUES } from '../../src/domain/instrument.ts';
import type { Random } from './random.ts';

/** One frame a fuzzed client sends. */
export interface FuzzFrame {
  readonly data: Buffer;
  /** A binary frame (the protocol takes text only). */
  readonly binary: boolean;
  /** Sent as this many WebSocket fragments (1: one frame). */
  readonly fragments: number;
}

export interface FrameRules {
  readonly symbols: readonly string[];
  readonly maxPayloadBytes: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Sets an own key, also `__proto__` (which a plain assignment would take for the prototype). */
function setKey(o: JsonObject, key: string, value: Json): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

const CHANNEL_NAMES = ['candles', 'trades', 'ticker', 'book', 'alerts'];
const SEVERITIES = ['info', 'warning', 'critical'];

/** Values close to valid ones: wrong case, extra spaces, unknown names. */
function nearSymbol(r: Random, symbols: readonly string[]): string {
  const s = r.pick(symbols);
  return r.pick([
    s,
    s,
    s,
    s.toLowerCase(),
    s.replace('/', ''),
    s + ' ',
    'ETH/BTC',
    '',
    'BTC/USDT\u0000',
    '🚀/USDT',
  ]);
}

function nearInterval(r: Random): string {
  return r.chance(0.8) ? r.pick(INTERVALS) : r.pick(['1d', '10m', '1M', '1w', '', ' 1m', '60', '1m\n']);
}

function nearVenue(r: Random): string {
  return r.chance(0.8) ? r.pick(VENUES) : r.pick(['kraken', 'BINANCE', '', 'okx ', 'dydx\u0000']);
}

function nearCount(r: Random, max: number): number {
  return r.pick([0, 1, 5, 10, max, max + 1, -1, 0.5, r.int(0, max), r.int(0, max)]);
}

/** A valid (or nearly valid) message of one of the client types of docs/PROTOCOL.md. */
export function baseMessage(r: Random, rules: FrameRules): JsonObject {
  const type = r.pick(['subscribe', 'unsubscribe']);
  switch (r.int(0, 5)) {
    case 0:
      return { type: 'ping' };
    case 1:
    case 2: {
      const m: JsonObject = { type, symbol: nearSymbol(r, rules.symbols), interval: nearInterval(r) };
      if (r.chance(0.2)) m['channel'] = 'candles';
      if (type === 'subscribe' && r.chance(0.6)) m['initialBars'] = nearCount(r, 5000);
      return m;
    }
    case 3:
    case 4: {
      const channel = r.pick(['trades', 'ticker', 'book']);
      const m: JsonObject = { type, channel, symbol: nearSymbol(r, rules.symbols) };
      if (r.chance(0.85)) m['venue'] = nearVenue(r);
      if (channel === 'book' && r.chance(0.7)) m['depth'] = nearCount(r, 50);
      return m;
    }
    default: {
      const m: JsonObject = { type, channel: 'alerts' };
      if (r.chance(0.5))
        m['minSeverity'] = r.chance(0.85) ? r.pick(SEVERITIES) : r.pick(['fatal', 'INFO', '']);
      if (r.chance(0.3)) m['venue'] = nearVenue(r);
      if (r.chance(0.3)) m['symbol'] = nearSymbol(r, rules.symbols);
      return m;
    }
  }
}

/** Junk of any JSON type, nested up to `depth`. */
export function junkValue(r: Random, depth = 3): Json {
  switch (r.int(0, depth > 0 ? 11 : 8)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -0, 1, -1, 0.5, 1e308, -1e308, 5e-324, 2 ** 53 + 2, -(2 ** 63), 1e21, 123456789]);
    case 3:
      return r.string(r.int(0, 12), 'abcXYZ019/_ -.');
    case 4:
      return r.pick([
        'NaN',
        'Infinity',
        '-Infinity',
        '1e400',
        '10',
        ' 10',
        '0x10',
        'null',
        'true',
        '[]',
        '{}',
      ]);
    case 5:
      return r.pick(['\u0000', '\ud800', '\udfff', '🚀', '\u202e', '\\', '"', '\n\r\t', 'é'.repeat(40)]);
    case 6:
      return r.pick([...CHANNEL_NAMES, ...INTERVALS, ...VENUES, 'ping', 'subscribe', 'unsubscribe']);
    case 7:
      return 'x'.repeat(r.pick([64, 65, 1000, 20_000]));
    case 8:
      return r.int(-1e6, 1e6);
    case 9:
      return Array.from({ length: r.int(0, 4) }, () => junkValue(r, depth - 1));
    case 10: {
      const o: JsonObject = {};
      for (let i = r.int(0, 4); i > 0; i--)
        setKey(o, r.pick(['type', 'symbol', 'a', '__proto__', '']), junkValue(r, depth - 1));
      return o;
    }
    default: {
      // Deep nesting: [[[[...]]]] or {"a":{"a":...}}.
      let v: Json = junkValue(r, 0);
      for (let i = r.int(10, 2000); i > 0; i--) v = r.chance(0.5) ? [v] : { a: v };
      return v;
    }
  }
}

const FIELDS = ['type', 'symbol', 'interval', 'initialBars', 'channel', 'venue', 'depth', 'minSeverity'];

/** Structural mutations of a message: drop, retype, add unknown fields. */
function mutateObject(r: Random, m: JsonObject): JsonObject {
  const out: JsonObject = { ...m };
  const keys = Object.keys(out);
  switch (r.int(0, 6)) {
    case 0:
      if (keys.length > 0) delete out[r.pick(keys)];
      break;
    case 1:
    case 2:
      setKey(out, keys.length > 0 && r.chance(0.7) ? r.pick(keys) : r.pick(FIELDS), junkValue(r));
      break;
    case 3:
      setKey(
        out,
        r.pick(['id', 'extra', '__proto__', 'constructor', 'toString', 'x'.repeat(100), '']),
        junkValue(r),
      );
      break;
    case 4: {
      // A number as a string and back.
      const k = r.pick(keys.length > 0 ? keys : FIELDS);
      const v = out[k];
      out[k] =
        typeof v === 'number' ? String(v) : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : (v ?? 1);
      break;
    }
    case 5:
      out['type'] = r.pick(['SUBSCRIBE', 'sub', 'pong', 'initial', 'error', '', 'ping ', 'unsubscribe']);
      break;
    default:
      if (keys.length > 0)
        out[r.pick(keys)] = r.pick<Json>([[], {}, [out['symbol'] ?? 'BTC/USDT'], { value: 1 }]);
  }
  return out;
}

/** Number spellings JSON allows that JSON.stringify never writes: they reach the gateway only as raw text. */
const RAW_NUMBERS = [
  '1e400',
  '-1e400',
  '1e-400',
  '1E+2',
  '10.0',
  '-0',
  '0.0e0',
  '5e3',
  '1e1',
  '99999999999999999999',
  '4.9e-324',
];

/** Text mutations of a JSON message: odd number literals, duplicate keys, padding, a BOM. */
function mutateText(r: Random, text: string): string {
  switch (r.int(0, 5)) {
    case 0: {
      // Replace the value of a numeric field, or add one, with a literal of RAW_NUMBERS.
      const field = r.pick(['initialBars', 'depth']);
      const literal = r.pick(RAW_NUMBERS);
      return text.replace(/}$/, `${text.length > 2 ? ',' : ''}"${field}":${literal}}`);
    }
    case 1: {
      // Duplicate keys: JSON.parse keeps the last.
      const key = r.pick(['type', 'symbol', 'interval', 'channel']);
      return text.replace(/}$/, `${text.length > 2 ? ',' : ''}"${key}":${JSON.stringify(junkValue(r, 0))}}`);
    }
    case 2:
      return r.pick([' ', '\n', '\t', '\r\n']).repeat(r.int(1, 5)) + text + ' '.repeat(r.int(0, 3));
    case 3:
      return '\ufeff' + text;
    case 4:
      return r.pick([`[${text}]`, `${text}${text}`, `${text},`, `"${text}"`, text.replace(/"/g, "'")]);
    default:
      return text.replace(/"type":"([a-z]+)"/, (_, t: string) => `"type":"${t}\\u0000"`);
  }
}

/** Flips one bit of one byte. */
export function flipBit(bytes: Buffer, at: number, bit: number): void {
  bytes[at] = (bytes[at] as number) ^ (1 << bit);
}

/** Byte mutations: truncation, flipped and inserted bytes, invalid UTF-8 sequences. */
function mutateBytes(r: Random, bytes: Buffer): Buffer {
  switch (r.int(0, 4)) {
    case 0:
      return bytes.subarray(0, r.int(0, Math.max(0, bytes.length - 1)));
    case 1: {
      const out = Buffer.from(bytes);
      for (let i = r.int(1, 3); i > 0 && out.length > 0; i--)
        flipBit(out, r.int(0, out.length - 1), r.int(0, 7));
      return out;
    }
    case 2: {
      const at = r.int(0, bytes.length);
      const insert = r.pick([
        Buffer.from([0xff]),
        Buffer.from([0xc0, 0x80]),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from([0xf4, 0x90, 0x80, 0x80]),
        Buffer.from([0xe2, 0x82]),
        Buffer.from([0x00]),
        Buffer.from('🚀'),
      ]);
      return Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at)]);
    }
    case 3: {
      const out = Buffer.from(bytes);
      if (out.length > 0) out[r.int(0, out.length - 1)] = r.int(0, 255);
      return out;
    }
    default:
      return Buffer.from(Array.from({ length: r.int(0, 64) }, () => r.int(0, 255)));
  }
}

/** An oversized frame: a valid-looking message padded past the limit. */
function oversized(r: Random, rules: FrameRules): Buffer {
  const pad = rules.maxPayloadBytes + r.int(1, 4096);
  return Buffer.from(JSON.stringify({ type: 'ping', pad: 'x'.repeat(pad) }));
}

/** The next fuzz frame. */
export function nextFrame(r: Random, rules: FrameRules): FuzzFrame {
  if (r.chance(0.002)) return { data: oversized(r, rules), binary: r.chance(0.2), fragments: r.int(1, 3) };
  let message = baseMessage(r, rules);
  const objectMutations = r.chance(0.4) ? 0 : r.int(1, 3);
  for (let i = 0; i < objectMutations; i++) message = mutateObject(r, message);
  let text = r.chance(0.03) ? JSON.stringify(junkValue(r)) : JSON.stringify(message);
  if (r.chance(0.25)) text = mutateText(r, text);
  let data: Buffer = Buffer.from(text, 'utf8');
  if (r.chance(0.12)) data = mutateBytes(r, data);
  if (data.length > rules.maxPayloadBytes) data = data.subarray(0, rules.maxPayloadBytes);
  return {
    data,
    binary: r.chance(0.03),
    fragments: r.chance(0.04) && data.length > 1 ? r.int(2, 4) : 1,
  };
}

/** A frame as it can be printed: its text when it is UTF-8, its hex otherwise, cut to `max` characters. */
export function describeFrame(frame: FuzzFrame, max = 600): string {
  const text = frame.data.toString('utf8');
  const valid = Buffer.from(text, 'utf8').equals(frame.data);
  const body = valid ? JSON.stringify(text) : `hex ${frame.data.toString('hex')}`;
  const kind = `${frame.binary ? 'binary' : 'text'} frame, ${frame.data.length} bytes${frame.fragments > 1 ? `, ${frame.fragments} fragments` : ''}`;
  return `${kind}: ${body.length > max ? body.slice(0, max) + '…' : body}`;
}
