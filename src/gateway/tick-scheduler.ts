import { systemClock, type Clock, type Timer } from '../util/clock.ts';

/** What the scheduler keeps on each scheduled item (a room). */
export interface Tickable {
  /** Due time while scheduled (a timed tick), IMMEDIATE while waiting for the current turn's batch, else null. */
  dueAt: number | null;
  /**
   * The throttle's account: the time up to which the ticks so far are paid for at one per period (a tick at t
   * moves it to max(paidUntil, t) + period, or max(paidUntil, t − period) + period with catch-up); -Infinity
   * before the first tick.
   */
  paidUntil: number;
  /** When the item last ticked; -Infinity before the first tick. */
  lastTickAt: number;
}

/** `dueAt` of an item that ticks in the batch of the current event-loop turn. */
export const IMMEDIATE = -1;

interface Batch<T> {
  readonly items: Set<T>;
  handle: Timer | undefined;
}

/**
 * A leading-edge throttle: an item with work ticks at once when it has not ticked for a while, otherwise as soon
 * as its throttle allows, and the newest state it holds by then is what leaves (the item conflates).
 *
 * The rule: an item may tick at t when t >= paidUntil − period (a generic cell rate algorithm with a tolerance of
 * one period) and t >= its last tick + period / 2; a tick at t moves paidUntil to max(paidUntil, t) + period.
 * Hence two ticks are never closer than half a period, and over any n periods there are at most n + 1 ticks, so
 * at most one per period on average: the throttle's promise. Data that changes faster than once a period is sent
 * once a period, the newest state each time. The tolerance absorbs jitter: data that changes once a period,
 * delivered early or late (a busy bus or event loop, a late timer; up to a period), is sent the moment it
 * arrives, each change on its own, never merged with the next.
 *
 * Catch-up (`catchUp`): a tick at t moves paidUntil to max(paidUntil, t − period) + period instead, so a tick up
 * to a period late pays for the period it was due in, not from the moment it ran. Without it a stall stays in
 * the account for as long as the data keeps changing once a period: after two changes arrive within half a
 * period of each other (a stall), every later change waits for the account, until the data pauses. With it the
 * item is back on the data's schedule a period or two after the stall. The price: over any n periods at most
 * n + 2 ticks (a burst of data after a pause can tick four times in its first two periods); still never two
 * within half a period, and one per period on average.
 *
 * Items made ready in one event-loop turn tick in one batch (one zero-delay timer, one synchronous call), and so
 * do items due at the same time: a client's messages of one batch leave in one socket write. The rooms of one
 * symbol change together (one trade updates every interval), so they are made ready together, pay the same, and
 * stay in one batch.
 */
export class TickScheduler<T extends Tickable> {
  /** Items due at a later time, by due time (ms). */
  private readonly timed = new Map<number, Batch<T>>();
  /** Items that tick in this turn's batch. */
  private immediate: Batch<T> | undefined;

  constructor(
    private readonly periodMs: number,
    private readonly run: (items: readonly T[], now: number) => void,
    private readonly hasWork: (item: T) => boolean,
    private readonly clock: Clock = systemClock,
    /** Catch-up (see above): a tick up to a period late does not carry its lateness forward. */
    private readonly catchUp = false,
  ) {}

  /** Makes sure the item ticks at its next allowed moment; no-op when already scheduled. */
  schedule(item: T): void {
    if (item.dueAt !== null) return;
    const now = this.clock.now();
    const allowedAt = this.allowedAt(item);
    if (now >= allowedAt) {
      item.dueAt = IMMEDIATE;
      let batch = this.immediate;
      if (!batch) {
        const created: Batch<T> = { items: new Set(), handle: undefined };
        created.handle = this.clock.setTimeout(() => this.fireImmediate(created), 0);
        this.immediate = created;
        batch = created;
      }
      batch.items.add(item);
      return;
    }
    const at = Math.ceil(allowedAt);
    item.dueAt = at;
    let batch = this.timed.get(at);
    if (!batch) {
      const created: Batch<T> = { items: new Set(), handle: undefined };
      created.handle = this.clock.setTimeout(() => this.fireTimed(at), at - now);
      this.timed.set(at, created);
      batch = created;
    }
    batch.items.add(item);
  }

  /** Removes the item from its pending batch (a room that lost its last member). */
  cancel(item: T): void {
    const due = item.dueAt;
    if (due === null) return;
    item.dueAt = null;
    if (due === IMMEDIATE) {
      const batch = this.immediate;
      if (!batch) return;
      batch.items.delete(item);
      if (batch.items.size === 0) {
        this.clock.clearTimer(batch.handle);
        this.immediate = undefined;
      }
      return;
    }
    const batch = this.timed.get(due);
    if (!batch) return;
    batch.items.delete(item);
    if (batch.items.size === 0) {
      this.clock.clearTimer(batch.handle);
      this.timed.delete(due);
    }
  }

  /** Stops every timer. */
  stop(): void {
    const batches = [...this.timed.values()];
    if (this.immediate) batches.push(this.immediate);
    for (const batch of batches) {
      this.clock.clearTimer(batch.handle);
      for (const item of batch.items) item.dueAt = null;
    }
    this.timed.clear();
    this.immediate = undefined;
  }

  /** Earliest moment the item may tick. */
  allowedAt(item: T): number {
    if (this.periodMs === 0) return Number.NEGATIVE_INFINITY;
    return Math.max(item.paidUntil - this.periodMs, item.lastTickAt + this.periodMs / 2);
  }

  private fireImmediate(batch: Batch<T>): void {
    if (this.immediate !== batch) return;
    this.immediate = undefined;
    this.runBatch(batch);
  }

  private fireTimed(due: number): void {
    const batch = this.timed.get(due);
    if (!batch) return;
    const now = this.clock.now();
    if (now < due) {
      // Timers may fire a millisecond early; the throttle is a promise, so wait out the rest.
      batch.handle = this.clock.setTimeout(() => this.fireTimed(due), due - now);
      return;
    }
    this.timed.delete(due);
    this.runBatch(batch);
  }

  private runBatch(batch: Batch<T>): void {
    const now = this.clock.now();
    const items = [...batch.items];
    for (const item of items) {
      item.dueAt = null;
      item.lastTickAt = now;
      // A late tick (up to the tolerance) pays from where the account stood, so it costs the next one nothing;
      // with catch-up, a tick up to a period late pays for the period it was due in (lateness not carried on).
      const from = this.catchUp ? now - this.periodMs : now;
      item.paidUntil = Math.max(item.paidUntil, from) + this.periodMs;
    }
    this.run(items, now);
    for (const item of items) if (this.hasWork(item)) this.schedule(item);
  }
}
