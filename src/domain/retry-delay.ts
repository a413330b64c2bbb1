/**
 * Delay before retry `attempt` (1-based) of something that failed: doubling from `minMs` up to `maxMs`, with ±20%
 * jitter (so that many clients of one service do not retry in step) that never goes above the cap.
 */
export function retryDelay(attempt: number, minMs: number, maxMs: number): number {
  const base = Math.min(minMs * 2 ** Math.min(attempt - 1, 30), maxMs);
  return Math.min(maxMs, Math.round(base * (0.8 + Math.random() * 0.4)));
}
