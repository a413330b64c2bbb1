/**
 * How long the page waits before its next poll of an /api/ endpoint. The gateway allows each address 100 /api/
 * requests per 15 minutes by default and says what is left in the RateLimit headers (docs/PROTOCOL.md, "Rate
 * limit of /api/"). The page polls no faster than `minMs`, and spreads what is left of the window so that it
 * takes at most half of it: chart history paging and the account's performance share the same budget.
 */
export interface RateLimitHeaders {
  /** `RateLimit-Remaining`. */
  readonly remaining?: number;
  /** `RateLimit-Reset`, seconds. */
  readonly resetSeconds?: number;
  /** `Retry-After` of a 429, seconds. */
  readonly retryAfterSeconds?: number;
}

export function nextPollDelayMs(minMs: number, limit: RateLimitHeaders): number {
  if (limit.retryAfterSeconds !== undefined) return Math.max(minMs, limit.retryAfterSeconds * 1000);
  if (limit.remaining === undefined || limit.resetSeconds === undefined) return minMs;
  const resetMs = limit.resetSeconds * 1000;
  const ours = Math.floor(limit.remaining / 2);
  if (ours < 1) return Math.max(minMs, resetMs + 1000);
  return Math.max(minMs, Math.ceil(resetMs / ours));
}

/** Reads the headers of a response (absent or malformed ones are left out). */
export function readRateLimit(headers: { get(name: string): string | null }): RateLimitHeaders {
  const number = (name: string): number | undefined => {
    const text = headers.get(name);
    if (text === null || !/^\d+$/.test(text.trim())) return undefined;
    return Number(text);
  };
  const out: { -readonly [K in keyof RateLimitHeaders]: RateLimitHeaders[K] } = {};
  const remaining = number('RateLimit-Remaining');
  const reset = number('RateLimit-Reset');
  const retry = number('Retry-After');
  if (remaining !== undefined) out.remaining = remaining;
  if (reset !== undefined) out.resetSeconds = reset;
  if (retry !== undefined) out.retryAfterSeconds = retry;
  return out;
}
