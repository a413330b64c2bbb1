/**
 * What docs/PROTOCOL.md and docs/ERRORS.md say the gateway answers to a client frame, written from the documents
 * (not from the gateway's validators, so that the two are checked against each other), and a checker of every
 * server message's shape against the protocol's own types (src/protocol/server-messages.ts: the field lists below
 * are checked against them by the compiler) and the domain's enumerations. The documented error codes and close codes are read
 * from docs/ERRORS.md itself: a code the gateway sends that the document does not list is a finding.
 */
import { readFileSync } from 'node:fs';
import { isAlertKind, isAlertSeverity } from '../../src/domain/alert.ts';
import { VENUES } from '../../src/domain/instrument.ts';
import { INTERVALS } from '../../src/domain/interval.ts';
import { CHANNELS } from '../../src/protocol/client-messages.ts';
import type {
  AlertJson,
  AlertMessage,
  AlertsMessage,
  AlertsSubscribedMessage,
  BarJson,
  BookMessage,
  CompositeTickerMessage,
  ErrorMessage,
  InitialMessage,
  PongMessage,
  RevisionMessage,
  ServerMessage,
  SubscribedMessage,
  TickerMessage,
  TradeJson,
  TradesMessage,
  UpdateMessage,
} from '../../src/protocol/server-messages.ts';

const ERRORS_DOC = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');

/** The section of docs/ERRORS.md under `heading`, up to the next heading. */
function section(heading: string): string {
  const start = ERRORS_DOC.indexOf(heading);
  if (start < 0) throw new Error(`docs/ERRORS.md has no "${heading}"`);
  const rest = ERRORS_DOC.slice(start + heading.length);
  const end = rest.search(/\n#{2,3} /);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The rows of the table under `heading` in docs/ERRORS.md, cells trimmed, the header and rule left out. */
function tableRows(heading: string): string[][] {
  const lines = section(heading)
    .split('\n')
    .filter((line) => line.startsWith('|'));
  return lines.slice(2).map((line) =>
    line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim()),
  );
}

/** The header cells of the table under `heading`. */
function tableHeader(heading: string): string[] {
  const first = section(heading)
    .split('\n')
    .find((line) => line.startsWith('|'));
  if (first === undefined) throw new Error(`docs/ERRORS.md has no table under "${heading}"`);
  return first
    .slice(1, -1)
    .split('|')
    .map((cell) => cell.trim());
}

/**
 * The codes in the first column of the table under `heading` (`\`CODE\`` or a number), optionally only the rows
 * whose `column` is not `—`. A first cell that is not one code is a misread table: it throws rather than let the
 * oracle accept less, or more, than the document says.
 */
function documentedCodes(heading: string, column?: string): Set<string> {
  const at = column === undefined ? -1 : tableHeader(heading).indexOf(column);
  if (column !== undefined && at < 0)
    throw new Error(`docs/ERRORS.md: no column "${column}" under "${heading}"`);
  const codes = new Set<string>();
  for (const cells of tableRows(heading)) {
    const code = /^`([A-Z][A-Z_0-9]*)`$|^(\d{4})$/.exec(cells[0] ?? '');
    if (!code) throw new Error(`docs/ERRORS.md: "${cells[0]}" under "${heading}" is not a code`);
    if (at >= 0 && (cells[at] ?? '—') === '—') continue;
    codes.add((code[1] ?? code[2]) as string);
  }
  if (codes.size === 0) throw new Error(`docs/ERRORS.md: no codes under "${heading}"`);
  return codes;
}

/** Every code the section under `heading` names, in its table or its text. */
function codesNamedIn(heading: string): Set<string> {
  return new Set([...section(heading).matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1] as string));
}

/** Error codes a WebSocket client may receive: its own table, and the account codes with a WebSocket answer. */
export const WS_ERROR_CODES = new Set([
  ...documentedCodes('### Sent to WebSocket clients'),
  ...documentedCodes('### Account channels and endpoints', 'WebSocket'),
]);
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
 * What a frame should get, and a second answer where the documents allow two readings: a field that does not
 * matter to a message (`depth` outside a book subscribe) may be ignored or, being of the wrong JSON type, refused.
 */
