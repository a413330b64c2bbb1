import { systemClock, type Clock, type Timer } from '../util/clock.ts';

/** What the scheduler keeps on each scheduled item (a Room). */
export interface Tickable {
  /** Phase slot, assigned by `assignSlot`. */
  slot: number;
  /** When the item last ticked; -Infinity before the first tick. */
  lastTickAt: number;
  /** Due time while scheduled, else null. */
  dueAt: number | null;
}

interface Batch<T> {
  readonly items: Set<T>;
  handle: Timer | undefined;
}

/**
 * Runs each item at most once per `periodMs`, on its own phase of the period: slot s of `slots` ticks at
 * s × periodMs / slots past each period boundary, so rooms spread over the second instead of firing together.
 * Items due at the same moment run in one batch (one timer, one synchronous call), which lets a client's
 * messages from several rooms leave in one socket write.
 *
 * A tick that fires late does not cost a period: the next one is due a full period after the late tick, and the
 * phase comes back once the item goes idle. The spacing between two ticks of one item is never below periodMs.
 */
export class TickScheduler<T extends Tickable> {
  private readonly batches = new Map<number, Batch<T>>();
  private nextSlot = 0;

  constructor(
    private readonly periodMs: number,
    private readonly slots: number,
    private readonly run: (items: readonly T[], now: number) => void,
    private readonly hasWork: (item: T) => boolean,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Gives a new item the next phase slot, round robin, so consecutive rooms are evenly spread. */
  assignSlot(item: T): void {
    item.slot = this.nextSlot;
    this.nextSlot = (this.nextSlot + 1) % Math.max(1, this.slots);
  }

  /** Makes sure the item ticks at its next allowed moment; no-op when already scheduled. */
  schedule(item: T): void {
    if (item.dueAt !== null) return;
    const due = this.dueTime(item, this.clock.now());
    item.dueAt = due;
    let batch = this.batches.get(due);
    if (!batch) {
      const created: Batch<T> = { items: new Set(), handle: undefined };
      created.handle = this.clock.setTimeout(() => this.fire(due), Math.max(0, due - this.clock.now()));
      this.batches.set(due, created);
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
    const earliest = Math.max(now, item.lastTickAt + this.periodMs);
    if (this.periodMs === 0) return Math.ceil(earliest);
    const offset = (item.slot * this.periodMs) / Math.max(1, this.slots);
    const k = Math.floor((earliest - offset) / this.periodMs);
    const gridBefore = k * this.periodMs + offset;
    // Within one slot width after its grid point: still this phase, go now rather than wait a whole period.
    const slack = this.periodMs / Math.max(1, this.slots);
    if (earliest - gridBefore <= slack) return Math.ceil(earliest);
    return Math.ceil(gridBefore + this.periodMs);
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
    }
    this.run(items, now);
    for (const item of items) if (this.hasWork(item)) this.schedule(item);
  }
}
