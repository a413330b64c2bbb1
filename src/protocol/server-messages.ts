import type { Alert, AlertDetails, AlertKind, AlertSeverity } from '../domain/alert.ts';
import type { BookLevel } from '../domain/book.ts';
import type { Candle } from '../domain/candle.ts';
import { parseDecimal, toPlainString, type Decimal } from '../domain/decimal.ts';
import type { ErrorCode } from '../domain/errors.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import type { Ticker } from '../domain/ticker.ts';
import type { Trade } from '../domain/trade.ts';
import type { MarketChannel } from './client-messages.ts';

/**
 * Gateway → client messages: their types (the wire format docs/PROTOCOL.md describes, for TypeScript code that
 * reads it, such as the tests) and their encoders (for the gateway). Prices and volumes are written as exact decimal literals straight into the JSON text, so a price
 * such as 0.00002894 reaches the client digit for digit; a client's JSON.parse makes them numbers.
 */

/** One candle on the wire. The first seven fields are the original API's; the last four are Tickwire additions. */
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
  /** Addition: true when the bar holds data that came over a venue's REST API (history, a backfill). */
  readonly backfilled: boolean;
}

export interface InitialMessage {
  readonly type: 'initial';
  readonly symbol: string;
  readonly interval: Interval;
  readonly bars: readonly BarJson[];
  /**
   * Addition, present only when true: `bars` are not the whole history, because the history store could not be
   * read (only what the gateway's memory holds) or the instrument's history is still loading at start-up (only
   * what the store held). Another `initial` with the whole history follows once it can be read.
   */
  readonly partial?: true;
  /** Addition, with `partial`: why, as a catalogue code (HISTORY_UNAVAILABLE or HISTORY_LOADING). */
  readonly reason?: ErrorCode;
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
  /** Addition, on errors about one market-channel or alerts subscription (TOO_MANY_SUBSCRIPTIONS). */
  readonly channel?: MarketChannel | 'alerts';
  readonly venue?: VenueId;
}

export interface PongMessage {
  readonly type: 'pong';
}

/** Addition: a subscribe to `trades`, `ticker` or `book` was accepted (`depth` for book). */
export interface SubscribedMessage {
  readonly type: 'subscribed';
  readonly channel: MarketChannel;
  /** Absent for the composite `ticker` of an instrument (a subscribe without `venue`). */
  readonly venue?: VenueId;
  readonly symbol: string;
  readonly depth?: number;
}

/** One trade on the wire; `time` is the exchange trade time, ms UTC. */
export interface TradeJson {
  readonly id: string;
  readonly price: number;
  readonly size: number;
  /** The taker's side. */
  readonly side: 'buy' | 'sell';
  readonly time: number;
}

/** Addition: the trades of one venue and instrument since the previous `trades` message, oldest first. */
export interface TradesMessage {
  readonly type: 'trades';
  readonly venue: VenueId;
  readonly symbol: string;
  readonly trades: readonly TradeJson[];
}

/** Addition: latest ticker of one venue and instrument; fields the venue does not send are left out. */
export interface TickerMessage {
  readonly type: 'ticker';
  readonly venue: VenueId;
  readonly symbol: string;
  readonly last: number;
  readonly bid?: number;
  readonly bidSize?: number;
  readonly ask?: number;
  readonly askSize?: number;
  readonly open24h?: number;
  readonly high24h?: number;
  readonly low24h?: number;
  readonly volume24h?: number;
  readonly quoteVolume24h?: number;
  readonly time: number;
}

/** Addition: the best `depth` levels per side of one book, `[price, size]`, best first. */
export interface BookMessage {
  readonly type: 'book';
  readonly venue: VenueId;
  readonly symbol: string;
  readonly depth: number;
  readonly bids: readonly (readonly [number, number])[];
  readonly asks: readonly (readonly [number, number])[];
  /** The venue's sequence position of the book, when the venue has one. */
  readonly seq?: number;
  /** Exchange time of the book's last change, ms UTC. */
  readonly time: number;
}

/** Addition: a subscribe to `alerts` was accepted, with the filters in force. */
export interface AlertsSubscribedMessage {
  readonly type: 'subscribed';
  readonly channel: 'alerts';
  readonly minSeverity: AlertSeverity;
  readonly venue?: VenueId;
  readonly symbol?: string;
}

/** One alert on the wire: the Alert's fields (docs/PROTOCOL.md, "Alerts"). */
export interface AlertJson {
  readonly id: string;
  /** When the condition was observed, ms since the epoch (UTC). */
  readonly time: number;
  readonly severity: AlertSeverity;
  /** Clients must ignore kinds they do not know: the list grows. */
  readonly kind: AlertKind;
  readonly venue?: VenueId;
  readonly symbol?: string;
  /** Addition: the account of an account alert (sent only to connections authenticated for it). */
  readonly account?: string;
  readonly message: string;
  readonly details?: AlertDetails;
}

/** Addition: one live alert, `type` followed by the AlertJson fields. */
export interface AlertMessage extends AlertJson {
  readonly type: 'alert';
}

