/**
 * The catalogue of Tickwire's stable error codes. Every error a client, an operator or a log reader sees carries
 * one of these codes; docs/ERRORS.md lists them with their meaning. `retryable` says whether trying the same thing
 * again later can succeed.
 */
export const ERROR_CODES = {
  INVALID_MESSAGE: { retryable: false, summary: 'message is not valid JSON or not a known message shape' },
  INVALID_INTERVAL: { retryable: false, summary: 'interval is not one of 1m, 5m, 15m, 1h, 4h, 1D, 1W' },
  INVALID_SYMBOL: { retryable: false, summary: 'symbol is not a configured instrument' },
  INVALID_INITIAL_BARS: {
    retryable: false,
    summary: 'initialBars is not an integer within the documented range',
  },
  INVALID_CHANNEL: {
    retryable: false,
    summary: 'channel is not one of candles, trades, ticker, book, alerts',
  },
  INVALID_VENUE: { retryable: false, summary: 'venue is missing or not a configured venue' },
  INVALID_DEPTH: { retryable: false, summary: 'book depth is not an integer within the documented range' },
  INVALID_SEVERITY: {
    retryable: false,
    summary: 'minSeverity of an alerts subscribe is not info, warning, critical',
  },
  TOO_MANY_SUBSCRIPTIONS: {
    retryable: false,
    summary: 'the connection holds the maximum number of subscriptions',
  },
  RATE_LIMITED: { retryable: true, summary: 'too many messages from this connection; slow down' },
  API_RATE_LIMITED: {
    retryable: true,
    summary: 'too many /api/ requests from this client address in the window; retry after Retry-After',
  },
  AUTH_REQUIRED: {
    retryable: false,
    summary: 'a private (account) channel or endpoint was asked for without a token',
  },
  AUTH_INVALID: {
    retryable: false,
    summary: 'the token is malformed, wrongly signed, unknown, or names no configured account',
  },
  AUTH_EXPIRED: { retryable: false, summary: 'the token has expired; get a new one' },
  ACCOUNT_FORBIDDEN: { retryable: false, summary: 'the token is valid but for another account' },
  ACCOUNTS_UNAVAILABLE: {
    retryable: false,
    summary: 'this gateway serves no accounts (none configured, or no token secret nor static tokens)',
  },
  INVALID_RANGE: { retryable: false, summary: 'from/to of an account history request is not a valid time' },
  ORIGIN_NOT_ALLOWED: {
    retryable: false,
    summary: 'the browser origin of a WebSocket upgrade is not in gateway.allowedOrigins (HTTP 403)',
  },
  TOO_MANY_CONNECTIONS: {
    retryable: true,
    summary:
      'a WebSocket upgrade over the connection limit, per client address (HTTP 429) or in total (HTTP 503)',
  },
  HISTORY_BUDGET_EXCEEDED: {
    retryable: true,
    summary: 'more history bars per second than the connection or client address may read; retry later',
  },
  INVALID_LIMIT: { retryable: false, summary: 'history limit is not an integer within the documented range' },
  INVALID_LEVEL: { retryable: false, summary: 'GET /api/logs level is not warn, error or fatal' },
  INVALID_END: {
    retryable: false,
    summary: 'history end is neither milliseconds since the epoch nor ISO 8601',
  },
  HISTORY_UNAVAILABLE: { retryable: true, summary: 'history could not be read; the live stream continues' },
  HISTORY_LOADING: {
    retryable: true,
    summary:
      'the instrument’s history is still loading at start-up; the whole history follows once it has loaded',
  },
  CONFIG_INVALID: { retryable: false, summary: 'configuration file or environment variable is invalid' },
  INPUT_INVALID: { retryable: false, summary: 'a trades input row could not be parsed' },
  VENUE_UNREACHABLE: { retryable: true, summary: 'the venue did not answer (connect, timeout, 5xx)' },
  VENUE_RATE_LIMITED: { retryable: true, summary: 'the venue answered 429/418; waiting for Retry-After' },
  BOOK_OUT_OF_SYNC: {
    retryable: true,
    summary: 'an order book failed its sequence or checksum rule and is being rebuilt from a fresh snapshot',
  },
  VENUE_REJECTED: { retryable: false, summary: 'the venue rejected a request (bad symbol, bad parameter)' },
  STORE_UNAVAILABLE: {
    retryable: true,
    summary: 'the candle store could not be opened (database unreachable, data directory locked or unusable)',
  },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error that carries a catalogue code. */
export class TickwireError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TickwireError';
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }
}
