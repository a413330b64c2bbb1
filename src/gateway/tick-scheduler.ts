import { systemClock, type Clock, type Timer } from '../util/clock.ts';

/** What the scheduler keeps on each scheduled item (a Room). */
export interface Tickable {
  /** Phase slot, assigned by `assignSlot`. */
  slot: number;
  /** When the item last ticked; -Infinity before the first tick. */
  lastTickAt: number;
  /** Due time while scheduled, else null. */
  dueAt: number | null;
  /** Index of the grid period the item last ticked in (see TickScheduler); -Infinity before the first tick. */
  lastPeriod?: number;
  /** Index of the grid period the scheduled tick belongs to, while scheduled. */
  duePeriod?: number;
}

interface Batch<T> {
  readonly items: Set<T>;
  handle: Timer | undefined;
}

/**
 * Runs each item at most once per period of its own phase grid. Slot s of `slots` has the grid points
 * s × periodMs / slots + k × periodMs; grid period k is the time from grid point k to grid point k + 1. An item
 * ticks at most once in each grid period, and never before the grid point of the period it ticks for: over any
 * n periods at most n + 1 ticks, so at most one per period on average. This is the throttle's promise.
 *
 * A timer that fires late (a busy event loop) still ticks for the period it was due in, and the next tick is due
 * at the next grid point: a late timer never costs a period, so a room whose data changes every period sends one
 * update every period. Two ticks are then closer than a period (a tick 120 ms late is followed 880 ms later).
 *
 * Items due at the same moment run in one batch (one timer, one synchronous call), which lets a client's
 * messages from several rooms leave in one socket write; `assignSlot` with a key gives every item of that key
 * (the rooms of one symbol) the same slot, so they stay on the same grid and tick together.
 *
 * Work arriving at an idle item within one slot width after its grid point runs at once (still its phase);
 * later work waits for the next grid point, so that items keep their phase and their batches.
 */
export class TickScheduler<T extends Tickable> {
  private readonly batches = new Map<number, Batch<T>>();
  private nextSlot = 0;
  /** Slot of each key given to `assignSlot`, kept so that every item of a key lands on the same grid. */
  private readonly slotOfKey = new Map<string, number>();

  constructor(
    private readonly periodMs: number,
    private readonly slots: number,
    private readonly run: (items: readonly T[], now: number) => void,
    private readonly hasWork: (item: T) => boolean,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Gives a new item its phase slot: the slot of `key` when given (one slot per key, keys spread round robin),
   * else the next slot, round robin, so consecutive items are evenly spread.
   */
  assignSlot(item: T, key?: string): void {
    if (key !== undefined) {
      const known = this.slotOfKey.get(key);
      if (known !== undefined) {
        item.slot = known;
        return;
      }
    }
    item.slot = this.nextSlot;
    this.nextSlot = (this.nextSlot + 1) % Math.max(1, this.slots);
    if (key !== undefined) this.slotOfKey.set(key, item.slot);
  }

  /** Makes sure the item ticks at its next allowed moment; no-op when already scheduled. */
  schedule(item: T): void {
    if (item.dueAt !== null) return;
    const now = this.clock.now();
    const { at, period } = this.next(item, now);
    item.dueAt = at;
    item.duePeriod = period;
    let batch = this.batches.get(at);
    if (!batch) {
      const created: Batch<T> = { items: new Set(), handle: undefined };
      created.handle = this.clock.setTimeout(() => this.fire(at), Math.max(0, at - now));
      this.batches.set(at, created);
      batch = created;
    }
    batch.items.add(item);
  }

  /** Removes the item from its pending batch (a room that lost its last member). */
  cancel(item: T): void {
    const due = item.dueAt;
    if (due === null) return;
    item.dueAt = null;
    const batch = this.batches.get(due);
    if (!batch) return;
    batch.items.delete(item);
    if (batch.items.size === 0) {
      this.clock.clearTimer(batch.handle);
      this.batches.delete(due);
    }
  }

  /** Stops every timer. */
  stop(): void {
    for (const batch of this.batches.values()) {
      this.clock.clearTimer(batch.handle);
      for (const item of batch.items) item.dueAt = null;
    }
    this.batches.clear();
  }

  /** Earliest allowed moment on or after `now` for the item. */
  dueTime(item: T, now: number): number {
    return this.next(item, now).at;
  }

  /** When the item may tick next, and the grid period that tick belongs to. */
  private next(item: T, now: number): { at: number; period: number } {
    if (this.periodMs === 0) return { at: Math.ceil(now), period: 0 };
    const last = item.lastPeriod ?? Number.NEGATIVE_INFINITY;
    const offset = (item.slot * this.periodMs) / Math.max(1, this.slots);
    const k = Math.floor((now - offset) / this.periodMs);
    const gridPoint = k * this.periodMs + offset;
    // Within one slot width after its grid point, and that period not used yet: still this phase, go now.
    const slack = this.periodMs / Math.max(1, this.slots);
    if (k > last && now - gridPoint <= slack) return { at: Math.ceil(now), period: k };
    const period = Math.max(k, last) + 1;
    return { at: Math.ceil(period * this.periodMs + offset), period };
  }

  private fire(due: number): void {
    const batch = this.batches.get(due);
    if (!batch) return;
    const now = this.clock.now();
    if (now < due) {
      // Timers may fire a millisecond early; the throttle is a promise, so wait out the rest.
      batch.handle = this.clock.setTimeout(() => this.fire(due), due - now);
      return;
    }
    this.batches.delete(due);
    const items = [...batch.items];
    for (const item of items) {
      item.dueAt = null;
      item.lastTickAt = now;
      // The tick counts for the period it was due in, however late the timer fired.
      item.lastPeriod = item.duePeriod ?? 0;
    }
    this.run(items, now);
    for (const item of items) if (this.hasWork(item)) this.schedule(item);
  }
}
