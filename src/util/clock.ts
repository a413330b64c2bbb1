/**
 * Time, injectable: every stage that reads the time or sets a timer takes a `Clock`, so that tests move time by
 * hand (`ManualClock`) instead of sleeping, and a slow machine cannot fail them.
 */

/** A pending timer. `unref()` lets the process exit while it is pending (a no-op on a manual clock). */
export interface Timer {
  unref(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  setInterval(fn: () => void, ms: number): Timer;
  /** Cancels a timeout or an interval; undefined is ignored. */
  clearTimer(timer: Timer | undefined): void;
}

/** The process's real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};

interface ManualTimer extends Timer {
  at: number;
  readonly every: number | null;
  readonly fn: () => void;
  readonly id: number;
}

/**
 * Virtual time: it moves only when `advance`/`advanceTo` is called, and the timers due by then fire in time order
 * (ties in the order they were set), each seeing the clock at its own due time. Intervals fire once per period
 * passed.
 */
export class ManualClock implements Clock {
  private timers: ManualTimer[] = [];
  private ids = 0;

  constructor(public time = 0) {}

  /** An arrow, so that `clock.now` can be passed on detached. */
  readonly now = (): number => this.time;

  setTimeout(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimer(timer: Timer | undefined): void {
    if (timer === undefined) return;
    this.timers = this.timers.filter((t) => t !== timer);
  }

  /** Moves time forward by `by` ms, firing every timer due on the way. */
  advance(by: number): void {
    this.advanceTo(this.time + by);
  }

  /** Moves time forward to `to` (ms since the epoch), firing every timer due on the way. */
  advanceTo(to: number): void {
    for (;;) {
      const next = this.nextDue();
      if (next === undefined || next.at > to) break;
      this.time = Math.max(this.time, next.at);
      if (next.every === null) this.timers = this.timers.filter((t) => t !== next);
      else next.at += next.every;
      next.fn();
    }
    this.time = Math.max(this.time, to);
  }

  /**
   * A blocked event loop: time moves on by `ms` while no timer can fire, then `backlog` runs at the end of the
   * block (what a process reads first when its loop runs again: the bus's and the sockets' messages that piled up
   * meanwhile), and only then does every timer due by now fire, late, in time order. An interval fires once for
   * the block, as a real one does.
   */
  block(ms: number, backlog: () => void = () => {}): void {
    this.time += Math.max(0, ms);
    backlog();
    for (const t of this.timers) if (t.every !== null && t.at < this.time) t.at = this.time;
    this.advanceTo(this.time);
  }

  /** Timers set and not yet fired or cleared (intervals count until cleared). */
  get pending(): number {
    return this.timers.length;
  }

  private add(fn: () => void, ms: number, every: number | null): Timer {
    const timer: ManualTimer = {
      at: this.time + Math.max(0, ms),
      every,
      fn,
      id: ++this.ids,
      unref: () => {},
    };
    this.timers.push(timer);
    return timer;
  }

  private nextDue(): ManualTimer | undefined {
    let next: ManualTimer | undefined;
    for (const t of this.timers)
      if (next === undefined || t.at < next.at || (t.at === next.at && t.id < next.id)) next = t;
    return next;
  }
}
