/**
 * Reconnect delays: exponential backoff with full jitter (AWS's "Exponential Backoff and Jitter"). Each delay is
 * drawn uniformly from [0, min(max, min × 2^attempt)), so clients that lost the gateway together do not come
 * back together and hammer it in waves.
 */
export interface BackoffOptions {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minDelayMs: 500, maxDelayMs: 30_000 };

/** The ceiling of the delay before attempt `attempt` (0 = the first retry): min × 2^attempt, capped at max. */
export function backoffCeiling(attempt: number, options: BackoffOptions): number {
  // 2^attempt overflows to Infinity long after the cap is reached; Math.min keeps it finite.
  return Math.min(options.maxDelayMs, options.minDelayMs * 2 ** Math.max(0, attempt));
}

/** The delay before attempt `attempt`, full jitter: `random()` in [0, 1) scales the ceiling. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}

/** Checks options a user gave; throws a clear error rather than reconnecting in a tight loop. */
export function checkBackoffOptions(options: BackoffOptions): BackoffOptions {
  const { minDelayMs, maxDelayMs } = options;
  if (!Number.isFinite(minDelayMs) || minDelayMs <= 0) {
    throw new RangeError(`reconnect.minDelayMs must be a positive number of ms, got ${String(minDelayMs)}`);
  }
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < minDelayMs) {
    throw new RangeError(
      `reconnect.maxDelayMs must be a number of ms at least minDelayMs (${minDelayMs}), got ${String(maxDelayMs)}`,
    );
  }
  return options;
}
