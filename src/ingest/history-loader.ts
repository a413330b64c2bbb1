import { setImmediate as nextTurn } from 'node:timers/promises';
import { BarDecimalColumns } from '../domain/bar-decimal-columns.ts';
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

/**
 * The 1m bars an instrument goes live with start on the hour at least this long before the live minute: a late
 * trade (or a backfill after a reconnect) within them revises its bars exactly from the start.
 */
const LIVE_MINUTES_BACK_MS = 30 * MINUTE_MS;

/** Bars of one interval fetched in one piece of the background history (a day of 1m bars). */
const PIECE_BARS = 1440;

/**
 * What an instrument needs to go live: the closed bars its open bars are made of. The buckets nest (1m ⊂ 5m ⊂ 15m
 * ⊂ 1h ⊂ 4h ⊂ 1D ⊂ 1W), so the open week is its closed days, today's closed 4h bars, the closed hours of this 4h
 * bucket and the minutes of this hour (see CandleEngine's `foldRange`): a few small requests instead of a week of
 * 1m bars. The rest of the history loads afterwards, in the background (`HistoryLoader.loadOlder`).
 */
export interface StartupHistory {
  readonly symbol: string;
  /** Start of the minute in progress when the load began: the history ends before it. */
  readonly liveMinute: number;
  /** Closed 1m bars from `liveFrom(liveMinute)` on. */
  readonly minutes: readonly Candle[];
  /** Per higher interval, the closed bars from `seedFrom` to its open bucket, oldest first (often none). */
  readonly higher: readonly (readonly [Interval, readonly Candle[]])[];
  /** Trades of the minute in progress, up to `tradesUntil`. */
  readonly recentTrades: readonly Trade[];
  /** The end of the window `recentTrades` were asked for: the live stream's trades must continue from there. */
  readonly tradesUntil: number;
  /** Bars fetched in all. */
  readonly bars: number;
  /** When this attempt began (for the log's duration). */
  readonly startedAt: number;
}

/** One request's worth of the background history: the closed bars of `interval` in [from, to). */
export interface HistoryPiece {
  readonly interval: Interval;
  readonly from: number;
  readonly to: number;
}

/** The oldest minute an instrument goes live with: on the hour, at least `LIVE_MINUTES_BACK_MS` back. */
function liveFrom(liveMinute: number): number {
  return bucketStart('1h', liveMinute - LIVE_MINUTES_BACK_MS);
}

/**
 * Where the start-up's bars of `interval` begin: the start of the next longer interval's bucket holding the
 * oldest live minute (of its own bucket, for the longest), so that every bar a revision of a live minute can reach
 * is either held or folded from held bars. Before it, the background history; never later than the oldest minute.
 */
function seedFrom(interval: Interval, liveMinute: number): number {
  const oldest = liveFrom(liveMinute);
  if (interval === '1m') return oldest;
  const next = INTERVALS[INTERVALS.indexOf(interval) + 1];
  return Math.min(oldest, bucketStart(next ?? interval, oldest));
}

/**
 * The background history of an instrument that went live at `liveMinute`: the 1m bars back to the start of the
 * week (or `historyBars` minutes, when further), a day per piece, and `historyBars` bars of every higher interval,
 * each ending where the start-up's bars begin (`seedFrom`), so that no piece overlaps a bar the live engine may
 * have revised meanwhile. The higher intervals come first (a piece each), then the minutes, newest first.
 */
export function olderPieces(liveMinute: number, historyBars: number): HistoryPiece[] {
  const pieces: HistoryPiece[] = [];
  const split = (interval: Interval, from: number, to: number): void => {
    const span = PIECE_BARS * INTERVAL_MS[interval];
    for (let end = to; end > from; end -= span) {
      pieces.push({ interval, from: Math.max(from, end - span), to: end });
    }
  };
  for (const interval of INTERVALS) {
    if (interval === '1m') continue;
    const size = INTERVAL_MS[interval];
    split(interval, bucketStart(interval, liveMinute) - historyBars * size, seedFrom(interval, liveMinute));
  }
  const firstMinute = Math.min(bucketStart('1W', liveMinute), liveMinute - historyBars * MINUTE_MS);
  const oldest = liveFrom(liveMinute);
  // Day-sized pieces on day boundaries, so that a retried piece is the same request.
  for (let end = oldest; end > firstMinute;) {
    const from = Math.max(firstMinute, bucketStart('1D', end - 1));
    pieces.push({ interval: '1m', from, to: end });
    end = from;
  }
  return pieces;
}

export interface HistoryLoaderOptions {
  readonly venue: VenueId;
  readonly rest: VenueRest;
  /** Bars of each interval loaded (1m: at least this many, and back to the start of the week). */
  readonly historyBars: number;
  readonly logger: Logger;
  readonly clock: Clock;
  /**
   * Resolves once the store has room for another piece of the background history (Storage.historyRoom: few bars
   * waiting for the database). Awaited before each piece is fetched, so that history is fetched no faster than it
   * is stored: otherwise the pieces wait as objects in the write buffer (70,000 bars and more while the embedded
   * database was busy), which made the heap peak and the garbage-collection pauses of the start-up. Default:
   * always room.
   */
  readonly room?: () => Promise<void>;
  /**
   * Resolves when the next slice of a background piece may be stored: in `tickwire all` the main thread's turn
   * budget (src/util/turn-budget.ts), which the venues' frames and the store's encoding share. Default: the next
   * turn of the event loop.
   */
  readonly sliceTurn?: (owner: object) => Promise<void>;
}

