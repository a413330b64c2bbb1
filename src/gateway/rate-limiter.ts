/** What to do with one incoming message. */
export type RateVerdict = 'ok' | 'limited' | 'ignored' | 'flooding';

/**
 * Per-connection message limit: a token bucket that fills at `max` messages per second and holds at most `max`
 * (the burst: one second's worth). A message that finds a token is `ok`. One that does not is refused: the first
 * refused message in a second is `limited` (answer once with RATE_LIMITED), the others `ignored`. Refused
 * messages fill a second bucket that drains at `max` per second; when it holds more than `max` (over twice the
 * limit within about a second) the connection is `flooding` and gets closed (4029).
 *
 * Arrival times are all the limiter sees, and a server stall bunches them: frames a client sent spread out while
 * the event loop was blocked are read together when it resumes. So the time the server itself was stalled
 * (measured by src/gateway/loop-stalls.ts and passed to `hit`) is not taken from the client: for a second after a
 * stall the bucket may hold the burst plus `max` per second of stall, exactly what a client within the limit can
 * have sent meanwhile. A real flood is still refused and closed: it sends far more than the limit allows over
 * the stall.
 */
export class RateLimiter {
  /** Tokens, in units of 1/windowMs of a message, so that whole-millisecond times keep exact integer sums. */
  private tokens: number;
  /** Refused messages, in the same units. */
  private refused = 0;
  private last = Number.NEGATIVE_INFINITY;
  private lastLimitedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly max: number,
    private readonly windowMs = 1000,
  ) {
    this.tokens = max * windowMs;
  }

  /**
   * One message read at `now`. `stalledMs`: how long the server was recently stalled (LoopStalls.recentStallMs),
   * time the client is not charged for.
   */
  hit(now: number, stalledMs = 0): RateVerdict {
    const { max, windowMs } = this;
    // A stall's credit lasts while the stall is recent; past that the bucket holds the burst again.
    const capacity = max * windowMs + max * stalledMs;
    // A connection's first message finds the bucket full: it had sent nothing before.
    const elapsed = this.last === Number.NEGATIVE_INFINITY ? capacity / max : Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.tokens + elapsed * max, capacity);
    this.refused = Math.max(0, this.refused - elapsed * max);
    if (this.tokens >= windowMs) {
      this.tokens -= windowMs;
      return 'ok';
    }
    this.refused += windowMs;
    if (this.refused > max * windowMs) return 'flooding';
    if (now - this.lastLimitedAt >= windowMs) {
      this.lastLimitedAt = now;
      return 'limited';
    }
    return 'ignored';
  }
}
