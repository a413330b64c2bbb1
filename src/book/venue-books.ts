import type { BookRules } from '../domain/book-rules.ts';
import type { BookUpdate } from '../domain/book.ts';
import type { VenueId } from '../domain/instrument.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import { BookSnapshotThrottle, topSnapshot, type BookTopSnapshot } from './book-snapshot-throttle.ts';
import { BookSync, type BookStats, type BookSyncEvent, type BookSyncOptions } from './book-sync.ts';

/** What VenueBooks needs from the venue adapter and from the publishing side. */
export interface VenueBooksDeps {
  readonly venue: VenueId;
  readonly rules: BookRules;
  /**
   * A REST snapshot (`VenueRest.fetchBookSnapshot`): required when `rules.snapshotSource` is `rest`, and used for
   * a stream-source resync when `resubscribe` is absent.
   */
  readonly fetchSnapshot?: (symbol: string, depth: number) => Promise<BookUpdate>;
  /** Resubscribes one book on the live stream (a stream-source resync); the venue then sends a fresh snapshot. */
  readonly resubscribe?: (symbol: string) => void;
  /** Receives throttled top-N snapshots of every synced book (to encode onto the bus). */
  readonly publish: (snapshot: BookTopSnapshot) => void;
  /**
   * Whether `symbol`'s book is published at all (default: every book). A book that is not is still kept in sync,
   * but its changes build no snapshot and set no timer; the caller publishes its current state when it starts
   * wanting it.
   */
  readonly published?: (symbol: string) => boolean;
  /**
   * Whether `symbol`'s book is kept at all (default: every book). What arrives for a book that is not (messages
   * still on their way after an unsubscribe, a REST snapshot asked for before) is ignored.
   */
  readonly kept?: (symbol: string) => boolean;
  /** Every resync and (re)synchronization, and every failed snapshot fetch, for logs and status. */
  readonly onEvent?: (event: VenueBooksEvent) => void;
}

export type VenueBooksEvent =
  | BookSyncEvent
  | {
      readonly type: 'snapshot-failed';
      readonly venue: VenueId;
      readonly symbol: string;
      readonly error: unknown;
    };

export interface VenueBooksOptions extends BookSyncOptions {
  /** Levels fetched for a REST snapshot when the rules name none (default 1,000). */
  readonly snapshotDepth?: number;
  /** Minimum spacing of two published snapshots of one book, ms (default DEFAULT_BOOK_PUBLISH_MS). */
  readonly publishIntervalMs?: number;
  /** Levels per side published (default 50). */
  readonly publishLevels?: number;
  /** How often books waiting for a snapshot are checked for the snapshot timeout, ms (default 1,000). */
  readonly pollMs?: number;
}

/**
 * Default spacing of two published snapshots of one book, ms: the period of a gateway's book room
 * (`DEFAULT_MARKET_THROTTLE.bookMs`, PROTOCOL.md "book"), which sends at most one state per period anyway.
 * Every book is published whether or not a room watches it (but in `tickwire all` without Redis, whose gateway
 * says which books it watches: VenueBooksDeps.published), so each snapshot (50 levels a side, built, encoded and
 * carried) is paid for all of them; at 100 ms a busy room skipped every other one. A change after a quiet period
 * still leaves at once (leading edge); a book that changes all the time is published every period, so a room's
 * state is at most one period older than the venue's.
 */
export const DEFAULT_BOOK_PUBLISH_MS = 200;

/**
 * How late a book's trailing snapshot may leave to go out with other books of the venue, ms: the trailing
 * snapshots share one timer per venue (BookSnapshotThrottle `slackMs`), so that books due within this much of each
 * other leave in one turn and stay together, instead of each book's timer waking the event loop five times a
 * second at its own phase (40 books: about 200 wake-ups a second). A room's state is then at most one period and
 * this much older than the venue's.
 */
export const DEFAULT_BOOK_PUBLISH_SLACK_MS = 20;

/**
 * The order books of one venue, wired: BookSync enforces the venue's rules, snapshots are fetched or
 * resubscribed on demand (one fetch per book at a time), synced books are published as throttled top-N
 * snapshots, and a book being rebuilt publishes nothing until it is consistent again.
 */
export class VenueBooks {
  readonly sync: BookSync;
  private readonly throttle: BookSnapshotThrottle;
  private readonly publishLevels: number;
  private readonly fetching = new Set<string>();
  private readonly depth: number;
  private readonly clock: Clock;
  private readonly pollMs: number;
  private pollTimer: Timer | undefined;
  private closed = false;

