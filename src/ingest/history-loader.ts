import type { Candle, CandleUpdate } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import { bucketStart, INTERVAL_MS, INTERVALS, MINUTE_MS, type Interval } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';
import type { Logger } from '../telemetry/logger.ts';
import { ProgressLog } from '../telemetry/progress-log.ts';
import { RepeatedFailure } from '../telemetry/repeated-failure.ts';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { positiveInteger } from '../util/options.ts';
import type { VenueRest } from '../venues/venue.ts';

/** Between failed history loads: 1 s, doubling, at most 30 s, no jitter (one load per instrument). */
export const HISTORY_RETRY: BackoffPolicy = { minMs: 1000, maxMs: 30_000, jitter: 'none' };

/** One instrument's start-up history, fetched in full before any of it is applied. */
export interface StartupHistory {
  readonly symbol: string;
  /** Start of the minute in progress when the load began: the history ends before it. */
  readonly liveMinute: number;
  /** Closed 1m bars back to the start of the week (or `historyBars` minutes, when further). */
  readonly minutes: readonly Candle[];
  /** `historyBars` closed bars of every higher interval, oldest first. */
  readonly higher: readonly (readonly [Interval, readonly Candle[]])[];
  /** Trades of the minute in progress, up to the end of the load. */
  readonly recentTrades: readonly Trade[];
  /** Bars fetched in all. */
  readonly bars: number;
  /** When this attempt began (for the log's duration). */
  readonly startedAt: number;
}

export interface HistoryLoaderOptions {
  readonly venue: VenueId;
  readonly rest: VenueRest;
  /** Bars of each interval loaded (1m: at least this many, and back to the start of the week). */
  readonly historyBars: number;
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * Loads each instrument's start-up history over REST: the closed 1m bars back to the start of the week (so that the
 * open 1W bar can be rebuilt from them exactly), `historyBars` closed bars of every higher interval, then the
 * trades of the minute in progress. Progress is logged in a few lines.
 *
 * History is what makes a client's `initial` useful, so a venue that does not answer is asked again, with a capped
 * backoff, rather than going live without it; the gateway serves health meanwhile.
 */
export class HistoryLoader {
  private closed = false;
  /** Wakes the loads waiting to retry, at close. */
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly options: HistoryLoaderOptions) {
    positiveInteger('HistoryLoader', 'historyBars', options.historyBars);
  }

  /**
   * Fetches `symbol`'s history and gives it to `apply`, again after each failure of either, until it succeeds
   * (true) or the loader is closed (false). Everything is fetched before `apply` is called, so that a failed
   * attempt can simply be repeated.
   */
  async load(symbol: string, apply: (history: StartupHistory) => Promise<void>): Promise<boolean> {
    const { venue, logger, clock } = this.options;
    const failures = new RepeatedFailure({
      logger,
      now: () => clock.now(),
      level: 'error',
      fields: { venue, symbol },
      failing: 'history not loaded',
      stillFailing: 'history still not loaded',
    });
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await apply(await this.fetch(symbol, attempt === 1));
        failures.succeeded();
        return true;
      } catch (err) {
        // Stopping while a load is under way ends it; that is no failure to report.
        if (this.closed) return false;
        const delayMs = backoffDelay(attempt, HISTORY_RETRY);
        failures.failed(err, delayMs);
        await this.sleep(delayMs);
      }
    }
    return false;
  }

  /** Stops: loads under way end at their next step, and none is retried. */
  close(): void {
    this.closed = true;
    for (const wake of this.sleepers) wake();
  }

  private async fetch(symbol: string, announce: boolean): Promise<StartupHistory> {
    const { venue, rest, logger, clock, historyBars } = this.options;
    const startedAt = clock.now();
    const liveMinute = bucketStart('1m', startedAt);
    const firstMinute = Math.min(bucketStart('1W', startedAt), liveMinute - historyBars * MINUTE_MS);
    // Progress in a few lines: the bars expected are every closed minute and `historyBars` of each other interval.
    const expectedMinutes = Math.max(0, (liveMinute - firstMinute) / MINUTE_MS);
    const progress = new ProgressLog({
      logger,
      now: () => clock.now(),
      fields: { venue, symbol },
      expected: expectedMinutes + (INTERVALS.length - 1) * historyBars,
      announce,
    });
    const minutes = await rest.fetchCandles(symbol, '1m', {
      startTime: firstMinute,
      endTime: liveMinute - MINUTE_MS,
      onProgress: (n) => progress.update(n),
    });
    const higher: [Interval, Candle[]][] = [];
    for (const interval of INTERVALS) {
      if (interval === '1m') continue;
      const size = INTERVAL_MS[interval];
      const open = bucketStart(interval, liveMinute);
      const before = progress.loaded;
      const bars = await rest.fetchCandles(symbol, interval, {
        startTime: open - historyBars * size,
        endTime: open - size,
        onProgress: (n) => progress.update(before + n),
      });
      higher.push([interval, bars.filter((b) => b.time < open)]);
      progress.update(before + bars.length);
    }
    // The live trades held meanwhile follow these.
    const recentTrades = await rest.fetchTrades(symbol, { startTime: liveMinute, endTime: clock.now() });
    return {
      symbol,
      liveMinute,
      minutes: minutes.filter((b) => b.time < liveMinute),
      higher,
      recentTrades,
      bars: progress.loaded,
      startedAt,
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.options.clock.clearTimer(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer: Timer = this.options.clock.setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}

/** Every bar of the history as a closed update of `venue`'s, for the store (start-up history is not published). */
export function historyUpdates(history: StartupHistory, venue: VenueId): CandleUpdate[] {
  const { symbol } = history;
  const out: CandleUpdate[] = [];
  const push = (interval: Interval, bars: readonly Candle[]): void => {
    for (const bar of bars) {
      out.push({ symbol, interval, state: 'closed', bar, sources: [venue], backfilled: true });
    }
  };
  push('1m', history.minutes);
  for (const [interval, bars] of history.higher) push(interval, bars);
  return out;
}
