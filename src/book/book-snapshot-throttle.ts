import type { BookLevel } from '../domain/book.ts';
import type { VenueId } from '../domain/instrument.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import type { OrderBook } from './order-book.ts';

/**
 * The best levels of one book at one moment, as the ingest side hands them on (same shape as the bus's
 * BookSnapshot, src/bus/market-message.ts, so it can be encoded as is).
 */
export interface BookTopSnapshot {
  readonly venue: VenueId;
  readonly symbol: string;
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
  readonly seq?: number | undefined;
  readonly time: number;
  readonly receivedAt: number;
}

export interface BookSnapshotThrottleOptions {
  /** Minimum spacing of two snapshots of one book, ms (default 100). */
  readonly intervalMs?: number;
  /** Levels per side in a snapshot (default 50). */
  readonly levels?: number;
  /**
   * How late a trailing snapshot may leave so that it leaves together with other books', ms (default 0): the
   * trailing snapshots of all books share one timer, which fires when the last of the books due within this much
   * after the first one is due, and sends them all. Books that went out together are due together again, so their
   * snapshots keep sharing a turn of the event loop instead of each waking it.
   */
  readonly slackMs?: number;
  /** Time and the trailing-snapshot timers. Default the system clock. */
  readonly clock?: Clock;
}

interface Pending {
  readonly book: OrderBook;
  lastAt: number;
  /** When its trailing snapshot is due (lastAt + intervalMs), while one is waiting; else undefined. */
  dueAt: number | undefined;
}

/**
 * Turns a stream of book changes into top-N snapshots, at most one per book every `intervalMs`: the first change
 * after a quiet period is emitted at once, later ones are merged into one trailing snapshot of the newest state.
 * Nothing is copied until a snapshot is due.
 */
export class BookSnapshotThrottle {
  private readonly intervalMs: number;
  private readonly levels: number;
  private readonly clock: Clock;
  private readonly slackMs: number;
  /** By the book itself: a change (up to hundreds a second) then builds no key string. */
  private readonly books = new Map<OrderBook, Pending>();
  /** Books whose trailing snapshot is waiting. */
  private readonly waiting = new Set<Pending>();
  /** The one timer of the trailing snapshots, and when it fires. */
  private timer: Timer | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly emit: (snapshot: BookTopSnapshot) => void,
    options: BookSnapshotThrottleOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    this.levels = options.levels ?? 50;
    this.clock = options.clock ?? systemClock;
    this.slackMs = options.slackMs ?? 0;
  }

  /** The book changed (a BookSync `applied` result): emit now or schedule the trailing snapshot. */
  changed(book: OrderBook): void {
    let p = this.books.get(book);
    if (p === undefined) {
      p = { book, lastAt: Number.NEGATIVE_INFINITY, dueAt: undefined };
      this.books.set(book, p);
    }
    if (p.dueAt !== undefined) return;
    const now = this.clock.now();
    const dueAt = p.lastAt + this.intervalMs;
    if (dueAt <= now) {
      this.fire(p, now);
      return;
    }
    p.dueAt = dueAt;
    this.waiting.add(p);
    this.scheduleNext();
  }

  /** Drops a book's pending snapshot (unsubscribed, or discarded for a resync). */
  forget(venue: string, symbol: string): void {
    for (const [book, p] of this.books) {
      if (book.venue !== venue || book.symbol !== symbol) continue;
      this.waiting.delete(p);
      this.books.delete(book);
    }
    this.scheduleNext();
  }

  /** Cancels every pending snapshot. */
  close(): void {
    this.schedule(Number.POSITIVE_INFINITY);
    this.waiting.clear();
    this.books.clear();
  }

  /**
   * Sets the timer for the next group of trailing snapshots: the first one due and those due within the slack
   * after it, all sent when the last of them is due. Nothing waiting: no timer.
   */
  private scheduleNext(): void {
    let first = Number.POSITIVE_INFINITY;
    for (const p of this.waiting) first = Math.min(first, p.dueAt as number);
    let at = first;
    for (const p of this.waiting) {
      const dueAt = p.dueAt as number;
      if (dueAt > at && dueAt <= first + this.slackMs) at = dueAt;
    }
    if (at !== this.timerAt) this.schedule(at);
  }

  /** Sets the trailing snapshots' timer to fire at `at` (none for infinity). */
  private schedule(at: number): void {
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Number.POSITIVE_INFINITY) return;
    this.timer = this.clock.setTimeout(() => this.fireDue(), Math.max(0, at - this.clock.now()));
    // A snapshot still due at shutdown is of no use: it must not keep the process alive.
    this.timer.unref();
  }

  /** Emits every waiting snapshot due by now, then sets the timer for the next group. */
  private fireDue(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (const p of this.waiting) {
      if ((p.dueAt as number) > now) continue;
      this.waiting.delete(p);
      p.dueAt = undefined;
      this.fire(p, now);
    }
    this.scheduleNext();
  }

  private fire(p: Pending, now: number): void {
    p.lastAt = now;
    this.emit(topSnapshot(p.book, this.levels));
  }
}

/** The best `levels` levels a side of `book` now, with its sequence and times. */
export function topSnapshot(book: OrderBook, levels: number): BookTopSnapshot {
  const top = book.top(levels);
  return {
    venue: book.venue,
    symbol: book.symbol,
    bids: top.bids,
    asks: top.asks,
    seq: book.seq,
    time: book.time,
    receivedAt: book.receivedAt,
  };
}
