import type { BookUpdate } from '../domain/book.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { BookRules } from '../domain/book-rules.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { bookChecksum, CHECKSUM_DEPTH } from './checksum.ts';
import { BookLevelError, OrderBook } from './order-book.ts';

/** Why a book was thrown away and rebuilt. */
export type BookResyncReason =
  /** The sequence fields show a missed message. */
  | 'gap'
  /** The venue's checksum does not match the book after applying. */
  | 'checksum'
  /** The adapter saw a gap it cannot pin to one book (dYdX `message_id` jump) and asked for a resync. */
  | 'adapter-gap'
  /** A message could not be applied (non-numeric level, sequence going backwards without a reset rule). */
  | 'invalid'
  /** More deltas arrived while waiting for a snapshot than `maxBufferedDeltas`. */
  | 'buffer-overflow'
  /** A requested snapshot did not arrive within `snapshotTimeoutMs`; asked again. */
  | 'snapshot-timeout';

export const BOOK_RESYNC_REASONS: readonly BookResyncReason[] = [
  'gap',
  'checksum',
  'adapter-gap',
  'invalid',
  'buffer-overflow',
  'snapshot-timeout',
];

/**
 * Where a book stands: `empty` before anything arrived; `awaiting-snapshot` after a resync or (REST source)
 * while deltas are buffered for the snapshot; `synced` while updates apply; `unsubscribed` once its venue
 * subscription ended (nothing watched it; its counters are kept), until a new subscription brings it again.
 */
export type BookSyncState = 'empty' | 'awaiting-snapshot' | 'synced' | 'unsubscribed';

/** Counters of one book (venue, symbol). */
export interface BookStats {
  readonly venue: VenueId;
  readonly symbol: string;
  readonly state: BookSyncState;
  /** Sequence position of the last applied message. */
  readonly seq: number | undefined;
  /** Snapshots applied. */
  readonly snapshots: number;
  /** Deltas applied. */
  readonly updates: number;
  /** Deltas ignored as stale (already covered by the book) or arriving before any snapshot. */
  readonly dropped: number;
  /** Deltas waiting for a REST snapshot right now. */
  readonly buffered: number;
  /** Resyncs by reason. */
  readonly resyncs: Readonly<Record<BookResyncReason, number>>;
  /** Crossed books seen after an update; `uncrossedLevels` counts levels removed to repair them. */
  readonly crossed: number;
  readonly uncrossedLevels: number;
  /** Exchange time of the last applied message, ms UTC (0 before the first). */
  readonly lastTime: number;
}

/** Something the book layer wants operators and downstream to know. */
export type BookSyncEvent =
  | {
      readonly type: 'resync';
      /** Catalogue code for logs and status. */
      readonly code: 'BOOK_OUT_OF_SYNC';
      readonly venue: VenueId;
      readonly symbol: string;
      readonly reason: BookResyncReason;
      /** Human-readable detail for logs (expected vs received sequence, checksum values). */
      readonly detail: string;
    }
  | {
      readonly type: 'synced';
      readonly venue: VenueId;
      readonly symbol: string;
      readonly seq: number | undefined;
    };

/** What BookSync needs from the venue adapter. */
export interface BookSyncHandlers {
  /**
   * REST snapshot source only: fetch a snapshot of `depth` levels (`BookRules.snapshotDepth`) and pass it to
   * `BookSync.apply` as a `snapshot` update with `seq` = the snapshot's update id. Called when the first delta of
   * a book arrives and again when a snapshot turned out older than the buffered deltas.
   */
  requestSnapshot(symbol: string, depth: number | undefined): void;
  /**
   * The book of `symbol` was discarded; rebuild it: resubscribe that one book (stream snapshot source) or fetch a
   * REST snapshot and pass it to `apply` (REST source). Only that book is affected.
   */
  resync(symbol: string, reason: BookResyncReason): void;
  /** Every resync and every (re)synchronization, for logs, metrics and downstream events. */
  onEvent?(event: BookSyncEvent): void;
}

/** Limits of BookSync; every one has a safe default. */
export interface BookSyncOptions {
  /** Deltas buffered per book while a snapshot is awaited (default 10,000); more means resync. */
  readonly maxBufferedDeltas?: number;
  /** A snapshot that has not arrived this long after it was asked for is asked for again (default 15,000 ms). */
  readonly snapshotTimeoutMs?: number;
  /** Levels kept per side (default 10,000). */
  readonly maxLevelsPerSide?: number;
  /** Time for the snapshot timeout (VenueBooks runs its timers on it too). Default the system clock. */
  readonly clock?: Clock;
}

