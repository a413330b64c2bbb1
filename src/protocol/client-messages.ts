import { z } from 'zod';
import { ALERT_SEVERITIES, isAlertSeverity, type AlertSeverity } from '../domain/alert.ts';
import type { ErrorCode } from '../domain/errors.ts';
import { VENUES, type VenueId } from '../domain/instrument.ts';
import { INTERVALS, isInterval, type Interval } from '../domain/interval.ts';
import { ACCOUNT_CHANNELS, isAccountChannel, type AccountChannel } from './account-messages.ts';

/**
 * Client → gateway messages and their runtime validation. The texts of INVALID_MESSAGE, INVALID_INTERVAL and
 * INVALID_SYMBOL are the ones of the original WebSocket API document, character for character; every error also
 * carries a stable catalogue code (docs/ERRORS.md).
 */

/** A valid `subscribe`, with `initialBars` defaulted. */
export interface SubscribeMessage {
  readonly type: 'subscribe';
  readonly symbol: string;
  readonly interval: Interval;
  readonly initialBars: number;
}

export interface UnsubscribeMessage {
  readonly type: 'unsubscribe';
  readonly symbol: string;
  readonly interval: Interval;
}

export interface PingMessage {
  readonly type: 'ping';
}

/** The channels a client can subscribe to; a subscribe without `channel` is `candles` (the original API). */
export const CHANNELS = ['candles', 'trades', 'ticker', 'book', 'alerts'] as const;
export type Channel = (typeof CHANNELS)[number];
/** The channels that name a venue: one venue's own stream of one instrument. */
export type MarketChannel = Exclude<Channel, 'candles' | 'alerts'>;

/** Deepest `book` a client may ask for, and the depth when it asks for none. */
export const MAX_BOOK_DEPTH = 50;
export const DEFAULT_BOOK_DEPTH = 10;

/**
 * A valid subscribe to `trades`, `ticker` or `book` (wire `type` "subscribe" with a `channel`). Parsed form:
 * the `type` is distinct from the candle subscribe so the two can never be confused. `depth` is set for `book`.
 * `venue` is undefined only for `ticker`: the composite ticker, resolved across the instrument's venues.
 */
export interface ChannelSubscribeMessage {
  readonly type: 'channel-subscribe';
  readonly channel: MarketChannel;
  readonly venue: VenueId | undefined;
  readonly symbol: string;
  readonly depth?: number;
}

/** A valid unsubscribe from `trades`, `ticker` or `book` (wire `type` "unsubscribe" with a `channel`). */
export interface ChannelUnsubscribeMessage {
  readonly type: 'channel-unsubscribe';
  readonly channel: MarketChannel;
  readonly venue: VenueId | undefined;
  readonly symbol: string;
}

/**
 * A valid subscribe to `alerts` (wire `type` "subscribe" with `"channel":"alerts"`). Filters: alerts of at least
 * `minSeverity` (default "info": all), and when `venue` / `symbol` are given, only alerts about that venue /
 * instrument or about none in particular.
 */
export interface AlertsSubscribeMessage {
  readonly type: 'alerts-subscribe';
  readonly minSeverity: AlertSeverity;
  readonly venue?: VenueId;
  readonly symbol?: string;
}

/** Unsubscribe from `alerts` (wire `type` "unsubscribe" with `"channel":"alerts"`); filters are not needed. */
export interface AlertsUnsubscribeMessage {
  readonly type: 'alerts-unsubscribe';
}

/** Addition: the token of the connection's account (docs/PROTOCOL.md, "Authentication"). */
export interface AuthMessage {
  readonly type: 'auth';
  readonly token: string;
}

/**
 * Addition: a subscribe to one account channel (wire `{"type":"subscribe","channel":"positions"}`; the account
 * `trades` is `{"type":"subscribe","channel":"trades"}` with neither `symbol` nor `venue`), or a `resync` of one
 * (`{"type":"resync","channel":"positions"}`): either is answered with a fresh snapshot.
 */
export interface AccountSubscribeMessage {
  readonly type: 'account-subscribe';
  readonly channel: AccountChannel;
}

export interface AccountUnsubscribeMessage {
  readonly type: 'account-unsubscribe';
  readonly channel: AccountChannel;
}

export type ClientMessage =
  | AuthMessage
  | AccountSubscribeMessage
  | AccountUnsubscribeMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | PingMessage
  | ChannelSubscribeMessage
  | ChannelUnsubscribeMessage
  | AlertsSubscribeMessage
  | AlertsUnsubscribeMessage;

