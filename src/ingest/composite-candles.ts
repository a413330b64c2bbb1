import type { Bus } from '../bus/bus.ts';
import { CANDLE_CHANNEL } from '../bus/bus.ts';
import { encodeCandleUpdate } from '../bus/candle-message.ts';
import type { Candle, CandleUpdate } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import { bucketStart, INTERVALS, type Interval } from '../domain/interval.ts';
import type { CandleStore } from '../store/candle-store.ts';
import type { Logger } from '../telemetry/logger.ts';

const REMEMBERED_BACKFILLED_BARS = 16;

/** Where a venue's ingest sends its candle updates. */
export interface CandleOutput {
  /** Stores `updates` and, when `publish`, publishes them (start-up history is stored, not published). */
  write(venue: VenueId, updates: readonly CandleUpdate[], publish: boolean): Promise<void>;
  /**
   * False while `venue`'s bars of `symbol` are not the ones stored and published (another venue is the active
   * source): its live bars need not be built for `write`, which would drop them. Absent: always true.
   */
  publishes?(venue: VenueId, symbol: string): boolean;
}

/** A venue's own bars of one symbol, for a takeover. */
export interface CandleSource {
  /** Bars of `interval` that end after `since` (ms), oldest first, the live bar last. */
  barsSince(symbol: string, interval: Interval, since: number): readonly Candle[];
}

export interface CompositeCandlesOptions {
  readonly store: CandleStore;
  readonly bus: Bus;
  readonly logger: Logger;
  /** The venue whose bars are the symbol's composite stream now (the failover's active source). */
  readonly activeOf: (symbol: string) => VenueId | undefined;
}

/**
 * One clean candle stream per instrument across venues. Every venue that lists a symbol builds its own bars all
 * the time; the composite stores and publishes only the active venue's. When the failover switches source, the
 * new venue's bars take over from the minute in which the old one was last alive: every bar of every interval
 * that ends after that minute's start is re-published from the new venue (closed ones as `revised`, the bar in
 * progress as `live`), so a bar is replaced, never doubled, and none is missing. Bars keep their provenance in
 * `sources`.
 *
 * Writes and takeovers run one at a time, in order, so an old venue's batch that was under way when the switch
 * happened can never land after the takeover.
 */
export class CompositeCandles implements CandleOutput {
  private queue: Promise<void> = Promise.resolve();
  private takeovers = 0;
  /**
   * Per venue, symbol and interval, the times of the newest bars that venue marked backfilled, so that a
   * takeover re-publishes them with their provenance. A takeover reaches back minutes, rarely more than a few
   * bars per interval, so a short list suffices.
   */
  private readonly backfilledTimes = new Map<string, number[]>();
  /**
   * Intervals a candle room holds, by symbol, once publishWatchedSeriesOnly was called (the in-process
   * `tickwire all` without Redis); undefined: every update is published.
   */
  private watchedSeries: Map<string, Set<Interval>> | undefined;

  constructor(private readonly options: CompositeCandlesOptions) {}

  write(venue: VenueId, updates: readonly CandleUpdate[], publish: boolean): Promise<void> {
    for (const u of updates) if (u.backfilled === true) this.rememberBackfilled(venue, u);
    return this.enqueue(async () => {
      // Which venue is active is decided when the write runs, not when it was queued.
      const mine = updates.filter((u) => this.publishes(venue, u.symbol));
      await this.emit(mine, publish);
    });
  }

  publishes(venue: VenueId, symbol: string): boolean {
    return (this.options.activeOf(symbol) ?? venue) === venue;
  }