interface BookEntry {
  readonly book: OrderBook;
  state: BookSyncState;
  buffer: BookUpdate[];
  /** When the pending snapshot was asked for (resync or request), ms; 0 when none is pending. */
  askedAt: number;
  snapshots: number;
  updates: number;
  dropped: number;
  resyncs: Record<BookResyncReason, number>;
  crossed: number;
  uncrossedLevels: number;
}

const DEFAULTS = { maxBufferedDeltas: 10_000, snapshotTimeoutMs: 15_000, maxLevelsPerSide: 10_000 };

/** Outcome of one update: whether the visible book changed. */
export type ApplyResult = 'applied' | 'buffered' | 'dropped' | 'resync';

/**
 * Keeps the order books of one venue consistent with the venue's `BookRules`: applies snapshots and deltas,
 * checks sequences and checksums, uncrosses where the venue needs it, and on any failure discards that one book
 * and asks the adapter to rebuild it (other books of the venue are untouched). Every resync is counted per book
 * and reported as an event. Never throws on venue data.
 */
export class BookSync {
  private readonly books = new Map<string, BookEntry>();
  private readonly maxBuffered: number;
  private readonly snapshotTimeoutMs: number;
  private readonly maxLevels: number;
  private readonly clock: Clock;

  constructor(
    readonly venue: VenueId,
    readonly rules: BookRules,
    private readonly handlers: BookSyncHandlers,
    options: BookSyncOptions = {},
  ) {
    this.maxBuffered = options.maxBufferedDeltas ?? DEFAULTS.maxBufferedDeltas;
    this.snapshotTimeoutMs = options.snapshotTimeoutMs ?? DEFAULTS.snapshotTimeoutMs;
    this.maxLevels = options.maxLevelsPerSide ?? DEFAULTS.maxLevelsPerSide;
    this.clock = options.clock ?? systemClock;
  }

  /** The book of `symbol` while it is synced; undefined while empty or resyncing (its content is not trusted). */
  book(symbol: string): OrderBook | undefined {
    const e = this.books.get(symbol);
    return e?.state === 'synced' ? e.book : undefined;
  }

  /** Symbols with a book entry (synced or not). */
  symbols(): string[] {
    return [...this.books.keys()];
  }

  /** Counters of one book, or undefined when nothing arrived for it. */
  stats(symbol: string): BookStats | undefined {
    const e = this.books.get(symbol);
    return e === undefined ? undefined : this.statsOf(symbol, e);
  }

  /** Counters of every book. */
  allStats(): BookStats[] {
    return [...this.books].map(([s, e]) => this.statsOf(s, e));
  }

  /**
   * The book's venue subscription ended: its levels and anything buffered are dropped and no snapshot is awaited;
   * its counters stay (they are counted on). The next message of a new subscription starts it again as `empty`.
   */
  unsubscribed(symbol: string): void {
    const e = this.books.get(symbol);
    if (e === undefined) return;
    e.book.clear();
    e.book.seq = undefined;
    e.buffer = [];
    e.askedAt = 0;
    e.state = 'unsubscribed';
  }

  /**
   * The adapter detected a gap that the book messages cannot show (dYdX connection-wide `message_id` jump):
   * resync `symbol`, or every synced book of the venue when `symbol` is undefined.
   */
  gap(symbol: string | undefined, detail: string): void {
    if (symbol !== undefined) {
      const e = this.books.get(symbol);
      if (e !== undefined && e.state === 'synced') this.resync(symbol, e, 'adapter-gap', detail);
      return;
    }
    for (const [s, e] of this.books) if (e.state === 'synced') this.resync(s, e, 'adapter-gap', detail);
  }

  /**
   * Asks again for every snapshot that was requested more than `snapshotTimeoutMs` ago (a resubscribe or REST
   * fetch that never answered). Deltas already trigger this check; call it from a periodic timer too, since a
   * resubscribed stream may send nothing until its snapshot. Returns how many books were asked again.
   */
  poll(): number {
    const now = this.clock.now();
    let asked = 0;
    for (const [symbol, e] of this.books) {
      if (e.state === 'awaiting-snapshot' && now - e.askedAt >= this.snapshotTimeoutMs) {
        this.askAgain(symbol, e, now);
        asked++;
      }
    }
    return asked;
  }