  constructor(
    private readonly deps: VenueBooksDeps,
    options: VenueBooksOptions = {},
  ) {
    if (deps.rules.snapshotSource === 'rest' && deps.fetchSnapshot === undefined) {
      throw new Error(`${deps.venue}: a REST snapshot source needs fetchSnapshot`);
    }
    if (deps.resubscribe === undefined && deps.fetchSnapshot === undefined) {
      throw new Error(`${deps.venue}: a book resync needs resubscribe or fetchSnapshot`);
    }
    this.clock = options.clock ?? systemClock;
    this.depth = deps.rules.snapshotDepth ?? options.snapshotDepth ?? 1000;
    this.pollMs = options.pollMs ?? 1000;
    this.sync = new BookSync(
      deps.venue,
      deps.rules,
      {
        requestSnapshot: (symbol) => this.fetch(symbol),
        resync: (symbol) => this.rebuild(symbol),
        onEvent: (event) => deps.onEvent?.(event),
      },
      { ...options, clock: this.clock },
    );
    this.publishLevels = options.publishLevels ?? 50;
    this.throttle = new BookSnapshotThrottle(deps.publish, {
      intervalMs: options.publishIntervalMs ?? DEFAULT_BOOK_PUBLISH_MS,
      levels: this.publishLevels,
      slackMs: DEFAULT_BOOK_PUBLISH_SLACK_MS,
      clock: this.clock,
    });
    this.schedulePoll();
  }

  /** Takes one BookUpdate from the venue stream (MarketStreamHandlers.book). */
  apply(update: BookUpdate): void {
    if (this.closed || this.deps.kept?.(update.symbol) === false) return;
    if (this.sync.apply(update) !== 'applied') return;
    const book = this.sync.book(update.symbol);
    if (book !== undefined && (this.deps.published?.(update.symbol) ?? true)) this.throttle.changed(book);
  }

  /** `symbol`'s book now, as a published snapshot is (its top levels); undefined while it is not synced. */
  snapshot(symbol: string): BookTopSnapshot | undefined {
    const book = this.sync.book(symbol);
    return book === undefined ? undefined : topSnapshot(book, this.publishLevels);
  }

  /** The adapter saw a gap it cannot pin on a book message (dYdX message_id): resync one or every book. */
  gap(symbol: string | undefined, detail: string): void {
    if (!this.closed) this.sync.gap(symbol, detail);
  }

  /**
   * Drops `symbol`'s book and its pending snapshot, keeping its counters (it was unsubscribed); a later
   * subscription builds it again from a snapshot.
   */
  forget(symbol: string): void {
    this.sync.unsubscribed(symbol);
    this.throttle.forget(this.deps.venue, symbol);
  }

  /** Counters of every book. */
  stats(): BookStats[] {
    return this.sync.allStats();
  }

  /** Stops timers; later updates are ignored and fetches in flight are discarded. */
  close(): void {
    this.closed = true;
    this.clock.clearTimer(this.pollTimer);
    this.pollTimer = undefined;
    this.throttle.close();
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.pollTimer = this.clock.setTimeout(() => {
      this.sync.poll();
      this.schedulePoll();
    }, this.pollMs);
    this.pollTimer.unref();
  }

  private rebuild(symbol: string): void {
    this.throttle.forget(this.deps.venue, symbol);
    if (this.deps.rules.snapshotSource === 'stream' && this.deps.resubscribe !== undefined) {
      this.deps.resubscribe(symbol);
      return;
    }
    this.fetch(symbol);
  }

  private fetch(symbol: string): void {
    const fetchSnapshot = this.deps.fetchSnapshot;
    if (fetchSnapshot === undefined || this.fetching.has(symbol) || this.closed) return;
    this.fetching.add(symbol);
    fetchSnapshot(symbol, this.depth).then(
      (snapshot) => {
        this.fetching.delete(symbol);
        if (this.closed) return;
        this.apply(snapshot.kind === 'snapshot' ? snapshot : { ...snapshot, kind: 'snapshot' });
      },
      (error: unknown) => {
        this.fetching.delete(symbol);
        // The snapshot timeout asks again; no immediate retry, so a failing venue is not hammered.
        if (!this.closed)
          this.deps.onEvent?.({ type: 'snapshot-failed', venue: this.deps.venue, symbol, error });
      },
    );
  }
}
