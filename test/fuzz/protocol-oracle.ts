/**
 * What docs/PROTOCOL.md and docs/ERRORS.md say the gateway answers to a client frame, written from the documents
 * (not from the gateway's validators, so that the two are checked against each other), and a checker of every
 * server message's shape (src/protocol/server-messages.ts). The documented error codes and close codes are read
 * from docs/ERRORS.md itself: a code the gateway sends that the document does not list is a finding.
 */
import { readFileSync } from 'node:fs';
import { INTERVALS } from '../../src/domain/interval.ts';
import { VENUES } from '../../src/domain/instrument.ts';

const ERRORS_DOC = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');

/** The section of docs/ERRORS.md under `heading`, up to the next heading. */
function section(heading: string): string {
  const start = ERRORS_DOC.indexOf(heading);
  if (start < 0) throw new Error(`docs/ERRORS.md has no "${heading}"`);
  const rest = ERRORS_DOC.slice(start + heading.length);
  const end = rest.search(/\n#{2,3} /);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The rows `| \`CODE\` | ...` of the table under `heading` in docs/ERRORS.md. */
function documentedCodes(heading: string): Set<string> {
  return new Set([...section(heading).matchAll(/^\| `?([A-Z_0-9]+)`? \|/gm)].map((m) => m[1] as string));
}

/** Every code the section under `heading` names, in its table or its text. */
function codesNamedIn(heading: string): Set<string> {
  return new Set([...section(heading).matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1] as string));
}

/** Error codes a WebSocket client may receive. */
export const WS_ERROR_CODES = documentedCodes('### Sent to WebSocket clients');
/** Error codes of GET /api/candles (plus the /api/ rate limit). */
export const HISTORY_ERROR_CODES = new Set([
  ...codesNamedIn('### History endpoint'),
  ...documentedCodes('### HTTP `/api/` routes'),
]);
/** Close codes a client may see. */
export const CLOSE_CODES = new Set([...documentedCodes('## WebSocket close codes')].map(Number));

/** Invalid UTF-8 in a text frame: the WebSocket layer closes with 1007 (RFC 6455 §8.1). */
export const INVALID_UTF8_CLOSE = 1007;

export interface ModelRules {
  readonly symbols: readonly string[];
  readonly venues: readonly string[];
  readonly maxInitialBars: number;
  readonly defaultInitialBars: number;
  readonly maxBookDepth: number;
  readonly maxSubscriptions: number;
}

/** A connection's subscriptions as the documents define them (one per room / channel key / alerts). */
export class ConnectionModel {
  /** Keys: `candles:SYMBOL:INTERVAL`, `market:CHANNEL:VENUE:SYMBOL` (book without depth), `alerts`. */
  readonly subscriptions = new Set<string>();
}

/** What one frame should get, synchronously (before the answer to a following ping). */
export type Expectation =
  | { readonly kind: 'error'; readonly codes: ReadonlySet<string>; readonly about?: Record<string, unknown> }
  | { readonly kind: 'pong' }
  | { readonly kind: 'nothing' }
  | { readonly kind: 'close'; readonly code: number }
  | { readonly kind: 'initial'; readonly key: string; readonly initialBars: number }
  | { readonly kind: 'subscribed'; readonly key: string; readonly message: Record<string, unknown> }
  | { readonly kind: 'alerts'; readonly message: Record<string, unknown> }
  | { readonly kind: 'unsubscribe'; readonly key: string };

/**
 * Expectations the documents and the gateway disagree on today, each with its own code once fixed (issue 11):
 * until then either answer is accepted and the case is counted as `known`.
 */
export interface Alternatives {
  readonly expected: Expectation;
  /** Also accepted, for a known open issue; `known` names it. */
  readonly alsoAccepted?: Expectation;
  readonly known?: string;
}

const error = (code: string, about?: Record<string, unknown>): Expectation => ({
  kind: 'error',
  codes: new Set([code]),
  ...(about ? { about } : {}),
});
const INVALID_MESSAGE = error('INVALID_MESSAGE');

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON number the text spelled out of range (1e400): JSON.parse makes it ±Infinity. */
function isNonFinite(value: unknown): boolean {
  return typeof value === 'number' && !Number.isFinite(value);
}

function optionalOf(value: unknown, type: 'string' | 'number'): boolean {
  return value === undefined || typeof value === type;
}

/** The documented answer to one text frame's JSON value on a connection in `state`. */
export function expectReply(value: unknown, state: ConnectionModel, rules: ModelRules): Alternatives {
  if (!isObject(value)) return { expected: INVALID_MESSAGE };
  const type = value['type'];
  if (type === 'ping') return { expected: { kind: 'pong' } };
  if (type !== 'subscribe' && type !== 'unsubscribe') return { expected: INVALID_MESSAGE };
  const channel = value['channel'];
  if (channel !== undefined && channel !== 'candles') {
    if (typeof channel !== 'string') return { expected: INVALID_MESSAGE };
    if (channel === 'alerts') return { expected: alertsReply(value, type, state, rules) };
    if (channel === 'trades' || channel === 'ticker' || channel === 'book') {
      return marketReply(value, type, channel, state, rules);
    }
    return { expected: error('INVALID_CHANNEL') };
  }
  return candleReply(value, type, state, rules);
}

function overLimit(state: ConnectionModel, key: string, rules: ModelRules): boolean {
  return !state.subscriptions.has(key) && state.subscriptions.size >= rules.maxSubscriptions;
}

function candleReply(
  value: Record<string, unknown>,
  type: 'subscribe' | 'unsubscribe',
  state: ConnectionModel,
  rules: ModelRules,
): Alternatives {
  const { symbol, interval, initialBars } = value;
  if (typeof symbol !== 'string' || typeof interval !== 'string') return { expected: INVALID_MESSAGE };
  const shapeOk = type === 'unsubscribe' || optionalOf(initialBars, 'number');
  if (!shapeOk) return { expected: INVALID_MESSAGE };
  const documented = (): Expectation => {
    if (!(INTERVALS as readonly string[]).includes(interval)) return error('INVALID_INTERVAL');
    if (!rules.symbols.includes(symbol)) return error('INVALID_SYMBOL');
    const key = `candles:${symbol}:${interval}`;
    if (type === 'unsubscribe') return { kind: 'unsubscribe', key };
    const bars =
      (initialBars as number | undefined) ?? Math.min(rules.defaultInitialBars, rules.maxInitialBars);
    if (!Number.isInteger(bars) || bars < 0 || bars > rules.maxInitialBars)
      return error('INVALID_INITIAL_BARS');
    if (overLimit(state, key, rules)) return error('TOO_MANY_SUBSCRIPTIONS', { symbol, interval });
    return { kind: 'initial', key, initialBars: bars };
  };
  if (type === 'subscribe' && isNonFinite(initialBars)) {
    return {
      expected: documented(),
      alsoAccepted: INVALID_MESSAGE,
      known: 'initialBars of 1e400 answered INVALID_MESSAGE (open, issue 11)',
    };
  }
  return { expected: documented() };
}

function marketReply(
  value: Record<string, unknown>,
  type: 'subscribe' | 'unsubscribe',
  channel: 'trades' | 'ticker' | 'book',
  state: ConnectionModel,
  rules: ModelRules,
): Alternatives {
  const { symbol, venue, depth } = value;
  if (typeof symbol !== 'string' || !optionalOf(venue, 'string')) return { expected: INVALID_MESSAGE };
  const depthMatters = channel === 'book' && type === 'subscribe';
  // `depth` is "ignored on other channels" (PROTOCOL.md) yet a field of the wrong JSON type is INVALID_MESSAGE
  // (ERRORS.md): both readings are accepted where the field does not matter.
  if (!optionalOf(depth, 'number') && depthMatters) return { expected: INVALID_MESSAGE };
  const documented = (): Expectation => {
    if (venue === undefined && channel !== 'ticker') return error('INVALID_VENUE');
    if (venue !== undefined && !rules.venues.includes(venue as string)) return error('INVALID_VENUE');
    if (!rules.symbols.includes(symbol)) return error('INVALID_SYMBOL');
    const key = `market:${channel}:${(venue as string | undefined) ?? ''}:${symbol}`;
    if (type === 'unsubscribe') return { kind: 'unsubscribe', key };
    let d: number | undefined;
    if (channel === 'book') {
      d = (depth as number | undefined) ?? Math.min(10, rules.maxBookDepth);
      if (!Number.isInteger(d) || d < 1 || d > rules.maxBookDepth) return error('INVALID_DEPTH');
    }
    const about = { channel, venue, symbol };
    if (overLimit(state, key, rules)) return error('TOO_MANY_SUBSCRIPTIONS', about);
    return {
      kind: 'subscribed',
      key,
      message: {
        type: 'subscribed',
        channel,
        ...(venue === undefined ? {} : { venue }),
        symbol,
        ...(d === undefined ? {} : { depth: d }),
      },
    };
  };
  if (!optionalOf(depth, 'number')) {
    return { expected: documented(), alsoAccepted: INVALID_MESSAGE };
  }
  if (isNonFinite(depth)) {
    return {
      expected: documented(),
      alsoAccepted: INVALID_MESSAGE,
      known: depthMatters ? 'depth of 1e400 answered INVALID_MESSAGE (open, issue 11)' : undefined,
    } as Alternatives;
  }
  return { expected: documented() };
}

function alertsReply(
  value: Record<string, unknown>,
  type: 'subscribe' | 'unsubscribe',
  state: ConnectionModel,
  rules: ModelRules,
): Expectation {
  const { minSeverity, venue, symbol } = value;
  if (!optionalOf(minSeverity, 'string') || !optionalOf(venue, 'string') || !optionalOf(symbol, 'string')) {
    return INVALID_MESSAGE;
  }
  if (type === 'unsubscribe') return { kind: 'unsubscribe', key: 'alerts' };
  const severity = (minSeverity as string | undefined) ?? 'info';
  if (!['info', 'warning', 'critical'].includes(severity)) return error('INVALID_SEVERITY');
  if (venue !== undefined && !rules.venues.includes(venue as string)) return error('INVALID_VENUE');
  if (symbol !== undefined && !rules.symbols.includes(symbol as string)) return error('INVALID_SYMBOL');
  if (overLimit(state, 'alerts', rules)) return error('TOO_MANY_SUBSCRIPTIONS', { channel: 'alerts' });
  return {
    kind: 'alerts',
    message: {
      type: 'subscribed',
      channel: 'alerts',
      minSeverity: severity,
      ...(venue === undefined ? {} : { venue }),
      ...(symbol === undefined ? {} : { symbol }),
    },
  };
}

/** Applies an accepted expectation to the connection's subscriptions. */
export function applyExpectation(e: Expectation, state: ConnectionModel): void {
  if (e.kind === 'initial' || e.kind === 'subscribed') state.subscriptions.add(e.key);
  else if (e.kind === 'alerts') state.subscriptions.add('alerts');
  else if (e.kind === 'unsubscribe') state.subscriptions.delete(e.key);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* The shape of every server message (src/protocol/server-messages.ts).                                       */

const isFiniteNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isTime = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function onlyKeys(m: Record<string, unknown>, allowed: readonly string[]): string | null {
  const extra = Object.keys(m).filter((k) => !allowed.includes(k));
  return extra.length === 0 ? null : `unexpected fields ${extra.join(', ')}`;
}

/** Why a wire bar is not a documented Candle object, or null. */
export function barProblem(bar: unknown): string | null {
  if (!isObject(bar)) return 'bar is not an object';
  if (typeof bar['time'] !== 'string' || new Date(bar['time']).toISOString() !== bar['time'])
    return 'bad bar time';
  for (const f of ['open', 'high', 'low', 'close', 'volume', 'quoteVolume']) {
    if (!isFiniteNumber(bar[f])) return `bar ${f} is not a finite number`;
  }
  if (!Number.isSafeInteger(bar['trades']) || (bar['trades'] as number) < 0)
    return 'bar trades is not a count';
  if (typeof bar['closed'] !== 'boolean' || typeof bar['backfilled'] !== 'boolean')
    return 'bar flags are not booleans';
  const sources = bar['sources'];
  if (!Array.isArray(sources) || !sources.every((s) => (VENUES as readonly unknown[]).includes(s)))
    return 'bad bar sources';
  return onlyKeys(bar, [
    'time',
    'open',
    'high',
    'low',
    'close',
    'volume',
    'quoteVolume',
    'trades',
    'closed',
    'sources',
    'backfilled',
  ]);
}

/** Why `m` is not a valid server message of docs/PROTOCOL.md, or null. */
export function serverMessageProblem(m: unknown, rules: ModelRules): string | null {
  if (!isObject(m)) return 'not a JSON object';
  const symbolOk = (s: unknown): boolean => typeof s === 'string' && rules.symbols.includes(s);
  const intervalOk = (i: unknown): boolean => (INTERVALS as readonly unknown[]).includes(i);
  const venueOk = (v: unknown): boolean => typeof v === 'string' && rules.venues.includes(v);
  switch (m['type']) {
    case 'pong':
      return onlyKeys(m, ['type']);
    case 'error': {
      if (typeof m['message'] !== 'string' || m['message'] === '') return 'error without message';
      if (!WS_ERROR_CODES.has(m['code'] as string)) return `undocumented error code ${String(m['code'])}`;
      return onlyKeys(m, ['type', 'message', 'code', 'symbol', 'interval', 'channel', 'venue']);
    }
    case 'initial': {
      if (!symbolOk(m['symbol']) || !intervalOk(m['interval'])) return 'initial for an unknown room';
      if (!Array.isArray(m['bars'])) return 'initial without bars';
      for (const bar of m['bars']) {
        const p = barProblem(bar);
        if (p) return `initial: ${p}`;
      }
      const times = (m['bars'] as { time: string }[]).map((b) => Date.parse(b.time));
      if (times.some((t, i) => i > 0 && t <= (times[i - 1] as number)))
        return 'initial bars not oldest first';
      if (
        m['partial'] !== undefined &&
        (m['partial'] !== true || !['HISTORY_UNAVAILABLE', 'HISTORY_LOADING'].includes(m['reason'] as string))
      )
        return 'bad partial marking';
      return onlyKeys(m, ['type', 'symbol', 'interval', 'bars', 'partial', 'reason']);
    }
    case 'update':
    case 'revision': {
      if (!symbolOk(m['symbol']) || !intervalOk(m['interval'])) return `${m['type']} for an unknown room`;
      const p = barProblem(m['bar']);
      return p ? `${m['type']}: ${p}` : onlyKeys(m, ['type', 'symbol', 'interval', 'bar']);
    }
    case 'subscribed': {
      if (m['channel'] === 'alerts') {
        if (!['info', 'warning', 'critical'].includes(m['minSeverity'] as string))
          return 'subscribed alerts: bad minSeverity';
        return onlyKeys(m, ['type', 'channel', 'minSeverity', 'venue', 'symbol']);
      }
      if (!['trades', 'ticker', 'book'].includes(m['channel'] as string)) return 'subscribed: bad channel';
      if (!symbolOk(m['symbol'])) return 'subscribed: bad symbol';
      if (m['venue'] !== undefined && !venueOk(m['venue'])) return 'subscribed: bad venue';
      return onlyKeys(m, ['type', 'channel', 'venue', 'symbol', 'depth']);
    }
    case 'alerts':
      return Array.isArray(m['alerts']) ? onlyKeys(m, ['type', 'alerts']) : 'alerts without a list';
    case 'alert':
      return typeof m['id'] === 'string' && isTime(m['time']) ? null : 'alert without id or time';
    case 'trades': {
      if (!venueOk(m['venue']) || !symbolOk(m['symbol']) || !Array.isArray(m['trades']))
        return 'bad trades message';
      for (const t of m['trades'] as unknown[]) {
        if (
          !isObject(t) ||
          typeof t['id'] !== 'string' ||
          !isFiniteNumber(t['price']) ||
          !isFiniteNumber(t['size']) ||
          !isTime(t['time'])
        )
          return 'bad trade';
      }
      return null;
    }
    case 'ticker':
      return symbolOk(m['symbol']) && isFiniteNumber(m['last']) && isTime(m['time'])
        ? null
        : 'bad ticker message';
    case 'book': {
      if (
        !venueOk(m['venue']) ||
        !symbolOk(m['symbol']) ||
        !Array.isArray(m['bids']) ||
        !Array.isArray(m['asks'])
      )
        return 'bad book message';
      const levels = [...(m['bids'] as unknown[]), ...(m['asks'] as unknown[])];
      return levels.every((l) => Array.isArray(l) && l.length === 2 && l.every(isFiniteNumber))
        ? null
        : 'bad book level';
    }
    default:
      return `unknown message type ${JSON.stringify(m['type'])}`;
  }
}