  /**
   * Applies one snapshot or delta. Returns `applied` when the book changed and is consistent, `buffered` (REST
   * source, waiting for the snapshot), `dropped` (stale, or no snapshot yet) or `resync` (the book was discarded
   * and the adapter asked to rebuild it).
   */
  apply(update: BookUpdate): ApplyResult {
    let e = this.books.get(update.symbol);
    if (e === undefined) {
      e = {
        book: new OrderBook(this.venue, update.symbol, { maxLevelsPerSide: this.maxLevels }),
        state: 'empty',
        buffer: [],
        askedAt: 0,
        snapshots: 0,
        updates: 0,
        dropped: 0,
        resyncs: {
          gap: 0,
          checksum: 0,
          'adapter-gap': 0,
          invalid: 0,
          'buffer-overflow': 0,
          'snapshot-timeout': 0,
        },
        crossed: 0,
        uncrossedLevels: 0,
      };
      this.books.set(update.symbol, e);
    }
    if (e.state === 'unsubscribed') e.state = 'empty';
    return update.kind === 'snapshot' ? this.applySnapshot(update, e) : this.applyDelta(update, e);
  }

  private applySnapshot(u: BookUpdate, e: BookEntry): ApplyResult {
    const rest = this.rules.snapshotSource === 'rest';
    if (rest && this.rules.sequence === 'binance-range' && u.seq !== undefined) {
      const first = e.buffer[0];
      // A snapshot older than the first buffered delta cannot be bridged: ask again, keep buffering.
      if (first !== undefined && first.prevSeq !== undefined && u.seq < first.prevSeq) {
        e.state = 'awaiting-snapshot';
        e.askedAt = this.clock.now();
        this.handlers.requestSnapshot(u.symbol, this.rules.snapshotDepth);
        return 'dropped';
      }
    }
    try {
      e.book.replace(u.bids, u.asks);
    } catch (error) {
      return this.resync(
        u.symbol,
        e,
        'invalid',
        error instanceof BookLevelError ? error.message : String(error),
      );
    }
    e.book.seq = u.seq;
    e.book.time = u.time;
    e.book.receivedAt = u.receivedAt;
    e.snapshots++;
    e.state = 'synced';
    e.askedAt = 0;
    if (this.rules.checksumSnapshots && !this.checksumOk(u, e)) return 'resync';
    if (!this.crossCheck(e)) return 'resync';
    this.emit({ type: 'synced', venue: this.venue, symbol: u.symbol, seq: u.seq });
    if (e.buffer.length > 0) {
      const buffered = e.buffer;
      e.buffer = [];
      for (let i = 0; i < buffered.length; i++) {
        if (this.applyDelta(buffered[i] as BookUpdate, e) === 'resync') {
          // What follows the failure waits for the next snapshot like any later delta.
          e.buffer = buffered.slice(i + 1);
          return 'resync';
        }
      }
    }
    return 'applied';
  }

  private applyDelta(u: BookUpdate, e: BookEntry): ApplyResult {
    if (e.state !== 'synced') return this.notSynced(u, e);
    const verdict = this.sequenceVerdict(u, e);
    if (verdict === 'stale') {
      e.dropped++;
      return 'dropped';
    }
    if (verdict !== 'ok')
      return this.resync(u.symbol, e, verdict === 'invalid' ? 'invalid' : 'gap', this.seqDetail(u, e));
    try {
      e.book.apply(u.bids, u.asks);
    } catch (error) {
      return this.resync(
        u.symbol,
        e,
        'invalid',
        error instanceof BookLevelError ? error.message : String(error),
      );
    }
    if (u.seq !== undefined) e.book.seq = u.seq;
    e.book.time = u.time;
    e.book.receivedAt = u.receivedAt;
    e.updates++;
    if (!this.checksumOk(u, e)) return 'resync';
    if (!this.crossCheck(e)) return 'resync';
    return 'applied';
  }

  /** A delta while no trusted book exists: buffer it (REST source) or drop it until the snapshot comes. */
  private notSynced(u: BookUpdate, e: BookEntry): ApplyResult {
    const now = this.clock.now();
    if (this.rules.snapshotSource === 'rest') {
      if (e.buffer.length >= this.maxBuffered) {
        e.buffer = [];
        return this.resync(
          u.symbol,
          e,
          'buffer-overflow',
          `more than ${this.maxBuffered} deltas before the snapshot`,
        );
      }
      e.buffer.push(u);
      if (e.state === 'empty') {
        e.state = 'awaiting-snapshot';
        e.askedAt = now;
        this.handlers.requestSnapshot(u.symbol, this.rules.snapshotDepth);
      } else if (now - e.askedAt >= this.snapshotTimeoutMs) {
        this.askAgain(u.symbol, e, now);
      }
      return 'buffered';
    }
    e.dropped++;
    if (e.state === 'empty') {
      // Deltas before any snapshot: the subscription's snapshot should be on its way; if it never comes, the
      // timeout below asks for a resync.
      e.state = 'awaiting-snapshot';
      e.askedAt = now;
    } else if (now - e.askedAt >= this.snapshotTimeoutMs) {
      this.askAgain(u.symbol, e, now);
    }
    return 'dropped';
  }

