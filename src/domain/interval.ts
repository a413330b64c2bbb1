/**
 * Candle intervals and their UTC bucket arithmetic.
 *
 * Buckets follow the exchanges: minutes, hours, 4h and days align to UTC midnight; weeks start on Monday 00:00 UTC.
 */
export const INTERVALS = ['1m', '5m', '15m', '1h', '4h', '1D', '1W'] as const;
export type Interval = (typeof INTERVALS)[number];

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;
/** 1970-01-01 was a Thursday; the first Monday 00:00 UTC after the epoch is four days later. */
const WEEK_ORIGIN_MS = 4 * DAY_MS;

export const INTERVAL_MS: Readonly<Record<Interval, number>> = {
  '1m': MINUTE_MS,
  '5m': 5 * MINUTE_MS,
  '15m': 15 * MINUTE_MS,
  '1h': 60 * MINUTE_MS,
  '4h': 240 * MINUTE_MS,
  '1D': DAY_MS,
  '1W': WEEK_MS,
};

export function isInterval(value: unknown): value is Interval {
  return typeof value === 'string' && (INTERVALS as readonly string[]).includes(value);
}

/** Start (ms, UTC) of the bucket of `interval` that contains `timeMs`. */
export function bucketStart(interval: Interval, timeMs: number): number {
  const size = INTERVAL_MS[interval];
  const origin = interval === '1W' ? WEEK_ORIGIN_MS : 0;
  return Math.floor((timeMs - origin) / size) * size + origin;
}

/** First millisecond after the bucket that starts at `startMs`. */
export function bucketEnd(interval: Interval, startMs: number): number {
  return startMs + INTERVAL_MS[interval];
}

/** Parses a comma-separated list such as "1m,5m,1h"; throws with the list of valid names. */
export function parseIntervalList(text: string): Interval[] {
  const out: Interval[] = [];
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!isInterval(name)) throw new Error(`invalid interval "${name}"; valid: ${INTERVALS.join(', ')}`);
    if (!out.includes(name)) out.push(name);
  }
  if (out.length === 0) throw new Error(`no interval given; valid: ${INTERVALS.join(', ')}`);
  return out;
}
