import type { Clock, Timer } from '../util/clock.ts';

/** How often the loop is checked, ms. */
const CHECK_MS = 100;
/** How long after a stall ended the frames read since still count as sent during it, ms. */
const RECENT_MS = 1000;

/**
 * Event-loop stalls, measured with the clock: a check is due every CHECK_MS, and a check that runs later than
 * that means the loop ran nothing else meanwhile, so no socket was read either. Frames a client sent during a
 * stall are all read when it ends and look like a burst: the rate limit credits the stalled time to the client
 * (src/gateway/rate-limiter.ts). A stall still under way (frames read before the late check ran) counts from
 * the check that should have run.
 */
export class LoopStalls {
  private lastCheck: number;
  /** Stalls that ended within RECENT_MS of the last check, oldest first. */
  private stalls: { readonly ms: number; readonly endedAt: number }[] = [];
  private readonly timer: Timer;

  constructor(private readonly clock: Clock) {
    this.lastCheck = clock.now();
    this.timer = clock.setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  /**
   * Stalled time that ended within the last second before `now`, plus a stall still under way, ms: what a rate limit
   * does not charge to a client.
   */
  recentStallMs(now: number): number {
    let ms = Math.max(0, now - this.lastCheck - CHECK_MS);
    for (const stall of this.stalls) if (now - stall.endedAt <= RECENT_MS) ms += stall.ms;
    return ms;
  }

  stop(): void {
    this.clock.clearTimer(this.timer);
  }

  private check(): void {
    const now = this.clock.now();
    const late = now - this.lastCheck - CHECK_MS;
    this.lastCheck = now;
    if (this.stalls.length > 0) this.stalls = this.stalls.filter((s) => now - s.endedAt <= RECENT_MS);
    if (late > 0) this.stalls.push({ ms: late, endedAt: now });
  }
}
