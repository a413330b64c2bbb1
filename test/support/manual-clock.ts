/**
 * Virtual time for tests of anything that takes an injected timer clock (`now`, `setTimeout`, `clearTimeout`:
 * the gateway's TimerClock, the book throttle's ThrottleClock): time moves only when the test advances it, and
 * timers due by then fire in time order, each seeing the clock at its own due time.
 */
export class ManualClock {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;

  constructor(public time = 0) {}

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  /** Moves time forward by `by` ms, firing every timer due on the way. */
  advance(by: number): void {
    this.advanceTo(this.time + by);
  }
  /** Moves time forward to `to` (ms), firing every timer due on the way. */
  advanceTo(to: number): void {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > to) break;
      this.timers.shift();
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = to;
  }
  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.timers.length;
  }
}