  private askAgain(symbol: string, e: BookEntry, now: number): void {
    e.resyncs['snapshot-timeout']++;
    e.askedAt = now;
    this.emit({
      type: 'resync',
      code: 'BOOK_OUT_OF_SYNC',
      venue: this.venue,
      symbol,
      reason: 'snapshot-timeout',
      detail: `no snapshot within ${this.snapshotTimeoutMs} ms`,
    });
    this.handlers.resync(symbol, 'snapshot-timeout');
  }

  private sequenceVerdict(u: BookUpdate, e: BookEntry): 'ok' | 'stale' | 'gap' | 'invalid' {
    const bookSeq = e.book.seq;
    switch (this.rules.sequence) {
      case 'none':
        return 'ok';
      case 'binance-range': {
        if (u.seq === undefined || u.prevSeq === undefined) return 'invalid';
        if (bookSeq === undefined) return 'ok';
        if (u.seq <= bookSeq) return 'stale';
        // First delta after the snapshot must straddle it (U <= L+1 <= u); afterwards U == previous u + 1, where
        // an overlap (U <= previous u) is harmless because levels carry absolute sizes.
        return u.prevSeq <= bookSeq ? 'ok' : 'gap';
      }
      case 'prev-seq': {
        const ex = this.rules.sequenceExceptions ?? {};
        if (u.seq === undefined || u.prevSeq === undefined)
          return ex.allowMissing === true ? 'ok' : 'invalid';
        if (bookSeq === undefined) return ex.allowMissing === true ? 'ok' : 'gap';
        if (ex.resetOnLowerSeq === true && u.seq < u.prevSeq) return 'ok';
        if (u.prevSeq !== bookSeq) return 'gap';
        if (u.seq > u.prevSeq) return 'ok';
        if (u.seq === u.prevSeq) return ex.keepAlive === true ? 'ok' : 'invalid';
        return 'invalid';
      }
    }
  }

  private seqDetail(u: BookUpdate, e: BookEntry): string {
    return `book at seq ${String(e.book.seq)}, received prevSeq ${String(u.prevSeq)} seq ${String(u.seq)}`;
  }

  private checksumOk(u: BookUpdate, e: BookEntry): boolean {
    if (this.rules.checksum !== 'crc32-top25' || u.checksum === undefined) return true;
    const local = bookChecksum(e.book, CHECKSUM_DEPTH);
    if (local === u.checksum) return true;
    this.resync(
      u.symbol,
      e,
      'checksum',
      `venue checksum ${u.checksum}, book ${local} at seq ${String(u.seq)}`,
    );
    return false;
  }

  /** Counts a crossed book and repairs it when the venue's rules say so. Always true: crossing never resyncs. */
  private crossCheck(e: BookEntry): boolean {
    if (!e.book.isCrossed()) return true;
    e.crossed++;
    if (this.rules.uncross) e.uncrossedLevels += e.book.uncross();
    return true;
  }

  private resync(symbol: string, e: BookEntry, reason: BookResyncReason, detail: string): 'resync' {
    e.resyncs[reason]++;
    e.book.clear();
    e.state = 'awaiting-snapshot';
    e.askedAt = this.clock.now();
    this.emit({ type: 'resync', code: 'BOOK_OUT_OF_SYNC', venue: this.venue, symbol, reason, detail });
    this.handlers.resync(symbol, reason);
    return 'resync';
  }

  private emit(event: BookSyncEvent): void {
    this.handlers.onEvent?.(event);
  }

  private statsOf(symbol: string, e: BookEntry): BookStats {
    return {
      venue: this.venue,
      symbol,
      state: e.state,
      seq: e.book.seq,
      snapshots: e.snapshots,
      updates: e.updates,
      dropped: e.dropped,
      buffered: e.buffer.length,
      resyncs: { ...e.resyncs },
      crossed: e.crossed,
      uncrossedLevels: e.uncrossedLevels,
      lastTime: e.book.time,
    };
  }
}
