/**
 * A sliding-window limit: at most `count` events in any `windowMs`. This is how venues state their WebSocket
 * limits (Binance: 5 incoming messages per second; OKX: 480 subscribe requests per hour), so pacing by the same
 * rule cannot trip them, unlike a token bucket whose burst plus refill can exceed the window's count.
 */
export class SlidingWindowLimiter {
  private readonly times: number[];
  private index = 0;

  /**
   * @param count events allowed per window (≥ 1)
   * @param windowMs window length; `marginMs` is added so timer and clock jitter never put one event inside
   */
  constructor(
    readonly count: number,
    readonly windowMs: number,
    private readonly marginMs = 0,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError('limiter count must be an integer ≥ 1');
    if (!(windowMs > 0)) throw new RangeError('limiter window must be positive');
    this.times = new Array<number>(count).fill(Number.NEGATIVE_INFINITY);
  }

  /** Milliseconds until one more event is allowed at `now` (0: allowed now). */
  waitMs(now: number): number {
    const oldest = this.times[this.index] as number;
    return Math.max(0, oldest + this.windowMs + this.marginMs - now);
  }

  /** Records an event at `now`; call only when `waitMs(now)` is 0. */
  record(now: number): void {
    this.times[this.index] = now;
    this.index = (this.index + 1) % this.times.length;
  }
}