/** Addition: after an alerts subscribe, the recent alerts the gateway keeps that pass the filters, oldest first. */
export interface AlertsMessage {
  readonly type: 'alerts';
  readonly alerts: readonly AlertJson[];
}

export type ServerMessage =
  | InitialMessage
  | UpdateMessage
  | RevisionMessage
  | ErrorMessage
  | PongMessage
  | SubscribedMessage
  | TradesMessage
  | TickerMessage
  | CompositeTickerMessage
  | BookMessage
  | AlertsSubscribedMessage
  | AlertMessage
  | AlertsMessage;

/** A bar plus what the gateway knows about it beyond the Candle itself. */
export interface BarView {
  readonly bar: Candle;
  readonly closed: boolean;
  readonly sources: readonly VenueId[];
  /** Whether the bar holds data that came over the venue's REST API (history, a backfill). */
  readonly backfilled: boolean;
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
    '],"backfilled":' +
    view.backfilled +
    '}'
  );
}

function head(type: string, symbol: string, interval: Interval): string {
  return '{"type":"' + type + '","symbol":' + JSON.stringify(symbol) + ',"interval":"' + interval + '"';
}

/** `initial` with bars oldest first; `partialReason` marks it partial (the seed's fields come first, unchanged). */
export function encodeInitial(
  symbol: string,
  interval: Interval,
  bars: readonly BarView[],
  partialReason?: ErrorCode,
): string {
  return encodeInitialOfBars(symbol, interval, bars.map(encodeBar), partialReason);
}

/** `initial` from bar texts already encoded with `encodeBar` (a gateway keeps them to encode each bar once). */
export function encodeInitialOfBars(
  symbol: string,
  interval: Interval,
  barJsons: readonly string[],
  partialReason?: ErrorCode,
): string {
  let out = head('initial', symbol, interval) + ',"bars":[' + barJsons.join(',') + ']';
  if (partialReason !== undefined) out += ',"partial":true,"reason":"' + partialReason + '"';
  return out + '}';
}

export function encodeUpdate(symbol: string, interval: Interval, view: BarView): string {
  return encodeUpdateOfBar(symbol, interval, encodeBar(view));
}

export function encodeRevision(symbol: string, interval: Interval, view: BarView): string {
  return encodeRevisionOfBar(symbol, interval, encodeBar(view));
}

/** `update` from a bar text made by `encodeBar`. */
export function encodeUpdateOfBar(symbol: string, interval: Interval, barJson: string): string {
  return head('update', symbol, interval) + ',"bar":' + barJson + '}';
}

