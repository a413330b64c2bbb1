import type { Candle } from '../domain/candle.ts';
import { toPlainString } from '../domain/decimal.ts';
import type { ErrorCode } from '../domain/errors.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';

/**
 * Gateway → client messages: their types (for the client SDK and dashboard) and their encoders (for the
 * gateway). Prices and volumes are written as exact decimal literals straight into the JSON text, so a price
 * such as 0.00002894 reaches the client digit for digit; a client's JSON.parse makes them numbers.
 */

/** One candle on the wire. The first seven fields are the original API's; the last three are Tickwire additions. */
export interface BarJson {
  /** ISO 8601 start of the bar, UTC. */
  readonly time: string;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly quoteVolume: number;
  /** Addition: trades in the bar. */
  readonly trades: number;
  /** Addition: true when this is the bar's final state (its interval ended). */
  readonly closed: boolean;
  /** Addition: venues whose trades built the bar (may be empty for bars read from history). */
  readonly sources: readonly VenueId[];
}

export interface InitialMessage {
  readonly type: 'initial';
  readonly symbol: string;
  readonly interval: Interval;
  readonly bars: readonly BarJson[];
}

/** The live bar changed, or a new bar started (newer `time`), or the live bar closed (`closed: true`). */
export interface UpdateMessage {
  readonly type: 'update';
  readonly symbol: string;
  readonly interval: Interval;
  readonly bar: BarJson;
}

/** Addition: a correction of a bar that had already closed; replace the bar with the same `time`. */
export interface RevisionMessage {
  readonly type: 'revision';
  readonly symbol: string;
  readonly interval: Interval;
  readonly bar: BarJson;
}

export interface ErrorMessage {
  readonly type: 'error';
  readonly message: string;
  /** Addition: stable catalogue code (docs/ERRORS.md). */
  readonly code: ErrorCode;
  /** Addition, on errors about one subscription (TOO_MANY_SUBSCRIPTIONS, HISTORY_UNAVAILABLE). */
  readonly symbol?: string;
  readonly interval?: Interval;
}

export interface PongMessage {
  readonly type: 'pong';
}

export type ServerMessage = InitialMessage | UpdateMessage | RevisionMessage | ErrorMessage | PongMessage;

/** A bar plus what the gateway knows about it beyond the Candle itself. */
export interface BarView {
  readonly bar: Candle;
  readonly closed: boolean;
  readonly sources: readonly VenueId[];
}

/** JSON text of one bar; decimals are written as exact literals, never through a float. */
export function encodeBar(view: BarView): string {
  const b = view.bar;
  let sources = '';
  for (let i = 0; i < view.sources.length; i++) sources += (i === 0 ? '"' : ',"') + view.sources[i] + '"';
  return (
    '{"time":"' +
    new Date(b.time).toISOString() +
    '","open":' +
    toPlainString(b.open) +
    ',"high":' +
    toPlainString(b.high) +
    ',"low":' +
    toPlainString(b.low) +
    ',"close":' +
    toPlainString(b.close) +
    ',"volume":' +
    toPlainString(b.volume) +
    ',"quoteVolume":' +
    toPlainString(b.quoteVolume) +
    ',"trades":' +
    b.trades +
    ',"closed":' +
    view.closed +
    ',"sources":[' +
    sources +
    ']}'
  );
}

function head(type: string, symbol: string, interval: Interval): string {
  return '{"type":"' + type + '","symbol":' + JSON.stringify(symbol) + ',"interval":"' + interval + '"';
}

/** `initial` with bars oldest first. */
export function encodeInitial(symbol: string, interval: Interval, bars: readonly BarView[]): string {
  let out = head('initial', symbol, interval) + ',"bars":[';
  for (let i = 0; i < bars.length; i++) {
    if (i > 0) out += ',';
    out += encodeBar(bars[i] as BarView);
  }
  return out + ']}';
}

export function encodeUpdate(symbol: string, interval: Interval, view: BarView): string {
  return head('update', symbol, interval) + ',"bar":' + encodeBar(view) + '}';
}

export function encodeRevision(symbol: string, interval: Interval, view: BarView): string {
  return head('revision', symbol, interval) + ',"bar":' + encodeBar(view) + '}';
}

/** `error` with the seed's `message` text first, then the catalogue code and, for one subscription, its key. */
export function encodeError(
  code: ErrorCode,
  message: string,
  about?: { readonly symbol: string; readonly interval: Interval },
): string {
  const error: ErrorMessage = about
    ? { type: 'error', message, code, symbol: about.symbol, interval: about.interval }
    : { type: 'error', message, code };
  return JSON.stringify(error);
}

export const PONG_TEXT = '{"type":"pong"}';