/** What a message is checked against: the gateway's configuration. */
export interface ProtocolRules {
  /** Instruments clients may subscribe to (canonical BASE/QUOTE). */
  readonly symbols: readonly string[];
  readonly maxInitialBars: number;
  /** `initialBars` when a subscribe leaves it out. */
  readonly defaultInitialBars: number;
  /** Venues clients may name on the market channels (default: every venue Tickwire knows). */
  readonly venues?: readonly VenueId[];
  /** Deepest `book` a client may ask for (default MAX_BOOK_DEPTH). */
  readonly maxBookDepth?: number;
  /** `depth` when a book subscribe leaves it out (default DEFAULT_BOOK_DEPTH, capped at maxBookDepth). */
  readonly defaultBookDepth?: number;
}

export interface ProtocolError {
  readonly code: ErrorCode;
  readonly message: string;
}

export type ParseResult =
  | { readonly ok: true; readonly message: ClientMessage }
  | { readonly ok: false; readonly error: ProtocolError };

/**
 * Shapes only: field presence and JSON types. Unknown extra fields are ignored so that clients may send
 * their own correlation fields. Value rules (known interval, configured symbol, range) come after, each with
 * its own error text.
 */
/**
 * Any JSON number, the infinite ones included: `1e400` parses to Infinity, and is then refused by its own field's
 * range check (INVALID_INITIAL_BARS, INVALID_DEPTH) like any other out-of-range value, not as a bad shape.
 */
const anyNumber = z.custom<number>((v) => typeof v === 'number');
const subscribeShape = z.object({
  type: z.literal('subscribe'),
  symbol: z.string(),
  interval: z.string(),
  initialBars: anyNumber.optional(),
});
const unsubscribeShape = z.object({
  type: z.literal('unsubscribe'),
  symbol: z.string(),
  interval: z.string(),
});
const pingShape = z.object({ type: z.literal('ping') });
/** Subscribe/unsubscribe that carries a `channel` other than "candles". */
const channelShape = z.object({
  type: z.enum(['subscribe', 'unsubscribe']),
  channel: z.string(),
  symbol: z.string(),
  venue: z.string().optional(),
  depth: anyNumber.optional(),
});

/** Subscribe/unsubscribe of the `alerts` channel; every filter is optional. */
const alertsShape = z.object({
  type: z.enum(['subscribe', 'unsubscribe']),
  channel: z.literal('alerts'),
  minSeverity: z.string().optional(),
  venue: z.string().optional(),
  symbol: z.string().optional(),
});

export const clientMessageShape = z.discriminatedUnion('type', [subscribeShape, unsubscribeShape, pingShape]);

/** Longest client-supplied value echoed back in an error text; longer ones are cut and end with "…". */
export const MAX_ECHO_LENGTH = 64;

function echo(value: string | number): string {
  const text = String(value);
  return text.length > MAX_ECHO_LENGTH ? text.slice(0, MAX_ECHO_LENGTH) + '…' : text;
}

export const INVALID_MESSAGE_TEXT = 'Invalid message format';

/** "Invalid interval: 10m. Valid: 1m, 5m, 15m, 1h, 4h, 1D, 1W" */
export function invalidIntervalText(interval: string): string {
  return `Invalid interval: ${echo(interval)}. Valid: ${INTERVALS.join(', ')}`;
}

/**
 * "Invalid symbol: ETH/USDT. Only BTC/USDT is supported." with one configured symbol,
 * "Invalid symbol: X. Only A, B are supported." with several.
 */
export function invalidSymbolText(symbol: string, symbols: readonly string[]): string {
  const verb = symbols.length === 1 ? 'is' : 'are';
  return `Invalid symbol: ${echo(symbol)}. Only ${symbols.join(', ')} ${verb} supported.`;
}

/** "Invalid initialBars: 6000. Must be an integer from 0 to 5000." */
export function invalidInitialBarsText(initialBars: number, max: number): string {
  return `Invalid initialBars: ${echo(initialBars)}. Must be an integer from 0 to ${max}.`;
}

export function tooManySubscriptionsText(max: number): string {
  return `Too many subscriptions: at most ${max} per connection. Unsubscribe from one first.`;
}

export function rateLimitedText(maxPerSecond: number): string {
  return `Rate limit exceeded: at most ${maxPerSecond} messages per second. Messages over the limit are ignored (not answered).`;
}

/** Every channel name a subscribe may carry: the public ones, then the account ones not already among them. */
const ALL_CHANNEL_NAMES: readonly string[] = [
  ...CHANNELS,
  ...ACCOUNT_CHANNELS.filter((c) => !(CHANNELS as readonly string[]).includes(c)),
];