  /** Re-publishes `symbol` from `to` for every bar that ends after the start of the minute of `fromTime`. */
  takeOver(symbol: string, to: VenueId, source: CandleSource, fromTime: number): Promise<void> {
    return this.enqueue(async () => {
      if (this.options.activeOf(symbol) !== to) return;
      const since = bucketStart('1m', fromTime);
      const updates: CandleUpdate[] = [];
      for (const interval of INTERVALS) {
        const bars = source.barsSince(symbol, interval, since);
        // The source's history ends with its bar in progress.
        bars.forEach((bar, i) => {
          const state = i === bars.length - 1 ? 'live' : 'revised';
          const backfilled = this.backfilledTimes.get(`${to}|${symbol}|${interval}`)?.includes(bar.time);
          updates.push({ symbol, interval, state, bar, sources: [to], backfilled: backfilled === true });
        });
      }
      this.takeovers++;
      this.options.logger.info(
        { symbol, to, from: new Date(since).toISOString(), bars: updates.length },
        'candles taken over by the new source',
      );
      await this.emit(updates, true);
    });
  }

  /**
   * From now on only the updates of series `watchSeries` names are published (the in-process `tickwire all`, whose
   * one gateway is the only reader of the bus and drops every update of a series no room holds); every update is
   * still stored. By default every update is published, for gateways in other processes.
   */
  publishWatchedSeriesOnly(): void {
    this.watchedSeries ??= new Map();
  }

  /**
   * A candle room of `symbol` and `interval` opened (`watched`) or closed. Nothing is re-sent: the room reads its
   * `initial` from the store, which every update reaches before its publish would have happened.
   */
  watchSeries(symbol: string, interval: Interval, watched: boolean): void {
    const watchedSeries = this.watchedSeries;
    if (watchedSeries === undefined) return;
    let intervals = watchedSeries.get(symbol);
    if (watched) {
      if (!intervals) {
        intervals = new Set();
        watchedSeries.set(symbol, intervals);
      }
      intervals.add(interval);
      return;
    }
    intervals?.delete(interval);
    if (intervals?.size === 0) watchedSeries.delete(symbol);
  }

  stats(): { takeovers: number } {
    return { takeovers: this.takeovers };
  }

  private rememberBackfilled(venue: VenueId, update: CandleUpdate): void {
    const key = `${venue}|${update.symbol}|${update.interval}`;
    let times = this.backfilledTimes.get(key);
    if (!times) {
      times = [];
      this.backfilledTimes.set(key, times);
    }
    const time = update.bar.time;
    // History arrives newest first, thousands of bars at a time: a bar older than a full list's oldest is not
    // kept, so it is dismissed before any search (a sort per bar here was a visible share of start-up).
    if (times.length >= REMEMBERED_BACKFILLED_BARS && time <= (times[0] as number)) return;
    let at = times.length;
    while (at > 0 && (times[at - 1] as number) > time) at--;
    if (at > 0 && times[at - 1] === time) return;
    times.splice(at, 0, time);
    if (times.length > REMEMBERED_BACKFILLED_BARS) times.shift();
  }

  private async emit(updates: readonly CandleUpdate[], publish: boolean): Promise<void> {
    if (updates.length === 0) return;
    try {
      await this.options.store.write(updates);
    } catch (err) {
      this.options.logger.error({ err }, 'candle store write failed');
    }
    if (!publish) return;
    // Judged after the store write: a room that opened meanwhile gets the update, one that opens later reads it
    // from the store.
    const watched = this.watchedSeries;
    for (const u of updates) {
      if (watched !== undefined && watched.get(u.symbol)?.has(u.interval) !== true) continue;
      this.options.bus.publish(CANDLE_CHANNEL, encodeCandleUpdate(u));
    }
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(task, task);
    return this.queue;
  }
}

/**
 * The composite's candle updates for a gateway in the same process on the in-process bus
 * (`GatewayOptions.localCandles`): from now on only the series a candle room holds are published.
 */
export function localCandleSource(candles: CompositeCandles): {
  watch(symbol: string, interval: Interval, watched: boolean): void;
} {
  candles.publishWatchedSeriesOnly();
  return { watch: (symbol, interval, watched) => candles.watchSeries(symbol, interval, watched) };
}
