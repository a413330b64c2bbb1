/** What to do with one incoming message. */
export type RateVerdict = 'ok' | 'limited' | 'ignored' | 'flooding';

/**
 * Per-connection message limit over fixed one-second windows. Within a window the first `max` messages are
 * `ok`; the next one is `limited` (answer once with RATE_LIMITED); further ones are `ignored`; a connection
 * that sends more than twice `max` in one window is `flooding` and gets closed.
 */
export class RateLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private count = 0;

  constructor(
    private readonly max: number,
    private readonly windowMs = 1000,
  ) {}

  hit(now: number): RateVerdict {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count++;
    if (this.count <= this.max) return 'ok';
    if (this.count === this.max + 1) return 'limited';
    if (this.count > 2 * this.max) return 'flooding';
    return 'ignored';
  }
}
