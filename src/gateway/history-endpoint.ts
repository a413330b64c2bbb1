import { bucketEnd, isInterval } from '../domain/interval.ts';
import type { ErrorCode } from '../domain/errors.ts';
import {
  historyUnavailableText,
  invalidIntervalText,
  invalidSymbolText,
} from '../protocol/client-messages.ts';
import { encodeBar } from '../protocol/server-messages.ts';
import { IncompleteHistoryError, type CandleStore, type StoredCandle } from '../store/candle-store.ts';
import { mainThreadTurns, type TurnBudget } from '../util/turn-budget.ts';
import type { BudgetVerdict } from './history-budget.ts';

/** Path of the candle history endpoint (GET and HEAD). */
export const HISTORY_PATH = '/api/candles';

export interface HistoryRules {
  readonly symbols: readonly string[];
  /** Most bars one request may ask for (`gateway.maxInitialBars`). */
  readonly maxBars: number;
  /** Bars when `limit` is not given. */
  readonly defaultBars: number;
  /** A bar counts as closed once its interval plus this grace has passed. */
  readonly closeGraceMs: number;
}

/** An answer whose body is JSON text already (bars are written with exact decimals). */
export interface HistoryAnswer {
  readonly status: number;
  readonly body: string;
  /** Response headers beyond the content type and length. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Seconds a client is asked to wait (Retry-After) when the history store cannot answer. The gateway cannot know
 * when the database is back; this paces polling clients without keeping a chart empty for long.
 */
export const HISTORY_RETRY_AFTER_SECONDS = 5;

/**
 * Bars encoded in one task of the turn budget (src/util/turn-budget.ts): an answer of thousands of bars encoded
 * in one go would hold the event loop for tens of ms.
 */
const ENCODE_SLICE = 100;

/** A partial answer must not be kept by a cache and served after the database is back. */
const NO_STORE = { 'cache-control': 'no-store' };

function fail(status: number, code: ErrorCode, message: string): HistoryAnswer {
  return { status, body: JSON.stringify({ error: { code, message } }) };
}

/**
 * GET /api/candles?symbol=&interval=&limit=&end= — history of one (symbol, interval), oldest first: up to
 * `limit` bars that start before `end` (ms since the epoch or an ISO 8601 time; default: now, so the bar in
 * progress is included). Pages backwards by passing the first bar's time as the next `end`. Served from the
 * store, which answers the recent window from memory and older bars from the database (docs/PROTOCOL.md).
 *
 * A truncated history is never answered as the whole: when the database fails, the bars memory holds of the
 * window are answered with `"partial": true, "reason": "HISTORY_UNAVAILABLE"`, and when memory holds none of it
 * the answer is 503 HISTORY_UNAVAILABLE with Retry-After. While `historyLoading(symbol)` (start-up history not
 * loaded yet), what the store holds is answered with `"partial": true, "reason": "HISTORY_LOADING"`.
 *
 * A valid request's `limit` is charged to `charge` (the client's history budget) before the store is read; over
 * budget, the answer is 429 HISTORY_BUDGET_EXCEEDED with Retry-After. The bars are encoded under `turns`.
 */
export async function answerHistoryRequest(
  query: URLSearchParams,
  store: CandleStore,
  rules: HistoryRules,
  now: number,
  historyLoading: (symbol: string) => boolean = () => false,
  charge?: (bars: number) => BudgetVerdict,
  turns: TurnBudget = mainThreadTurns,
): Promise<HistoryAnswer> {
  const symbol = query.get('symbol');
  const interval = query.get('interval');
  if (symbol === null || !rules.symbols.includes(symbol)) {
    return fail(400, 'INVALID_SYMBOL', invalidSymbolText(symbol ?? '', rules.symbols));
  }
  if (interval === null || !isInterval(interval)) {
    return fail(400, 'INVALID_INTERVAL', invalidIntervalText(interval ?? ''));
  }
  const limitText = query.get('limit');
  // Plain decimal digits only: Number() would also take "0x10", " 10", "1e2" and "+5".
  const limit = limitText === null ? rules.defaultBars : DIGITS.test(limitText) ? Number(limitText) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > rules.maxBars) {
    return fail(
      400,
      'INVALID_LIMIT',
      `Invalid limit: ${(limitText ?? '').slice(0, 32)}. Must be an integer from 1 to ${rules.maxBars}`,
    );
  }
  const endText = query.get('end');
  const end = endText === null ? undefined : parseTime(endText);
  if (end === null || end === OUT_OF_RANGE) {
    const why =
      end === OUT_OF_RANGE
        ? `Out of the date range: at most ${MAX_TIME_MS} ms (${new Date(MAX_TIME_MS).toISOString()})`
        : 'Use milliseconds since the epoch or an ISO 8601 time';
    return fail(400, 'INVALID_END', `Invalid end: ${(endText ?? '').slice(0, 40)}. ${why}`);
  }
  const verdict = charge?.(limit);
  if (verdict !== undefined && !verdict.ok) {
    return {
      ...fail(429, 'HISTORY_BUDGET_EXCEEDED', verdict.message),
      headers: { 'retry-after': String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))) },
    };
  }
  let bars: StoredCandle[];
  // Judged before the read: history that finishes loading during the read is not taken for read.
  let partial: ErrorCode | null = historyLoading(symbol) ? 'HISTORY_LOADING' : null;
  try {
    bars = await store.recent(symbol, interval, limit, end);
  } catch (err) {
    if (!(err instanceof IncompleteHistoryError) || err.available.length === 0) {
      return {
        ...fail(503, 'HISTORY_UNAVAILABLE', historyUnavailableText(symbol, interval)),
        headers: { 'retry-after': String(HISTORY_RETRY_AFTER_SECONDS), ...NO_STORE },
      };
    }
    bars = err.available;
    partial = 'HISTORY_UNAVAILABLE';
  }
  let body = '{"symbol":' + JSON.stringify(symbol) + ',"interval":"' + interval + '","bars":[';
  await turns.inSlices({}, bars.length, ENCODE_SLICE, (start, end) => {
    for (let i = start; i < end; i++) {
      const b = bars[i] as StoredCandle;
      const closed = now >= bucketEnd(interval, b.bar.time) + rules.closeGraceMs;
      body +=
        (i > 0 ? ',' : '') +
        encodeBar({ bar: b.bar, closed, sources: b.sources, backfilled: b.backfilled === true });
    }
  });
  if (partial === null) return { status: 200, body: body + ']}' };
  return { status: 200, body: body + '],"partial":true,"reason":"' + partial + '"}', headers: NO_STORE };
}

const DIGITS = /^[0-9]+$/;
/** The latest time a JavaScript Date can hold (ECMAScript: 10^8 days after the epoch). */
const MAX_TIME_MS = 8.64e15;
const OUT_OF_RANGE = Symbol('out of range');

/**
 * Milliseconds since the epoch (digits only) or an ISO 8601 time; null when neither, OUT_OF_RANGE for digits past
 * the last time a Date holds (never taken as "now"). An ISO time out of that range does not parse: null.
 */
function parseTime(text: string): number | null | typeof OUT_OF_RANGE {
  if (DIGITS.test(text)) {
    const ms = Number(text);
    return ms <= MAX_TIME_MS ? ms : OUT_OF_RANGE;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}