/**
 * Loads each instrument's history over REST in two steps. First what it needs to go live (`load`): the few closed
 * bars its open bars are made of, then the trades of the minute in progress. Then, in the background
 * (`loadOlder`), the rest: `historyBars` closed bars of every interval and the 1m bars back to the start of the
 * week, in pieces of a day, each written to the store as it arrives and kept when a later piece fails. Progress of
 * the long part is logged in a few lines.
 *
 * History is what makes a client's `initial` useful, so a venue that does not answer is asked again, with a capped
 * backoff, rather than going without it; the gateway serves health meanwhile.
 */
export class HistoryLoader {
  private closed = false;
  /** Waited for before each slice of a background piece is stored after the first. */
  private readonly nextSlice: () => Promise<void>;
  /** Wakes the loads waiting to retry, at close. */
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly options: HistoryLoaderOptions) {
    positiveInteger('HistoryLoader', 'historyBars', options.historyBars);
    const { sliceTurn } = options;
    this.nextSlice = sliceTurn ? () => sliceTurn(this) : () => nextTurn();
  }

  /**
   * Fetches what `symbol` needs to go live and gives it to `apply`, again after each failure of either, until it
   * succeeds (true) or the loader is closed (false). Everything is fetched before `apply` is called, so that a
   * failed attempt can simply be repeated (it is a handful of requests).
   */
  async load(symbol: string, apply: (history: StartupHistory) => Promise<void>): Promise<boolean> {
    const failures = this.failures(symbol, 'history not loaded', 'history still not loaded');
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        const history = await this.fetch(symbol);
        // Stopped while the history was on its way: the store may be closing, nothing of it is applied.
        if (this.closed) return false;
        await apply(history);
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

  /**
   * Fetches the background history of `symbol` (`olderPieces`) and gives each piece's closed updates to `write`,
   * one piece at a time; a piece that fails (fetch or write) is retried alone, with a capped backoff, the pieces
   * done are kept. Before each piece it waits for the store's room (`HistoryLoaderOptions.room`). True once every
   * piece is written, false if the loader was closed first.
   */
  async loadOlder(
    symbol: string,
    liveMinute: number,
    write: (updates: CandleUpdate[]) => Promise<void>,
  ): Promise<boolean> {
    const { venue, rest, logger, clock, historyBars, room } = this.options;
    const pieces = olderPieces(liveMinute, historyBars);
    const expected = pieces.reduce((n, p) => n + (p.to - p.from) / INTERVAL_MS[p.interval], 0);
    const progress = new ProgressLog({ logger, now: () => clock.now(), fields: { venue, symbol }, expected });
    const failures = this.failures(symbol, 'history piece not loaded', 'history piece still not loaded');
    let loaded = 0;
    for (const piece of pieces) {
      if (room) await room();
      for (let attempt = 1; ; attempt++) {
        if (this.closed) return false;
        try {
          const size = INTERVAL_MS[piece.interval];
          const bars = heldBars(
            piece,
            await rest.fetchCandles(symbol, piece.interval, {
              startTime: piece.from,
              endTime: piece.to - size,
              onProgress: (n) => progress.update(loaded + n),
            }),
          );
          // Stopped while the piece was on its way: the store may be closing, nothing more is written.
          if (this.closed) return false;
          await writeInSlices(
            bars.length,
            (start, end) => write(closedUpdates(symbol, venue, piece.interval, bars.candles(start, end))),
            () => this.closed,
            this.nextSlice,
          );
          // Stopped between two slices: the rest of the piece was not written.
          if (this.closed) return false;
          loaded += bars.length;
          progress.update(loaded);
          failures.succeeded();
          break;
        } catch (err) {
          if (this.closed) return false;
          const delayMs = backoffDelay(attempt, HISTORY_RETRY);
          failures.failed(err, delayMs);
          await this.sleep(delayMs);
        }
      }
    }
    return true;
  }

  /** Stops: loads under way end at their next step, and none is retried. */
  close(): void {
    this.closed = true;
    for (const wake of this.sleepers) wake();
  }

  private failures(symbol: string, failing: string, stillFailing: string): RepeatedFailure {
    const { venue, logger, clock } = this.options;
    return new RepeatedFailure({
      logger,
      now: () => clock.now(),
      level: 'error',
      fields: { venue, symbol },
      failing,
      stillFailing,
    });
  }

  private async fetch(symbol: string): Promise<StartupHistory> {
    const { rest, clock } = this.options;
    const startedAt = clock.now();
    const liveMinute = bucketStart('1m', startedAt);
    const oldest = liveFrom(liveMinute);
    // The requests are independent and small: all at once.
    const minutesLoading = rest.fetchCandles(symbol, '1m', {
      startTime: oldest,
      endTime: liveMinute - MINUTE_MS,
    });
    const higherLoading = INTERVALS.filter((i) => i !== '1m').map(async (interval) => {
      const from = seedFrom(interval, liveMinute);
      const to = bucketStart(interval, liveMinute);
      // From the oldest minute on, the engine rolls the bars up from the minutes itself.
      if (from >= oldest || from >= to) return [interval, []] as const;
      const size = INTERVAL_MS[interval];
      const bars = await rest.fetchCandles(symbol, interval, { startTime: from, endTime: to - size });
      return [interval, bars.filter((b) => b.time >= from && b.time < to)] as const;
    });
    // One Promise.all over every request, so that a second failure is not left unhandled.
    const [allMinutes, higher] = await Promise.all([minutesLoading, Promise.all(higherLoading)]);
    const minutes = allMinutes.filter((b) => b.time >= oldest && b.time < liveMinute);
    // The live trades held meanwhile follow these.
    const tradesUntil = clock.now();
    const recentTrades = await rest.fetchTrades(symbol, { startTime: liveMinute, endTime: tradesUntil });
    return {
      symbol,
      liveMinute,
      minutes,
      higher,
      recentTrades,
      tradesUntil,
      bars: higher.reduce((n, [, bars]) => n + bars.length, minutes.length),
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

/**
 * Updates of a background history piece handed to the store at a time. A piece is up to 1,440 bars, and storing a
 * bar (the memory tier's columns, the write buffer's queue) is done synchronously: a whole piece in one go held
 * the event loop for tens of ms while the code was still cold at start-up (docs/PERFORMANCE.md, "Start-up
 * stalls").
 */
const WRITE_SLICE = 240;

/**
 * Calls `writeSlice` on [start, end) slices of `count` items, in order, waiting for `nextSlice` between slices; no
 * slice once `stopped` (the loader closed in between: the store may be closing).
 */
async function writeInSlices(
  count: number,
  writeSlice: (start: number, end: number) => Promise<void>,
  stopped: () => boolean,
  nextSlice: () => Promise<void>,
): Promise<void> {
  // A piece is handed over even when empty: at least one write per piece.
  let start = 0;
  do {
    if (start > 0) await nextSlice();
    if (stopped()) return;
    await writeSlice(start, Math.min(count, start + WRITE_SLICE));
    start += WRITE_SLICE;
  } while (start < count);
}

/**
 * The bars of a background piece while its slices wait for their turns: in columns (time, trade count, the
 * decimals), and as Candles only for the slice being stored. A piece's turns can spread over hundreds of ms of
 * a busy start-up; held as Candles, its bars (18 objects each: the bar, eight decimals and their BigInts) lived
 * through young-generation collections, each of which copied them, and they were most of what those collections
 * copied while history loaded (docs/PERFORMANCE.md, "Start-up stalls").
 */
class HeldBars {
  private readonly decimals = new BarDecimalColumns();
  private readonly times: Float64Array;
  private readonly trades: Float64Array;

  constructor(bars: readonly Candle[]) {
    this.times = new Float64Array(bars.length);
    this.trades = new Float64Array(bars.length);
    this.decimals.moveRows({ head: 0, size: 0, capacity: bars.length, inPlace: false });
    bars.forEach((bar, row) => {
      this.times[row] = bar.time;
      this.trades[row] = bar.trades;
      this.decimals.set(row, bar, bar.time);
    });
  }

  get length(): number {
    return this.times.length;
  }

  /** Bars [start, end) as Candles. */
  candles(start: number, end: number): Candle[] {
    const candles: Candle[] = [];
    for (let row = start; row < end; row++)
      candles.push(this.decimals.candle(row, this.times[row] as number, this.trades[row] as number));
    return candles;
  }
}

/** The bars of `fetched` inside `piece`, held (HeldBars). */
function heldBars(piece: HistoryPiece, fetched: readonly Candle[]): HeldBars {
  return new HeldBars(fetched.filter((b) => b.time >= piece.from && b.time < piece.to));
}

/** Bars of history as closed updates of `venue`'s, for the store (history is stored, not published). */
function closedUpdates(
  symbol: string,
  venue: VenueId,
  interval: Interval,
  bars: readonly Candle[],
): CandleUpdate[] {
  // One list of sources for the bars: an array per bar would be garbage for nothing.
  const sources: readonly VenueId[] = Object.freeze([venue]);
  return bars.map((bar) => ({ symbol, interval, state: 'closed', bar, sources, backfilled: true }));
}

/** Every bar of the start-up history as a closed update of `venue`'s, for the store. */
export function historyUpdates(history: StartupHistory, venue: VenueId): CandleUpdate[] {
  const out = closedUpdates(history.symbol, venue, '1m', history.minutes);
  for (const [interval, bars] of history.higher)
    out.push(...closedUpdates(history.symbol, venue, interval, bars));
  return out;
}