export interface Alternatives {
  readonly expected: Expectation;
  /** Also accepted: the other reading the documents allow. */
  readonly alsoAccepted?: Expectation;
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
  const channel = value['channel'];
  const account = accountReply(value, state, rules);
  if (account !== undefined) return { expected: account };
  if (type !== 'subscribe' && type !== 'unsubscribe') return { expected: INVALID_MESSAGE };
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

const ACCOUNT_CHANNEL_NAMES: readonly unknown[] = [
  'dashboard',
  'account',
  'positions',
  'orders',
  'trades',
  'performance',
];

/**
 * The account messages (PROTOCOL.md, "Authentication", "Account channels") on a gateway that serves no accounts
 * (the fuzzed one): `auth` and account subscribes are answered ACCOUNTS_UNAVAILABLE, account unsubscribes with
 * nothing. Undefined for every other message.
 */
function accountReply(
  value: Record<string, unknown>,
  state: ConnectionModel,
  rules: ModelRules,
): Expectation | undefined {
  const { type, channel } = value;
  if (type === 'auth')
    return typeof value['token'] === 'string' ? error('ACCOUNTS_UNAVAILABLE') : INVALID_MESSAGE;
  if (type === 'resync') {
    if (typeof channel !== 'string') return INVALID_MESSAGE;
    if (!ACCOUNT_CHANNEL_NAMES.includes(channel)) return error('INVALID_CHANNEL');
  } else if (type === 'subscribe' || type === 'unsubscribe') {
    const accountTrades =
      channel === 'trades' && value['symbol'] === undefined && value['venue'] === undefined;
    if (!ACCOUNT_CHANNEL_NAMES.includes(channel) || (channel === 'trades' && !accountTrades))
      return undefined;
    if (type === 'unsubscribe') return { kind: 'nothing' };
  } else {
    return undefined;
  }
  if (state.subscriptions.size >= rules.maxSubscriptions) return error('TOO_MANY_SUBSCRIPTIONS', { channel });
  return error('ACCOUNTS_UNAVAILABLE', { channel });
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
  // A `depth` beyond a double's range (`1e400`) where it does not matter: ignored or refused, as above.
  if (isNonFinite(depth) && !depthMatters) return { expected: documented(), alsoAccepted: INVALID_MESSAGE };
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
/* The shape of every server message: the fields of the protocol's own types (src/protocol/server-messages.ts), */
/* the values of the domain's enumerations; only what a type cannot say (ranges, order) is written here.        */

/** The keys of T that every value has. */
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T] & string;
/** The keys of T a value may leave out. */
type OptionalKeys<T> = Exclude<keyof T & string, RequiredKeys<T>>;
/** L when it names every member of U (and, being a U[], nothing else); never otherwise. */
type Naming<U extends string, L extends readonly U[]> = [U] extends [L[number]] ? L : never;

/** A message's (or object's) fields: those it must have and those it may have. */
interface Fields {
  readonly required: readonly string[];
  readonly optional: readonly string[];
}

/**
 * The fields of the protocol type T. The lists are checked by the compiler against T: a field added to or
 * removed from the type, or made optional, fails to compile here until the oracle says the same.
 */
function fieldsOf<T>() {
  return <const R extends readonly RequiredKeys<T>[], const O extends readonly OptionalKeys<T>[]>(
    required: R & Naming<RequiredKeys<T>, R>,
    optional: O & Naming<OptionalKeys<T>, O>,
  ): Fields => ({ required, optional });
}

const TICKER_REQUIRED = ['type', 'symbol', 'last', 'time'] as const;
const TICKER_OPTIONAL = [
  'bid',
  'bidSize',
  'ask',
  'askSize',
  'open24h',
  'high24h',
  'low24h',
  'volume24h',
  'quoteVolume24h',
] as const;

const FIELDS = {
  bar: fieldsOf<BarJson>()(
    [
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
    ],
    [],
  ),
  pong: fieldsOf<PongMessage>()(['type'], []),
  error: fieldsOf<ErrorMessage>()(['type', 'message', 'code'], ['symbol', 'interval', 'channel', 'venue']),
  initial: fieldsOf<InitialMessage>()(['type', 'symbol', 'interval', 'bars'], ['partial', 'reason']),
  update: fieldsOf<UpdateMessage>()(['type', 'symbol', 'interval', 'bar'], []),
  revision: fieldsOf<RevisionMessage>()(['type', 'symbol', 'interval', 'bar'], []),
  subscribed: fieldsOf<SubscribedMessage>()(['type', 'channel', 'symbol'], ['venue', 'depth']),
  alertsSubscribed: fieldsOf<AlertsSubscribedMessage>()(
    ['type', 'channel', 'minSeverity'],
    ['venue', 'symbol'],
  ),
  alertJson: fieldsOf<AlertJson>()(
    ['id', 'time', 'severity', 'kind', 'message'],
    ['venue', 'symbol', 'account', 'details'],
  ),
  alert: fieldsOf<AlertMessage>()(
    ['type', 'id', 'time', 'severity', 'kind', 'message'],
    ['venue', 'symbol', 'account', 'details'],
  ),
  alerts: fieldsOf<AlertsMessage>()(['type', 'alerts'], []),
  trade: fieldsOf<TradeJson>()(['id', 'price', 'size', 'side', 'time'], []),
  trades: fieldsOf<TradesMessage>()(['type', 'venue', 'symbol', 'trades'], []),
  ticker: fieldsOf<TickerMessage>()([...TICKER_REQUIRED, 'venue'], TICKER_OPTIONAL),
  compositeTicker: fieldsOf<CompositeTickerMessage>()(
    [...TICKER_REQUIRED, 'resolution', 'sources', 'baseVenue', 'fallback'],
    TICKER_OPTIONAL,
  ),
  book: fieldsOf<BookMessage>()(['type', 'venue', 'symbol', 'depth', 'bids', 'asks', 'time'], ['seq']),
} as const;

const isFiniteNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isTime = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isVenue = (v: unknown): boolean => (VENUES as readonly unknown[]).includes(v);

/** Why `m` does not have exactly the fields `fields` allows (a required one missing, an unknown one), or null. */
function fieldsProblem(m: Record<string, unknown>, fields: Fields): string | null {
  const missing = fields.required.filter((k) => m[k] === undefined);
  if (missing.length > 0) return `missing fields ${missing.join(', ')}`;
  const extra = Object.keys(m).filter((k) => !fields.required.includes(k) && !fields.optional.includes(k));
  return extra.length === 0 ? null : `unexpected fields ${extra.join(', ')}`;
}

/** Why a wire bar is not a documented Candle object (BarJson), or null. */
export function barProblem(bar: unknown): string | null {
  if (!isObject(bar)) return 'bar is not an object';
  const fields = fieldsProblem(bar, FIELDS.bar);
  if (fields) return `bar: ${fields}`;
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
  if (!Array.isArray(sources) || !sources.every(isVenue)) return 'bad bar sources';
  return null;
}

/** Why an alert object (AlertJson, alone or as an `alert` message) is not valid, or null. */
function alertProblem(a: unknown, fields: Fields): string | null {
  if (!isObject(a)) return 'alert is not an object';
  const problem = fieldsProblem(a, fields);
  if (problem) return `alert: ${problem}`;
  if (typeof a['id'] !== 'string' || a['id'] === '' || !isTime(a['time'])) return 'alert without id or time';
  if (!isAlertSeverity(a['severity']) || !isAlertKind(a['kind'])) return 'alert of unknown severity or kind';
  if (typeof a['message'] !== 'string' || a['message'] === '') return 'alert without message';
  if (a['venue'] !== undefined && !isVenue(a['venue'])) return 'alert of unknown venue';
  if (a['details'] !== undefined && !isObject(a['details'])) return 'alert details not an object';
  return null;
}

/** Why `m` is not a valid server message of docs/PROTOCOL.md (src/protocol's ServerMessage), or null. */
export function serverMessageProblem(m: unknown, rules: ModelRules): string | null {
  if (!isObject(m)) return 'not a JSON object';
  const symbolOk = (s: unknown): boolean => typeof s === 'string' && rules.symbols.includes(s);
  const intervalOk = (i: unknown): boolean => (INTERVALS as readonly unknown[]).includes(i);
  const venueOk = (v: unknown): boolean => typeof v === 'string' && rules.venues.includes(v);
  const type = m['type'] as ServerMessage['type'];
  switch (type) {
    case 'pong':
      return fieldsProblem(m, FIELDS.pong);
    case 'error': {
      if (typeof m['message'] !== 'string' || m['message'] === '') return 'error without message';
      if (!WS_ERROR_CODES.has(m['code'] as string)) return `undocumented error code ${String(m['code'])}`;
      return fieldsProblem(m, FIELDS.error);
    }
    case 'initial': {
      const fields = fieldsProblem(m, FIELDS.initial);
      if (fields) return `initial: ${fields}`;
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
      return null;
    }
    case 'update':
    case 'revision': {
      const fields = fieldsProblem(m, FIELDS[type]);
      if (fields) return `${type}: ${fields}`;
      if (!symbolOk(m['symbol']) || !intervalOk(m['interval'])) return `${type} for an unknown room`;
      const p = barProblem(m['bar']);
      return p ? `${type}: ${p}` : null;
    }
    case 'subscribed': {
      if (m['channel'] === 'alerts') {
        if (!isAlertSeverity(m['minSeverity'])) return 'subscribed alerts: bad minSeverity';
        return fieldsProblem(m, FIELDS.alertsSubscribed);
      }
      if (!(CHANNELS as readonly unknown[]).includes(m['channel']) || m['channel'] === 'candles')
        return 'subscribed: bad channel';
      if (!symbolOk(m['symbol'])) return 'subscribed: bad symbol';
      if (m['venue'] !== undefined && !venueOk(m['venue'])) return 'subscribed: bad venue';
      return fieldsProblem(m, FIELDS.subscribed);
    }
    case 'alerts': {
      const fields = fieldsProblem(m, FIELDS.alerts);
      if (fields) return `alerts: ${fields}`;
      if (!Array.isArray(m['alerts'])) return 'alerts without a list';
      for (const a of m['alerts'] as unknown[]) {
        const p = alertProblem(a, FIELDS.alertJson);
        if (p) return `alerts: ${p}`;
      }
      return null;
    }
    case 'alert':
      return alertProblem(m, FIELDS.alert);
    case 'trades': {
      const fields = fieldsProblem(m, FIELDS.trades);
      if (fields) return `trades: ${fields}`;
      if (!venueOk(m['venue']) || !symbolOk(m['symbol']) || !Array.isArray(m['trades']))
        return 'bad trades message';
      for (const t of m['trades'] as unknown[]) {
        if (!isObject(t) || fieldsProblem(t, FIELDS.trade) !== null) return 'bad trade fields';
        if (
          typeof t['id'] !== 'string' ||
          !isFiniteNumber(t['price']) ||
          !isFiniteNumber(t['size']) ||
          !['buy', 'sell'].includes(t['side'] as string) ||
          !isTime(t['time'])
        )
          return 'bad trade';
      }
      return null;
    }
    case 'ticker': {
      const composite = m['venue'] === undefined;
      const fields = fieldsProblem(m, composite ? FIELDS.compositeTicker : FIELDS.ticker);
      if (fields) return `ticker: ${fields}`;
      if (!symbolOk(m['symbol']) || !isFiniteNumber(m['last']) || !isTime(m['time']))
        return 'bad ticker message';
      if (!composite && !venueOk(m['venue'])) return 'ticker: bad venue';
      for (const f of TICKER_OPTIONAL) {
        if (m[f] !== undefined && !isFiniteNumber(m[f])) return `ticker: ${f} is not a finite number`;
      }
      if (
        composite &&
        (!venueOk(m['baseVenue']) ||
          typeof m['fallback'] !== 'boolean' ||
          typeof m['resolution'] !== 'string' ||
          !Array.isArray(m['sources']) ||
          !(m['sources'] as unknown[]).every(venueOk))
      )
        return 'ticker: bad composite resolution';
      return null;
    }
    case 'book': {
      const fields = fieldsProblem(m, FIELDS.book);
      if (fields) return `book: ${fields}`;
      if (
        !venueOk(m['venue']) ||
        !symbolOk(m['symbol']) ||
        !Array.isArray(m['bids']) ||
        !Array.isArray(m['asks']) ||
        !Number.isSafeInteger(m['depth']) ||
        !isTime(m['time'])
      )
        return 'bad book message';
      const levels = [...(m['bids'] as unknown[]), ...(m['asks'] as unknown[])];
      return levels.every((l) => Array.isArray(l) && l.length === 2 && l.every(isFiniteNumber))
        ? null
        : 'bad book level';
    }
    default: {
      // Every ServerMessage type is handled above: a new one fails to compile here until the oracle knows it.
      const unknownType: never = type;
      return `unknown message type ${JSON.stringify(unknownType)}`;
    }
  }
}