/** "Invalid channel: candle. Valid: candles, trades, ticker, book, alerts, dashboard, account, …" */
export function invalidChannelText(channel: string): string {
  return `Invalid channel: ${echo(channel)}. Valid: ${ALL_CHANNEL_NAMES.join(', ')}`;
}

/** "Invalid venue: kraken. Valid: binance, okx", or "Missing venue. Valid: ..." when none was given. */
export function invalidVenueText(venue: string | undefined, venues: readonly string[]): string {
  const head = venue === undefined ? 'Missing venue.' : `Invalid venue: ${echo(venue)}.`;
  return `${head} Valid: ${venues.join(', ')}`;
}

/** "Invalid depth: 500. Must be an integer from 1 to 50." */
export function invalidDepthText(depth: number, max: number): string {
  return `Invalid depth: ${echo(depth)}. Must be an integer from 1 to ${max}.`;
}

/** "Invalid minSeverity: fatal. Valid: info, warning, critical" */
export function invalidSeverityText(minSeverity: string): string {
  return `Invalid minSeverity: ${echo(minSeverity)}. Valid: ${ALERT_SEVERITIES.join(', ')}`;
}

export function historyUnavailableText(symbol: string, interval: Interval): string {
  return `History unavailable for ${symbol} ${interval}. Live updates continue.`;
}

const INVALID_MESSAGE: ParseResult = {
  ok: false,
  error: { code: 'INVALID_MESSAGE', message: INVALID_MESSAGE_TEXT },
};

/**
 * Parses and validates one text frame. Never throws: anything that is not a valid message yields an error
 * result whose `message` is the exact text to send back.
 */
export function parseClientMessage(text: string, rules: ProtocolRules): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return INVALID_MESSAGE;
  }
  const channel = (json as { channel?: unknown } | null)?.channel;
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    const account = parseAccountMessage(json as Record<string, unknown>);
    if (account !== undefined) return account;
  }
  if (
    typeof json === 'object' &&
    json !== null &&
    (type === 'subscribe' || type === 'unsubscribe') &&
    channel !== undefined &&
    channel !== 'candles'
  ) {
    // The channel name comes first: a client asking for a channel that does not exist learns which ones do,
    // whatever else its message lacks.
    if (typeof channel === 'string' && !(CHANNELS as readonly string[]).includes(channel)) {
      return { ok: false, error: { code: 'INVALID_CHANNEL', message: invalidChannelText(channel) } };
    }
    return channel === 'alerts' ? parseAlertsMessage(json, rules) : parseChannelMessage(json, rules);
  }
  const shaped = clientMessageShape.safeParse(json);
  if (!shaped.success) return INVALID_MESSAGE;
  const raw = shaped.data;
  if (raw.type === 'ping') return { ok: true, message: { type: 'ping' } };

  if (!isInterval(raw.interval)) {
    return { ok: false, error: { code: 'INVALID_INTERVAL', message: invalidIntervalText(raw.interval) } };
  }
  if (!rules.symbols.includes(raw.symbol)) {
    return {
      ok: false,
      error: { code: 'INVALID_SYMBOL', message: invalidSymbolText(raw.symbol, rules.symbols) },
    };
  }
  if (raw.type === 'unsubscribe') {
    return { ok: true, message: { type: 'unsubscribe', symbol: raw.symbol, interval: raw.interval } };
  }
  // A default above the maximum would make every plain subscribe fail; the maximum wins.
  const initialBars = raw.initialBars ?? Math.min(rules.defaultInitialBars, rules.maxInitialBars);
  if (!Number.isInteger(initialBars) || initialBars < 0 || initialBars > rules.maxInitialBars) {
    return {
      ok: false,
      error: {
        code: 'INVALID_INITIAL_BARS',
        message: invalidInitialBarsText(initialBars, rules.maxInitialBars),
      },
    };
  }
  return {
    ok: true,
    message: { type: 'subscribe', symbol: raw.symbol, interval: raw.interval, initialBars },
  };
}

const authShape = z.object({ type: z.literal('auth'), token: z.string() });

/**
 * The messages of the account side: `auth`, `resync`, and subscribe/unsubscribe of an account channel (the
 * account `trades` is the one without `symbol` and `venue`). Undefined for every other message, which keeps its
 * own parsing unchanged.
 */
