/**
 * The market and alerts state over HTTP, for clients whose WebSocket cannot connect (the client library polls
 * them, docs/CLIENT.md): `GET /api/ticker`, `/api/book`, `/api/trades` and `/api/alerts` answer with what a
 * subscribe to the channel would be sent first, in the same message format (docs/PROTOCOL.md, "Polling
 * endpoints"). Parameters are checked as the subscribe's fields are, with the same error codes and texts.
 */
import type { Alert, AlertSeverity } from '../domain/alert.ts';
import { isAlertSeverity } from '../domain/alert.ts';
import type { ErrorCode } from '../domain/errors.ts';
import type { VenueId } from '../domain/instrument.ts';
import {
  invalidDepthText,
  invalidSeverityText,
  invalidSymbolText,
  invalidVenueText,
} from '../protocol/client-messages.ts';
import { encodeAlertJson } from '../protocol/server-messages.ts';
import { alertMatches } from './alert-feed.ts';

export const TICKER_PATH = '/api/ticker';
export const BOOK_PATH = '/api/book';
export const TRADES_PATH = '/api/trades';
export const ALERTS_PATH = '/api/alerts';
export const MARKET_PATHS: readonly string[] = [TICKER_PATH, BOOK_PATH, TRADES_PATH, ALERTS_PATH];

/** Most trades or alerts one request returns, and the default. */
export const MAX_POLLED_ITEMS = 1000;
export const DEFAULT_POLLED_ITEMS = 100;

export interface MarketEndpointsOptions {
  readonly symbols: readonly string[];
  readonly venues: readonly VenueId[];
  readonly maxBookDepth: number;
  readonly defaultBookDepth: number;
  readonly current: (
    channel: 'ticker' | 'book',
    venue: VenueId | undefined,
    symbol: string,
    depth?: number,
  ) => string | undefined;
  readonly recentTrades: (venue: VenueId, symbol: string, limit: number) => string;
  /** The alerts the gateway keeps, oldest first. */
  readonly recentAlerts: () => readonly Alert[];
}

/** An answer: JSON text (already encoded), or no content (204) while the gateway has no state to give. */
export interface MarketAnswer {
  readonly status: number;
  readonly text?: string;
}

function error(code: ErrorCode, message: string): MarketAnswer {
  return { status: 400, text: JSON.stringify({ error: { code, message } }) };
}

type Checked<T> = { readonly value: T } | { readonly error: MarketAnswer };

function symbolOf(
  q: URLSearchParams,
  o: MarketEndpointsOptions,
  optional = false,
): Checked<string | undefined> {
  const symbol = q.get('symbol');
  if (symbol === null && optional) return { value: undefined };
  if (symbol === null || !o.symbols.includes(symbol)) {
    return { error: error('INVALID_SYMBOL', invalidSymbolText(symbol ?? '', o.symbols)) };
  }
  return { value: symbol };
}

function venueOf(
  q: URLSearchParams,
  o: MarketEndpointsOptions,
  optional: boolean,
): Checked<VenueId | undefined> {
  const venue = q.get('venue');
  if (venue === null && optional) return { value: undefined };
  if (venue === null || !(o.venues as readonly string[]).includes(venue)) {
    return { error: error('INVALID_VENUE', invalidVenueText(venue ?? undefined, o.venues)) };
  }
  return { value: venue as VenueId };
}

/** A count in plain digits within [1, max]; `fallback` when absent. */
function countOf(raw: string | null, max: number, fallback: number): number | undefined {
  if (raw === null) return fallback;
  const n = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  return n >= 1 && n <= max ? n : undefined;
}

export function answerMarketRequest(
  path: string,
  q: URLSearchParams,
  o: MarketEndpointsOptions,
): MarketAnswer {
  if (path === ALERTS_PATH) return alerts(q, o);
  const venue = venueOf(q, o, path === TICKER_PATH);
  if ('error' in venue) return venue.error;
  const symbol = symbolOf(q, o);
  if ('error' in symbol) return symbol.error;
  const s = symbol.value as string;
  if (path === TICKER_PATH) {
    const text = o.current('ticker', venue.value, s);
    return text === undefined ? { status: 204 } : { status: 200, text };
  }
  const v = venue.value as VenueId;
  if (path === BOOK_PATH) {
    const raw = q.get('depth');
    const depth = countOf(raw, o.maxBookDepth, o.defaultBookDepth);
    if (depth === undefined) return error('INVALID_DEPTH', invalidDepthText(Number(raw), o.maxBookDepth));
    const text = o.current('book', v, s, depth);
    return text === undefined ? { status: 204 } : { status: 200, text };
  }
  const limit = countOf(q.get('limit'), MAX_POLLED_ITEMS, DEFAULT_POLLED_ITEMS);
  if (limit === undefined)
    return error('INVALID_LIMIT', `Invalid limit: must be an integer from 1 to ${MAX_POLLED_ITEMS}`);
  return { status: 200, text: o.recentTrades(v, s, limit) };
}

/** The recent feed alerts that pass the filters (account alerts are for authenticated sockets only). */
function alerts(q: URLSearchParams, o: MarketEndpointsOptions): MarketAnswer {
  const severity = q.get('minSeverity') ?? 'info';
  if (!isAlertSeverity(severity)) return error('INVALID_SEVERITY', invalidSeverityText(severity));
  const venue = venueOf(q, o, true);
  if ('error' in venue) return venue.error;
  const symbol = symbolOf(q, o, true);
  if ('error' in symbol) return symbol.error;
  const limit = countOf(q.get('limit'), MAX_POLLED_ITEMS, DEFAULT_POLLED_ITEMS);
  if (limit === undefined)
    return error('INVALID_LIMIT', `Invalid limit: must be an integer from 1 to ${MAX_POLLED_ITEMS}`);
  const filter = {
    minSeverity: severity as AlertSeverity,
    ...(venue.value === undefined ? {} : { venue: venue.value }),
    ...(symbol.value === undefined ? {} : { symbol: symbol.value }),
  };
  const passing = o.recentAlerts().filter((a) => a.account === undefined && alertMatches(a, filter));
  const texts = passing.slice(Math.max(0, passing.length - limit)).map(encodeAlertJson);
  return { status: 200, text: '{"alerts":[' + texts.join(',') + ']}' };
}
