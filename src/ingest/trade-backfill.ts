import type { AlertInput } from '../domain/alert.ts';
import type { VenueId } from '../domain/instrument.ts';
import { bucketStart } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';
import type { SeqGap } from '../feed/trade-dedupe.ts';
import type { Logger } from '../telemetry/logger.ts';
import { RepeatedFailure } from '../telemetry/repeated-failure.ts';
import type { Clock, Timer } from '../util/clock.ts';
import type { VenueRest } from '../venues/venue.ts';
import type { MissedTrades, SymbolIngest } from './symbol-ingest.ts';

/** Wait before a failed backfill is tried again. */
export const BACKFILL_RETRY_MS = 2000;

/** Trades per REST page when paging by sequence. */
const PAGE = 1000;

export interface TradeBackfillOptions {
  readonly venue: VenueId;
  readonly rest: VenueRest;
  /** The venue numbers its trades without holes, so a backfill can resume after a sequence number. */
  readonly contiguousTradeSeq: boolean;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Raises an operator alert for every backfill done. */
  readonly alert?: (input: AlertInput) => void;
}

interface BackfillQueue {
  readonly pending: MissedTrades[];
  running: boolean;
  /** Failed backfills, logged once and then summarized. */
  readonly failures: RepeatedFailure;
}

/**
 * Fetches the trades a venue's live stream missed over REST and applies them to the symbol, before the live
 * trades held meanwhile: by sequence number where the venue's ids are contiguous (a hole the dedupe found, or
 * everything after the newest trade), by time otherwise. One backfill runs per symbol at a time, in the order the
 * gaps were found.
 */
export class TradeBackfill {
  private readonly queues = new Map<SymbolIngest, BackfillQueue>();
  private readonly retryTimers = new Set<Timer>();
  private closed = false;
  private backfills = 0;
  private backfilledTrades = 0;
  private backfilledBars = 0;

  constructor(private readonly options: TradeBackfillOptions) {}

  /** Backfills a hole in the symbol's trade sequence. */
  gap(symbol: SymbolIngest, gap: SeqGap): void {
    this.options.logger.warn({ venue: this.options.venue, symbol: symbol.symbol, gap }, 'trade sequence gap');
    this.queueOf(symbol).pending.push(gap);
    void this.run(symbol);
  }

  /** Backfills what the symbol's trades show missing: a hole in the sequence, or the trades since a time. */
  missed(symbol: SymbolIngest, missed: MissedTrades): void {
    if (!('since' in missed)) {
      if (!missed.joining) {
        this.gap(symbol, missed);
        return;
      }
      // A hole at the stream's join: the trades of its subscription's first moments, expected, not a fault.
      this.options.logger.info(
        { venue: this.options.venue, symbol: symbol.symbol, gap: { from: missed.from, to: missed.to } },
        "the stream joined after the start-up's trades; fetching those between",
      );
    } else symbol.expectFetchedTrades();
    this.queueOf(symbol).pending.push(missed);
    void this.run(symbol);
  }

  /** Backfills everything after the newest trade the symbol holds (after an outage of the stream). */
  sinceLast(symbol: SymbolIngest): void {
    const queue = this.queueOf(symbol);
    // A reconnect and the runner's gap event often report the same outage: one open-ended backfill suffices.
    if (queue.pending.some((g) => 'since' in g || g.to === Number.MAX_SAFE_INTEGER)) return;
    const after = symbol.dedupe.highestSeq;
    if (this.options.contiguousTradeSeq && after !== undefined) {
      queue.pending.push({ from: after + 1, to: Number.MAX_SAFE_INTEGER });
    } else if (symbol.newestTradeTime !== null) {
      queue.pending.push({ since: symbol.newestTradeTime });
      symbol.expectFetchedTrades();
    } else {
      return;
    }
    void this.run(symbol);
  }

  stats(): { backfills: number; backfilledTrades: number; backfilledBars: number } {
    return {
      backfills: this.backfills,
      backfilledTrades: this.backfilledTrades,
      backfilledBars: this.backfilledBars,
    };
  }

  /** Stops: no backfill is started or retried from now on. */
  close(): void {
    this.closed = true;
    for (const timer of this.retryTimers) this.options.clock.clearTimer(timer);
    this.retryTimers.clear();
  }

  private queueOf(symbol: SymbolIngest): BackfillQueue {
    let queue = this.queues.get(symbol);
    if (!queue) {
      queue = {
        pending: [],
        running: false,
        failures: new RepeatedFailure({
          logger: this.options.logger,
          now: () => this.options.clock.now(),
          level: 'error',
          fields: { venue: this.options.venue, symbol: symbol.symbol },
          failing: 'backfill failed',
          stillFailing: 'backfill still failing',
          recovered: 'backfill done',
        }),
      };
      this.queues.set(symbol, queue);
    }
    return queue;
  }