/** `revision` from a bar text made by `encodeBar`. */
export function encodeRevisionOfBar(symbol: string, interval: Interval, barJson: string): string {
  return head('revision', symbol, interval) + ',"bar":' + barJson + '}';
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

/** `error` about one market-channel subscription: the text, the code, then channel, venue and symbol. */
export function encodeChannelError(
  code: ErrorCode,
  message: string,
  about: { readonly channel: MarketChannel; readonly venue: VenueId | undefined; readonly symbol: string },
): string {
  const error: ErrorMessage = {
    type: 'error',
    message,
    code,
    channel: about.channel,
    venue: about.venue,
    symbol: about.symbol,
  };
  return JSON.stringify(error);
}

function channelHead(type: string, venue: VenueId | undefined, symbol: string): string {
  const venuePart = venue === undefined ? '' : ',"venue":"' + venue + '"';
  return '{"type":"' + type + '"' + venuePart + ',"symbol":' + JSON.stringify(symbol);
}

/** `subscribed` acknowledging a market-channel subscribe. */
export function encodeSubscribed(
  channel: MarketChannel,
  venue: VenueId | undefined,
  symbol: string,
  depth?: number,
): string {
  return (
    '{"type":"subscribed","channel":"' +
    channel +
    '"' +
    (venue === undefined ? '' : ',"venue":"' + venue + '"') +
    ',"symbol":' +
    JSON.stringify(symbol) +
    (depth === undefined ? '' : ',"depth":' + depth) +
    '}'
  );
}

/** JSON text of one trade (an element of `trades`). */
export function encodeTradeJson(trade: Trade): string {
  return (
    '{"id":' +
    JSON.stringify(trade.id) +
    ',"price":' +
    toPlainString(trade.price) +
    ',"size":' +
    toPlainString(trade.size) +
    ',"side":"' +
    trade.side +
    '","time":' +
    trade.time +
    '}'
  );
}

/** `trades` from trade texts already encoded with `encodeTradeJson`, in order. */
export function encodeTradesMessage(
  venue: VenueId | undefined,
  symbol: string,
  tradeTexts: readonly string[],
): string {
  let out = channelHead('trades', venue, symbol) + ',"trades":[';
  for (let i = 0; i < tradeTexts.length; i++) out += (i > 0 ? ',' : '') + (tradeTexts[i] as string);
  return out + ']}';
}

const TICKER_FIELDS = [
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

/** `ticker` with decimals as exact literals and absent fields left out. */
export function encodeTickerMessage(ticker: Ticker): string {
  return channelHead('ticker', ticker.venue, ticker.symbol) + tickerBody(ticker);
}

/** How a composite ticker was resolved across venues (see src/feed/conflict-resolution.ts). */
export interface CompositeTickerInfo {
  /** The configured strategy: "primary", "latest" or "average". */
  readonly resolution: string;
  /** The venues whose `last` makes the price. */
  readonly sources: readonly VenueId[];
  /** The venue whose bid, ask and 24 h statistics are sent (never mixed across venues). */
  readonly baseVenue: VenueId;
  /** True when the strategy could not apply as asked (no fresh primary, no agreement). */
  readonly fallback: boolean;
}

/** The composite `ticker` of an instrument on the wire (`encodeCompositeTickerMessage`). */
export interface CompositeTickerMessage extends Omit<TickerMessage, 'venue'>, CompositeTickerInfo {}

/**
 * The composite `ticker` of an instrument: no `venue`, and instead how it was resolved. `last` is the resolved
 * price; the other fields are `baseVenue`'s.
 */
export function encodeCompositeTickerMessage(ticker: Ticker, info: CompositeTickerInfo): string {
  return (
    channelHead('ticker', undefined, ticker.symbol) +
    ',"resolution":' +
    JSON.stringify(info.resolution) +
    ',"sources":' +
    JSON.stringify(info.sources) +
    ',"baseVenue":"' +
    info.baseVenue +
    '","fallback":' +
    info.fallback +
    tickerBody(ticker)
  );
}

function tickerBody(ticker: Ticker): string {
  let out = ',"last":' + toPlainString(ticker.last);
  for (const field of TICKER_FIELDS) {
    const value: Decimal | undefined = ticker[field];
    if (value !== undefined) out += ',"' + field + '":' + toPlainString(value);
  }
  return out + ',"time":' + ticker.time + '}';
}

/**
 * One level as the JSON text `[price,size]` with exact number literals. Venue strings are normalized first
 * ("0.35210000" → 0.3521) so that every level is a valid JSON number whatever the venue's spelling. Throws on a
 * level that is not a decimal.
 */
export function encodeBookLevel(level: BookLevel): string {
  return '[' + toPlainString(parseDecimal(level.price)) + ',' + toPlainString(parseDecimal(level.size)) + ']';
}

/**
 * `book` from levels already encoded with `encodeBookLevel`, best first; sends the first `depth` of each side
 * (fewer when the book is thinner).
 */
export function encodeBookMessage(
  venue: VenueId,
  symbol: string,
  depth: number,
  bids: readonly string[],
  asks: readonly string[],
  seq: number | undefined,
  time: number,
): string {
  let out = channelHead('book', venue, symbol) + ',"depth":' + depth + ',"bids":[';
  const nb = Math.min(depth, bids.length);
  for (let i = 0; i < nb; i++) out += (i > 0 ? ',' : '') + (bids[i] as string);
  out += '],"asks":[';
  const na = Math.min(depth, asks.length);
  for (let i = 0; i < na; i++) out += (i > 0 ? ',' : '') + (asks[i] as string);
  return out + ']' + (seq === undefined ? '' : ',"seq":' + seq) + ',"time":' + time + '}';
}

/** JSON text of one alert (an element of `alerts`), fields in the documented order, absent ones left out. */
export function encodeAlertJson(alert: Alert): string {
  const json: AlertJson = {
    id: alert.id,
    time: alert.time,
    severity: alert.severity,
    kind: alert.kind,
    ...(alert.venue === undefined ? {} : { venue: alert.venue }),
    ...(alert.symbol === undefined ? {} : { symbol: alert.symbol }),
    ...(alert.account === undefined ? {} : { account: alert.account }),
    message: alert.message,
    ...(alert.details === undefined ? {} : { details: alert.details }),
  };
  return JSON.stringify(json);
}

/** `alert` from a text made by `encodeAlertJson`. */
export function encodeAlertMessage(alertJson: string): string {
  return '{"type":"alert",' + alertJson.slice(1);
}

/** `alerts` from texts made by `encodeAlertJson`, in order. */
export function encodeAlertsMessage(alertJsons: readonly string[]): string {
  return '{"type":"alerts","alerts":[' + alertJsons.join(',') + ']}';
}

/** `subscribed` acknowledging an alerts subscribe, with its filters. */
export function encodeAlertsSubscribed(filter: {
  readonly minSeverity: AlertSeverity;
  readonly venue?: VenueId | undefined;
  readonly symbol?: string | undefined;
}): string {
  const msg: AlertsSubscribedMessage = {
    type: 'subscribed',
    channel: 'alerts',
    minSeverity: filter.minSeverity,
    ...(filter.venue === undefined ? {} : { venue: filter.venue }),
    ...(filter.symbol === undefined ? {} : { symbol: filter.symbol }),
  };
  return JSON.stringify(msg);
}

/** `error` about the alerts subscription: the text, the code, then `"channel":"alerts"`. */
export function encodeAlertsChannelError(code: ErrorCode, message: string): string {
  const error: ErrorMessage = { type: 'error', message, code, channel: 'alerts' };
  return JSON.stringify(error);
}
