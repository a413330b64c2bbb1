/**
 * Paces requests to the gateway's `/api/` routes by the RateLimit header fields it sends (docs/PROTOCOL.md,
 * "Rate limit of /api/": 100 requests per 15 minutes per client address by default). After each answer it knows
 * how many requests are left in the window and when the window ends, and spreads the rest evenly over it, so a
 * polling client never runs into the 429 and is never starved at the end of a window. A 429 waits `Retry-After`.
 */
export interface RateLimitInfo {
  readonly remaining: number;
  /** Seconds until the window ends. */
  readonly resetSeconds: number;
}

export function readRateLimit(headers: { get(name: string): string | null }): RateLimitInfo | undefined {
  const remaining = Number(headers.get('ratelimit-remaining'));
  const reset = Number(headers.get('ratelimit-reset'));
  if (headers.get('ratelimit-remaining') === null || !Number.isFinite(remaining) || !Number.isFinite(reset)) {
    return undefined;
  }
  return { remaining, resetSeconds: reset };
}

export class RateLimitPacer {
  /** The earliest time (ms since the epoch) the next request may go. */
  private notBefore = 0;

  /** When the next request may go, given the time now. */
  nextAt(now: number): number {
    return Math.max(now, this.notBefore);
  }

  /** Records an answer: its RateLimit fields spread the window's remaining requests evenly over what is left of it. */
  answered(now: number, status: number, headers: { get(name: string): string | null }): void {
    if (status === 429) {
      const retryAfter = Number(headers.get('retry-after'));
      this.notBefore = now + (Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 60) * 1000;
      return;
    }
    const info = readRateLimit(headers);
    if (info === undefined) return;
    const windowLeftMs = Math.max(0, info.resetSeconds) * 1000;
    this.notBefore =
      info.remaining <= 0 ? now + windowLeftMs : now + Math.floor(windowLeftMs / (info.remaining + 1));
  }
}
