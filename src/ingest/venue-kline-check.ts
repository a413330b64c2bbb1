import type { Candle } from '../domain/candle.ts';
import { compare } from '../domain/decimal.ts';
import type { VenueId } from '../domain/instrument.ts';
import { MINUTE_MS } from '../domain/interval.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Clock, Timer } from '../util/clock.ts';
import type { VenueCandle, VenueRest } from '../venues/venue.ts';
import { barText, KLINE_LOOKBACK_BARS, type SymbolIngest } from './symbol-ingest.ts';

/** Wait before a failed fetch of skipped klines is tried again. */
export const KLINE_FETCH_RETRY_MS = 2000;

/** Fetches of the same skipped klines tried at most. */
export const KLINE_FETCH_ATTEMPTS = 5;

export interface VenueKlineCheckOptions {
  readonly venue: VenueId;
  readonly rest: VenueRest;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Our bar of `kline`'s minute has less volume than the venue's: the trades since that minute are to be fetched. */
  readonly onShort: (symbol: SymbolIngest, kline: Candle) => void;
}

/**
 * Compares every minute of our 1m bars with the venue's own closed kline of it (`SymbolIngest.checkKline`): the
 * check that finds trades a stream lost without a sign, one that stayed open but went silent for a while and
 * went on without them, with no reconnect and, on venues whose trade ids are no sequence, no hole to show it.
 *
 * The stream sends each minute's closed kline once, when the minute ends, so a silence across a minute's end
 * loses that kline with the trades: the minutes between the newest closed kline received and the next one are
 * then fetched over REST and compared in the same way (those our engine still holds, `KLINE_LOOKBACK_BARS`), as is
 * a kline closed with the last state seen of it (`lastSeen`: dYdX's, and Bitget's when its final row did not
 * come). After a reconnect, whose backfill fetches the trades of the outage, that also checks the backfill.
 */
export class VenueKlineCheck {
  /** Per instrument, the newest minute whose closed kline came or was fetched. */
  private readonly newestMinute = new Map<SymbolIngest, number>();
  private readonly retryTimers = new Set<Timer>();
  private closed = false;

  constructor(private readonly options: VenueKlineCheckOptions) {}

  /** A closed 1m kline of the venue's stream. */
  closedKline(symbol: SymbolIngest, candle: VenueCandle): void {
    if (!symbol.engine) return;
    const time = candle.bar.time;
    const newest = this.newestMinute.get(symbol);
    if (newest === undefined || time > newest) this.newestMinute.set(symbol, time);
    // The minutes between the newest kline and this one, and this one when its final state did not come.
    const skippedFrom =
      newest !== undefined && time > newest + MINUTE_MS
        ? Math.max(newest + MINUTE_MS, time - KLINE_LOOKBACK_BARS * MINUTE_MS)
        : undefined;
    const skippedTo = candle.lastSeen === true ? time : time - MINUTE_MS;
    const from = skippedFrom ?? (candle.lastSeen === true ? time : undefined);
    if (from !== undefined) void this.fetchSkipped(symbol, from, skippedTo, 1);
    if (candle.lastSeen !== true) this.check(symbol, candle.bar);
  }

  /** Stops: no fetch is started or retried from now on. */
  close(): void {
    this.closed = true;
    for (const timer of this.retryTimers) this.options.clock.clearTimer(timer);
    this.retryTimers.clear();
  }

  private check(symbol: SymbolIngest, kline: Candle): void {
    const { venue, logger, onShort } = this.options;
    symbol.checkKline(kline, (ours, theirs) => {
      if (compare(ours.volume, theirs.volume) < 0) onShort(symbol, theirs);
      logger.warn(
        {
          venue,
          symbol: symbol.symbol,
          time: new Date(theirs.time).toISOString(),
          ours: barText(ours),
          venueKline: barText(theirs),
        },
        'our 1m bar differs from the venue kline',
      );
    });
  }

  /** Fetches the venue's klines of the minutes `from`..`to` (starts, inclusive) and checks each. */
  private async fetchSkipped(symbol: SymbolIngest, from: number, to: number, attempt: number): Promise<void> {
    if (this.closed) return;
    const { venue, rest, logger, clock } = this.options;
    const range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    try {
      const bars = await rest.fetchCandles(symbol.symbol, '1m', { startTime: from, endTime: to });
      if (this.closed) return;
      const skipped = bars.filter((b) => b.time >= from && b.time <= to);
      logger.info(
        { venue, symbol: symbol.symbol, ...range, klines: skipped.length },
        'the stream skipped closed klines; fetched them to compare',
      );
      for (const kline of skipped) this.check(symbol, kline);
    } catch (err) {
      if (this.closed) return;
      if (attempt >= KLINE_FETCH_ATTEMPTS) {
        logger.warn(
          { venue, symbol: symbol.symbol, ...range, err, attempts: attempt },
          'the klines the stream skipped could not be fetched; those minutes are not compared',
        );
        return;
      }
      const timer = clock.setTimeout(() => {
        this.retryTimers.delete(timer);
        void this.fetchSkipped(symbol, from, to, attempt + 1);
      }, KLINE_FETCH_RETRY_MS);
      timer.unref();
      this.retryTimers.add(timer);
    }
  }
}
