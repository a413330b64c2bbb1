/**
 * The one backoff every retry loop uses (socket reconnects, refused subscriptions, REST retries, history loads,
 * Redis reconnects, store retries): the delay doubles per attempt from `minMs` up to `maxMs`, with jitter so that
 * many clients of one service do not retry in step.
 */
export interface BackoffPolicy {
  readonly minMs: number;
  readonly maxMs: number;
  /**
   * `full`: uniform in [1, ceiling) (AWS "full jitter"; the widest spread, for reconnects to a shared server);
   * `proportional`: the ceiling ±20%, never above `maxMs` (the delay stays close to the doubling);
   * `none`: the ceiling itself.
   */
  readonly jitter: 'full' | 'proportional' | 'none';
}

/** Delay before retry `attempt` (1-based: the first retry waits about `minMs`). `random` is injectable for tests. */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const { minMs, maxMs } = policy;
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  switch (policy.jitter) {
    case 'full':
      return Math.max(1, Math.floor(random() * ceiling));
    case 'proportional':
      return Math.min(maxMs, Math.round(ceiling * (0.8 + random() * 0.4)));
    case 'none':
      return ceiling;
  }
}