function parseAccountMessage(json: Record<string, unknown>): ParseResult | undefined {
  const { type, channel } = json;
  if (type === 'auth') {
    const shaped = authShape.safeParse(json);
    return shaped.success
      ? { ok: true, message: { type: 'auth', token: shaped.data.token } }
      : INVALID_MESSAGE;
  }
  if (type === 'resync') {
    if (typeof channel !== 'string') return INVALID_MESSAGE;
    if (!isAccountChannel(channel)) {
      return { ok: false, error: { code: 'INVALID_CHANNEL', message: invalidChannelText(channel) } };
    }
    return { ok: true, message: { type: 'account-subscribe', channel } };
  }
  if (type !== 'subscribe' && type !== 'unsubscribe') return undefined;
  const accountTrades = channel === 'trades' && json['symbol'] === undefined && json['venue'] === undefined;
  if (!isAccountChannel(channel) || (channel === 'trades' && !accountTrades)) return undefined;
  return {
    ok: true,
    message: { type: type === 'subscribe' ? 'account-subscribe' : 'account-unsubscribe', channel },
  };
}

/**
 * Subscribe/unsubscribe with a market `channel` (already known to be `trades`, `ticker` or `book`). Checks run in
 * this order: shape, venue, symbol, depth (book subscribe only). `depth` on other channels is ignored like any unknown field.
 */
function parseChannelMessage(json: object, rules: ProtocolRules): ParseResult {
  const shaped = channelShape.safeParse(json);
  if (!shaped.success) return INVALID_MESSAGE;
  const raw = shaped.data;
  // parseClientMessage sends only the market channels here.
  const channel = raw.channel as MarketChannel;
  const venues = rules.venues ?? VENUES;
  const venue = venues.find((v) => v === raw.venue);
  // A ticker without a venue is the composite one; every other channel is one venue's stream.
  const composite = channel === 'ticker' && raw.venue === undefined;
  if (venue === undefined && !composite) {
    return { ok: false, error: { code: 'INVALID_VENUE', message: invalidVenueText(raw.venue, venues) } };
  }
  if (!rules.symbols.includes(raw.symbol)) {
    return {
      ok: false,
      error: { code: 'INVALID_SYMBOL', message: invalidSymbolText(raw.symbol, rules.symbols) },
    };
  }
  if (raw.type === 'unsubscribe') {
    return { ok: true, message: { type: 'channel-unsubscribe', channel, venue, symbol: raw.symbol } };
  }
  if (channel !== 'book') {
    return { ok: true, message: { type: 'channel-subscribe', channel, venue, symbol: raw.symbol } };
  }
  const max = rules.maxBookDepth ?? MAX_BOOK_DEPTH;
  const depth = raw.depth ?? Math.min(rules.defaultBookDepth ?? DEFAULT_BOOK_DEPTH, max);
  if (!Number.isInteger(depth) || depth < 1 || depth > max) {
    return { ok: false, error: { code: 'INVALID_DEPTH', message: invalidDepthText(depth, max) } };
  }
  return { ok: true, message: { type: 'channel-subscribe', channel, venue, symbol: raw.symbol, depth } };
}

/**
 * Subscribe/unsubscribe of `alerts`. Checks run in this order: shape, minSeverity, venue, symbol. An unsubscribe
 * needs no filter and its filter fields are not checked (there is one alerts subscription per connection).
 */
function parseAlertsMessage(json: object, rules: ProtocolRules): ParseResult {
  const shaped = alertsShape.safeParse(json);
  if (!shaped.success) return INVALID_MESSAGE;
  const raw = shaped.data;
  if (raw.type === 'unsubscribe') return { ok: true, message: { type: 'alerts-unsubscribe' } };
  const minSeverity = raw.minSeverity ?? 'info';
  if (!isAlertSeverity(minSeverity)) {
    return { ok: false, error: { code: 'INVALID_SEVERITY', message: invalidSeverityText(minSeverity) } };
  }
  let venue: VenueId | undefined;
  if (raw.venue !== undefined) {
    const venues = rules.venues ?? VENUES;
    venue = venues.find((v) => v === raw.venue);
    if (venue === undefined) {
      return { ok: false, error: { code: 'INVALID_VENUE', message: invalidVenueText(raw.venue, venues) } };
    }
  }
  if (raw.symbol !== undefined && !rules.symbols.includes(raw.symbol)) {
    return {
      ok: false,
      error: { code: 'INVALID_SYMBOL', message: invalidSymbolText(raw.symbol, rules.symbols) },
    };
  }
  return {
    ok: true,
    message: {
      type: 'alerts-subscribe',
      minSeverity,
      ...(venue === undefined ? {} : { venue }),
      ...(raw.symbol === undefined ? {} : { symbol: raw.symbol }),
    },
  };
}