  /**
   * Fetches the trades of every pending gap and applies them in order, holding live trades meanwhile. When the
   * venue does not answer, the gap is tried again later and the live trades go on until it does (a failing REST
   * API must not stop the stream): the missed trades then revise the bars they belong to.
   */
  private async run(symbol: SymbolIngest): Promise<void> {
    const queue = this.queueOf(symbol);
    if (queue.running || this.closed) return;
    queue.running = true;
    if (queue.failures.attempts === 0) symbol.hold();
    const { venue, logger, clock } = this.options;
    let gap: MissedTrades | undefined;
    try {
      while (queue.pending.length > 0 && !this.closed) {
        gap = queue.pending.shift() as MissedTrades;
        const until = clock.now();
        const trades = await this.fetch(symbol.symbol, gap, until);
        let applied = 0;
        // The 1m bars the missed trades land in: each is revised (and re-published with the bars holding it).
        const minutes = new Set<number>();
        let first = Infinity;
        let last = -Infinity;
        for (const t of trades) {
          if (!symbol.apply(t, undefined, true)) continue;
          applied++;
          minutes.add(bucketStart('1m', t.time));
          first = Math.min(first, t.time);
          last = Math.max(last, t.time);
        }
        queue.failures.succeeded();
        if ('since' in gap) {
          if (!queue.pending.some((g) => 'since' in g)) symbol.fetchedTrades();
          // The stream may deliver again only after `until`: a resubscription still under way, or a stream that
          // was silent rather than gone. Its next trade shows whether it continues these (as at start-up).
          if (gap.joining !== true) symbol.expectStreamJoin(until);
        }
        // The check at the stream's join found the two continuous: nothing was missed, no backfill happened.
        if (gap.joining === true && applied === 0) {
          logger.debug({ venue, symbol: symbol.symbol, gap }, 'stream joined the REST trades');
          continue;
        }
        this.backfills++;
        this.backfilledTrades += applied;
        this.backfilledBars += minutes.size;
        logger.info({ venue, symbol: symbol.symbol, gap, applied }, 'backfill done');
        // A fetch that found every trade seen already is no news for the operator.
        if (applied === 0) continue;
        this.options.alert?.({
          severity: 'info',
          kind: 'backfill_done',
          venue,
          symbol: symbol.symbol,
          message: `${venue} ${symbol.symbol}: backfilled ${applied} missed trades`,
          details: { from: first, to: last, trades: applied },
        });
      }
    } catch (err) {
      if (!this.closed && gap) {
        queue.pending.unshift(gap);
        // Once per failing streak: the retries every 2 s are logged, summarized, not alerted again.
        if (queue.failures.attempts === 0) {
          const error = err instanceof Error ? err.message : String(err);
          this.options.alert?.({
            severity: 'warning',
            kind: 'backfill_failed',
            venue,
            symbol: symbol.symbol,
            message: `${venue} ${symbol.symbol}: missed trades not fetched yet (${error}); retrying every ${BACKFILL_RETRY_MS / 1000} s`,
            details: { ...missingFrom(gap), error },
          });
        }
        queue.failures.failed(err, BACKFILL_RETRY_MS);
        const timer = clock.setTimeout(() => {
          this.retryTimers.delete(timer);
          void this.run(symbol);
        }, BACKFILL_RETRY_MS);
        timer.unref();
        this.retryTimers.add(timer);
      }
    } finally {
      queue.running = false;
      symbol.release((missed) => this.missed(symbol, missed));
    }
  }

  private fetch(symbol: string, gap: MissedTrades, until: number): Promise<Trade[]> {
    return 'since' in gap
      ? this.options.rest.fetchTrades(symbol, { startTime: gap.since, endTime: until })
      : this.fetchRange(symbol, gap);
  }

  /** The trades of a hole in the sequence, page by page. */
  private async fetchRange(symbol: string, gap: SeqGap): Promise<Trade[]> {
    const out: Trade[] = [];
    let after = gap.from - 1;
    for (;;) {
      const page = await this.options.rest.fetchTrades(symbol, { afterSeq: after, limit: PAGE });
      for (const t of page) {
        if (t.seq !== undefined && t.seq > gap.to) return out;
        out.push(t);
      }
      const last = page[page.length - 1];
      if (page.length < PAGE || last?.seq === undefined) return out;
      after = last.seq;
    }
  }
}

/** Where the trades a backfill fetches begin: a time, or a hole in the trade ids (open-ended after a reconnect). */
function missingFrom(gap: MissedTrades): Record<string, number> {
  if ('since' in gap) return { from: gap.since };
  return gap.to < Number.MAX_SAFE_INTEGER ? { fromSeq: gap.from, toSeq: gap.to } : { fromSeq: gap.from };
}
