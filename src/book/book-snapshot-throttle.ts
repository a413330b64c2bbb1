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
  /** Time and the trailing-snapshot timers. Default the system clock. */
  readonly clock?: Clock;
}

interface Pending {
  readonly book: OrderBook;
  lastAt: number;
  timer: Timer | undefined;
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
  /** By the book itself: a change (up to hundreds a second) then builds no key string. */
  private readonly books = new Map<OrderBook, Pending>();

  constructor(
    private readonly emit: (snapshot: BookTopSnapshot) => void,
    options: BookSnapshotThrottleOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    this.levels = options.levels ?? 50;
    this.clock = options.clock ?? systemClock;
  }

  /** The book changed (a BookSync `applied` result): emit now or schedule the trailing snapshot. */
  changed(book: OrderBook): void {
    let p = this.books.get(book);
    if (p === undefined) {
      p = { book, lastAt: Number.NEGATIVE_INFINITY, timer: undefined };
      this.books.set(book, p);
    }
    if (p.timer !== undefined) return;
    const wait = p.lastAt + this.intervalMs - this.clock.now();
    if (wait <= 0) {
      this.fire(p);
      return;
    }
    const pending = p;
    p.timer = this.clock.setTimeout(() => {
      pending.timer = undefined;
      this.fire(pending);
    }, wait);
    // A snapshot still due at shutdown is of no use: it must not keep the process alive.
    p.timer.unref();
  }

  /** Drops a book's pending snapshot (unsubscribed, or discarded for a resync). */
  forget(venue: string, symbol: string): void {
    for (const [book, p] of this.books) {
      if (book.venue !== venue || book.symbol !== symbol) continue;
      this.clock.clearTimer(p.timer);
      this.books.delete(book);
    }
  }

  /** Cancels every pending snapshot. */
  close(): void {
    for (const p of this.books.values()) this.clock.clearTimer(p.timer);
    this.books.clear();
  }

  private fire(p: Pending): void {
    p.lastAt = this.clock.now();
    const b = p.book;
    const top = b.top(this.levels);
    this.emit({
      venue: b.venue,
      symbol: b.symbol,
      bids: top.bids,
      asks: top.asks,
      seq: b.seq,
      time: b.time,
      receivedAt: b.receivedAt,
    });
  }
}
