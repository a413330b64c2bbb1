import { z } from 'zod';
import type { ErrorCode } from '../domain/errors.ts';
import { INTERVALS, isInterval, type Interval } from '../domain/interval.ts';

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

export type ClientMessage = SubscribeMessage | UnsubscribeMessage | PingMessage;

/** What a message is checked against: the gateway's configuration. */
export interface ProtocolRules {
  /** Instruments clients may subscribe to (canonical BASE/QUOTE). */
  readonly symbols: readonly string[];
  readonly maxInitialBars: number;
  /** `initialBars` when a subscribe leaves it out. */
  readonly defaultInitialBars: number;
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
const subscribeShape = z.object({
  type: z.literal('subscribe'),
  symbol: z.string(),
  interval: z.string(),
  initialBars: z.number().optional(),
});
const unsubscribeShape = z.object({
  type: z.literal('unsubscribe'),
  symbol: z.string(),
  interval: z.string(),
});
const pingShape = z.object({ type: z.literal('ping') });

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
  return `Rate limit exceeded: at most ${maxPerSecond} messages per second. Messages are ignored until the next second.`;
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
