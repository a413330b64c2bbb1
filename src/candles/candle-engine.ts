/**
 * Candles of one instrument, built from its trades: 1m bars bucketed on exchange time, higher intervals rolled up
 * from 1m. A pure state machine: the owner injects the clock through `advance(nowMs)` and receives every change
 * through `onUpdate`.
 *
 * Rules (they reproduce Binance's own klines):
 * - a minute without trades is a flat bar at the previous close with zero volume;
 * - a higher bar takes open/high/low/close from the minutes that had trades only; it is flat at the previous close
 *   only when its whole bucket had none;
 * - a bar closes when a trade of a later minute arrives or when the clock passes its end plus `closeGraceMs`;
 *   emissions per interval are in order: a bar's `closed` comes before the next bar's first `live`;
 * - a late trade for a closed minute revises it and every higher bar containing it (`revised`; the still open
 *   higher bars are re-emitted as `live`). A revision also re-prices the empty minutes that followed it.
 * - a trade older than the retained 1m bars (`retentionMs`) cannot be applied exactly; it is counted as `tooLate`
 *   and `addTrade` says so.
 *
 * Input must be deduplicated (the feed layer does it by trade id). Order inside a minute: see bar-builder.ts.
 */
import type { Candle, CandleState, CandleUpdate } from '../domain/candle.ts';
import { type Decimal, eq } from '../domain/decimal.ts';
import { VENUES, type VenueId } from '../domain/instrument.ts';
import { DAY_MS, INTERVALS, INTERVAL_MS, MINUTE_MS, bucketStart, type Interval } from '../domain/interval.ts';
import type { Trade } from '../domain/trade.ts';
import {
  BACKFILLED_BIT,
  VENUE_BITS,
  type MutableBar,
  applyTrade,
  barFromCandle,
  combineToCandle,
  combinedMask,
  flatBar,
  flatCandle,
  foldBar,
  maskOf,
  resetBar,
  sameCandle,
  setFlat,
  toCandle,
  venueIndex,
} from './bar-builder.ts';
import { ClosedBars } from './closed-bars.ts';
import { MinuteBars, emptyBar } from './minute-bars.ts';

export interface CandleEngineOptions {
  /** Canonical symbol stamped on every update. */
  readonly symbol: string;
  /** Default `sources` of bars whose venues are unknown (empty bars, seeded bars without a source list). */
  readonly venues: readonly VenueId[];
  /** How long after its end a bar waits for trades before the clock closes it. */
  readonly closeGraceMs: number;
  /**
   * How long 1m bars are kept for revisions (default 8 days, so any bar of the current week can be revised).
   * Must be at least the length of the largest interval built.
   */
  readonly retentionMs?: number;
  /**
   * Closed bars kept at most per higher interval for `history` (default 1000); only those that end within
   * `retentionMs` are kept. 1m history is what `retentionMs` keeps.
   */
  readonly historyLimit?: number;
  /** Intervals to build (default all); 1m is always built because the others roll up from it. */
  readonly intervals?: readonly Interval[];
  /** Emit `live` updates (default true). Offline aggregation turns them off and reads `live()` at the end. */
  readonly emitLive?: boolean;
  /**
   * Build `live` updates only when the owner calls `publishLive()` (its publish tick), not on every change
   * (default false). A live bar that changed with every trade between two publishes then costs one update
   * instead of one per trade and interval. `closed` and `revised` are still emitted at once, so a bar's final
   * state always comes before the next bar's first `live`.
   */
  readonly deferLive?: boolean;
  onUpdate(update: CandleUpdate): void;
}

export interface CandleEngineStats {
  /** 1m bars held (retained for revisions), including the live one. */
  readonly oneMinuteCandles: number;
  /** Trades added to a bar (live and late). */
  readonly tradesApplied: number;
  /** Trades that revised a closed minute. */
  readonly lateTrades: number;
  /** Trades too old to apply exactly (older than the retained 1m bars); not counted in any bar. */
  readonly tooLate: number;
  /** Start of the live minute, undefined before `resume` or the first trade. */
  readonly liveMinute: number | undefined;
  /** Start of the oldest 1m bar held: bars ending at or before it can no longer change. */
  readonly oldestMinute: number | undefined;
}

/** What `addTrade` did with a trade. */
export type TradeOutcome = 'live' | 'revised' | 'tooLate';

export const DEFAULT_RETENTION_MS = 8 * DAY_MS;
export const DEFAULT_HISTORY_LIMIT = 1000;

interface HigherState {
  readonly interval: Interval;
  readonly size: number;
  /** Start of the open bucket (the one holding the live minute); NaN before start. */
  bucket: number;
  /** Closed traded minutes of the open bucket, folded in order. */
  readonly base: MutableBar;
  /**
   * Closed bars that end within the retention, oldest first, at most historyLimit (up to twice, then cut), in
   * columns (compact).
   */
  readonly closed: ClosedBars;
}

/** Builds 1m..1W candles for one symbol. See the module comment for the rules. */
export class CandleEngine {
  private readonly symbol: string;
  private readonly defaultMask: number;
  private readonly closeGraceMs: number;
  private readonly retentionMs: number;
  private readonly historyLimit: number;
  private readonly emitLive: boolean;
  private readonly deferLive: boolean;
  /**
   * With `deferLive`: the live bars changed since the last `publishLive()`, one bit per interval built (bit 0 is
   * 1m, bit i + 1 is higher[i]).
   */
  private liveChanged = 0;
  private readonly onUpdate: (update: CandleUpdate) => void;
  private readonly higher: HigherState[] = [];
  private readonly higherByInterval = new Map<Interval, HigherState>();
  /** Longest interval built; a late trade whose bucket of it is no longer fully held is too late. */
  private readonly largest: Interval;
  private readonly sourcesByMask: (readonly VenueId[])[] = [];

  /** Contiguous 1m bars, oldest held first, the last one the live minute once started (compact columns). */
  private readonly minutes: MinuteBars;
  /** Reused to read held 1m bars in rollups (their decimals are fresh objects, so a fold may keep them). */
  private readonly scratch = emptyBar();
  private started = false;
  private liveMinute: number | undefined;
  /** True once bars were dropped for retention: buckets reaching before the oldest bar can't be recomputed. */
  private trimmed = false;
  private tradesApplied = 0;
  private lateTrades = 0;
  private tooLate = 0;

  constructor(options: CandleEngineOptions) {
    this.symbol = options.symbol;
    this.defaultMask = maskOf(options.venues);
    this.closeGraceMs = options.closeGraceMs;
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    this.emitLive = options.emitLive ?? true;
    this.deferLive = options.deferLive ?? false;
    this.onUpdate = options.onUpdate;
    // The live minute and the retained ones before it.
    this.minutes = new MinuteBars(Math.ceil(this.retentionMs / MINUTE_MS) + 1);
    if (!Number.isFinite(this.closeGraceMs) || this.closeGraceMs < 0 || this.closeGraceMs >= MINUTE_MS) {
      throw new RangeError('closeGraceMs must be within [0, 60000)');
    }
    if (!Number.isInteger(this.historyLimit) || this.historyLimit < 1) {
      throw new RangeError('historyLimit must be a positive integer');
    }
    const wanted = options.intervals ?? INTERVALS;
    let largest: Interval = '1m';
    for (const interval of INTERVALS) {
      if (interval === '1m' || !wanted.includes(interval)) continue;
      const state: HigherState = {
        interval,
        size: INTERVAL_MS[interval],
        bucket: NaN,
        base: flatBar(0, { coef: 0n, scale: 0 }),
        closed: new ClosedBars(),
      };
      this.higher.push(state);
      this.higherByInterval.set(interval, state);
      largest = interval;
    }
    this.largest = largest;
    if (!(this.retentionMs >= INTERVAL_MS[largest])) {
      throw new RangeError(`retentionMs must be at least ${INTERVAL_MS[largest]} (one ${largest} bar)`);
    }
    for (let mask = 0; mask < 1 << VENUES.length; mask++) {
      const venues = VENUES.filter((_, i) => (mask & (1 << i)) !== 0);
      this.sourcesByMask.push(Object.freeze(venues));
    }
  }

  /**
   * Loads closed bars of `interval` from history, oldest first, before `resume` and the first trade. 1m bars are
   * kept for rolling up the open higher bars and for revisions (seed them back to the start of the current week);
   * gaps between them are filled flat. Bars not after the last seeded bar of the interval are ignored. Emits nothing.
   * Seeded bars came from history, not from this engine's stream: the bars built on them are marked backfilled.
   */
  seed(interval: Interval, bars: readonly Candle[], sources?: readonly VenueId[]): void {
    if (this.started) throw new Error('seed() must be called before resume() and the first trade');
    const mask = (sources === undefined ? this.defaultMask : maskOf(sources)) | BACKFILLED_BIT;
    const size = INTERVAL_MS[interval];
    for (const bar of bars) {
      if (bucketStart(interval, bar.time) !== bar.time) {
        throw new Error(`seeded ${interval} bar time ${bar.time} is not aligned to the interval`);
      }
    }
    if (interval === '1m') {
      for (const bar of bars) {
        const last = this.lastSlot();
        if (last !== undefined && bar.time <= last.time) continue;
        if (last !== undefined) {
          for (let t = last.time + MINUTE_MS; t < bar.time; t += MINUTE_MS)
            this.minutes.push(flatBar(t, last.close));
        }
        this.minutes.push(barFromCandle(bar, size, mask));
      }
      return;
    }
    const state = this.higherByInterval.get(interval);
    if (state === undefined) return;
    for (const bar of bars) {
      const last = state.closed.lastTime();
      if (last !== undefined && bar.time <= last) continue;
      this.pushClosed(state, bar);
    }
  }

  /**
   * Starts the live minute at the minute containing `timeMs` (after seeding). Seeded bars at or after it are
   * dropped (they were still open); minutes missing between the seed and it are emitted as flat `closed` bars, as
   * are higher bars that can be rolled up from seeded 1m bars but were not seeded. The open higher bars are the
   * rollup of the seeded 1m bars of their bucket; their `live` state is emitted.
   */
  resume(timeMs: number): void {
    if (this.started) throw new Error('resume() was already called or trades were already added');
    this.started = true;
    const minute = bucketStart('1m', timeMs);
    this.liveMinute = minute;
    while (this.minutes.length > 0 && this.lastSlot()!.time >= minute) this.minutes.pop();
    const last = this.lastSlot();
    if (last === undefined) return;
    for (let t = last.time + MINUTE_MS; t < minute; t += MINUTE_MS) {
      const slot = flatBar(t, last.close);
      this.minutes.push(slot);
      this.emit('1m', 'closed', toCandle(slot), 0);
    }
    const live = flatBar(minute, last.close);
    this.minutes.push(live);
    const first = this.minutes.oldestTime!;
    for (const h of this.higher) {
      const bucket = bucketStart(h.interval, minute);
      while (h.closed.length > 0 && h.closed.lastTime()! >= bucket) h.closed.pop();
      const lastClosed = h.closed.lastTime();
      let b = lastClosed !== undefined ? lastClosed + h.size : bucketStart(h.interval, first);
      if (b < first) b += h.size;
      for (; b < bucket; b += h.size) {
        const rolled = this.rollup(b, b + h.size);
        this.pushClosed(h, rolled.candle);
        this.emit(h.interval, 'closed', rolled.candle, rolled.mask);
      }
      this.startBucket(h, bucket);
    }
    this.emitLiveBars();
    this.trim();
  }

  /**
   * Adds one trade. Returns whether it went into the live minute, revised a closed one, or was too late.
   * `backfilled`: the trade came over REST (a backfill), not from the live stream; its bars say so. (A flag, not
   * an options object: this runs for every trade.)
   */
  addTrade(trade: Trade, backfilled = false): TradeOutcome {
    const minute = bucketStart('1m', trade.time);
    const venue = venueIndex(trade.venue);
    const extraMask = backfilled ? BACKFILLED_BIT : 0;
    if (!this.started) {
      if (this.minutes.length > 0) this.resume(trade.time);
      else {
        this.started = true;
        this.liveMinute = minute;
      }
    }
    const liveMinute = this.liveMinute!;
    if (this.minutes.length === 0) {
      // Nothing priced yet: the first trade at or after the live minute starts the series.
      if (minute < liveMinute) return this.rejectTooLate();
      const slot = flatBar(minute, trade.price);
      this.minutes.push(slot);
      this.liveMinute = minute;
      for (const h of this.higher) this.startBucket(h, bucketStart(h.interval, minute));
      return this.applyLive(slot, trade, venue, extraMask);
    }
    if (minute > liveMinute) this.rollTo(minute, false);
    if (minute >= liveMinute) return this.applyLive(this.lastSlot()!, trade, venue, extraMask);
    const oldest = this.minutes.oldestTime!;
    if (minute < oldest || (this.trimmed && bucketStart(this.largest, trade.time) < oldest)) {
      return this.rejectTooLate();
    }
    this.revise(minute, trade, venue, extraMask);
    return 'revised';
  }

  /**
   * Moves the clock: closes the live minute (and the higher bars it ends) once `nowMs` is past its end plus
   * `closeGraceMs`, emitting empty minutes as flat closed bars and the new live bars. Never goes back.
   */
  advance(nowMs: number): void {
    if (!this.started || this.liveMinute === undefined) return;
    const target = bucketStart('1m', nowMs - this.closeGraceMs);
    if (target <= this.liveMinute) return;
    if (this.minutes.length === 0) {
      this.liveMinute = target;
      return;
    }
    this.rollTo(target, this.emitLive);
  }

  /** The bar in progress of `interval`, undefined before anything is priced or for an interval not built. */
  live(interval: Interval): Candle | undefined {
    const last = this.started ? this.lastSlot() : undefined;
    if (last === undefined) return undefined;
    if (interval === '1m') return toCandle(last);
    const h = this.higherByInterval.get(interval);
    return h === undefined ? undefined : combineToCandle(h.bucket, h.base, last);
  }

  /** Up to `limit` most recent bars of `interval` (closed ones and the live one last), oldest first. */
  history(interval: Interval, limit: number): Candle[] {
    if (limit <= 0) return [];
    const out: Candle[] = [];
    if (interval === '1m') {
      const held = this.minutes.length;
      for (let i = Math.max(0, held - limit); i < held; i++)
        out.push(toCandle(this.minutes.at(i, this.scratch)));
      return out;
    }
    const h = this.higherByInterval.get(interval);
    if (h === undefined) return out;
    const live = this.live(interval);
    const closedWanted = live === undefined ? limit : limit - 1;
    for (let i = Math.max(0, h.closed.length - closedWanted); i < h.closed.length; i++)
      out.push(h.closed.at(i));
    if (live !== undefined) out.push(live);
    return out;
  }

  stats(): CandleEngineStats {
    return {
      oneMinuteCandles: this.minutes.length,
      tradesApplied: this.tradesApplied,
      lateTrades: this.lateTrades,
      tooLate: this.tooLate,
      liveMinute: this.liveMinute,
      oldestMinute: this.minutes.oldestTime,
    };
  }

  private lastSlot(): MutableBar | undefined {
    return this.minutes.last();
  }

  private rejectTooLate(): TradeOutcome {
    this.tooLate++;
    return 'tooLate';
  }

  private applyLive(slot: MutableBar, trade: Trade, venue: number, extraMask: number): TradeOutcome {
    applyTrade(slot, trade, venue);
    slot.mask |= extraMask;
    this.tradesApplied++;
    this.emitLiveBars();
    return 'live';
  }

  /** Every live bar changed (a trade in the live minute changes the bar in progress of every interval). */
  private emitLiveBars(): void {
    if (!this.emitLive) return;
    if (this.deferLive) {
      this.liveChanged = (2 << this.higher.length) - 1;
      return;
    }
    const last = this.lastSlot();
    if (last === undefined) return;
    this.emit('1m', 'live', toCandle(last), last.mask);
    for (const h of this.higher) this.emitHigherLive(h, last);
  }

  /** The live 1m bar changed: emitted now, or marked for the next `publishLive()`. */
  private liveMinuteChanged(last: MutableBar): void {
    if (!this.emitLive) return;
    if (this.deferLive) this.liveChanged |= 1;
    else this.emit('1m', 'live', toCandle(last), last.mask);
  }

  /** The live bar of a higher interval changed: emitted now, or marked for the next `publishLive()`. */
  private higherLiveChanged(h: HigherState, last: MutableBar): void {
    if (!this.emitLive) return;
    if (this.deferLive) this.liveChanged |= 2 << this.higher.indexOf(h);
    else this.emitHigherLive(h, last);
  }

  private emitHigherLive(h: HigherState, last: MutableBar): void {
    this.emit(h.interval, 'live', combineToCandle(h.bucket, h.base, last), combinedMask(h.base, last));
  }

  /**
   * With `deferLive`: emits the current state of every live bar that changed since the last call, 1m first, then
   * the higher intervals in order. Call it right before taking the batch to publish.
   */
  publishLive(): void {
    const changed = this.liveChanged;
    if (changed === 0) return;
    this.liveChanged = 0;
    const last = this.lastSlot();
    if (last === undefined) return;
    if ((changed & 1) !== 0) this.emit('1m', 'live', toCandle(last), last.mask);
    for (let i = 0; i < this.higher.length; i++) {
      if ((changed & (2 << i)) !== 0) this.emitHigherLive(this.higher[i]!, last);
    }
  }

  /**
   * With `deferLive`: forgets which live bars changed, without building them: for an owner whose live bars are not
   * published now (another venue is the source), so that the next `publishLive()` emits only later changes.
   */
  discardLive(): void {
    this.liveChanged = 0;
  }

  private startBucket(h: HigherState, bucket: number): void {
    h.bucket = bucket;
    resetBar(h.base, bucket, h.base.close);
    this.foldRange(h.base, bucket, this.liveMinute!, h.size);
  }

  /**
   * Folds the closed bars of [from, to) into `acc`, in order, and returns the close of the first one (the flat price
   * of a bucket without trades). Held 1m bars are used wherever they reach. Before the oldest held minute, the
   * closed bars of the intervals shorter than `below` stand in for them, the longest that fits first: the buckets
   * nest (1m ⊂ 5m ⊂ 15m ⊂ 1h ⊂ 4h ⊂ 1D ⊂ 1W, weeks from Monday 00:00 UTC), and a bar is exactly the fold of the
   * bars that tile it. So an engine seeded with a few bars of each interval (the open week's closed days, today's
   * closed 4h bars, …, this hour's minutes) builds the open bars exactly without a week of 1m bars. A stretch
   * that no held bar covers had no trades (the venue has no bar for it) and is skipped.
   */
  private foldRange(acc: MutableBar, from: number, to: number, below: number): Decimal | undefined {
    let firstClose: Decimal | undefined;
    const oldest = this.minutes.oldestTime ?? Infinity;
    let t = from;
    while (t < to && t < oldest) {
      const found = this.closedBarAt(t, to, below);
      if (found === undefined) {
        t = Math.min(oldest, this.nextClosedAfter(t, below));
        continue;
      }
      firstClose ??= found.bar.close;
      foldBar(acc, barFromCandle(found.bar, found.size, this.defaultMask | BACKFILLED_BIT));
      t += found.size;
    }
    if (t >= to) return firstClose;
    const held = this.minutes.length;
    for (let i = this.indexOf(t); i < held; i++) {
      const slot = this.minutes.at(i, this.scratch);
      if (slot.time >= to) break;
      firstClose ??= slot.close;
      foldBar(acc, slot);
    }
    return firstClose;
  }

  /** The held closed bar that starts at `t` and ends by `to`, of the longest interval shorter than `below`. */
  private closedBarAt(t: number, to: number, below: number): { bar: Candle; size: number } | undefined {
    for (let i = this.higher.length - 1; i >= 0; i--) {
      const h = this.higher[i]!;
      if (h.size >= below || t + h.size > to || bucketStart(h.interval, t) !== t) continue;
      const index = h.closed.lowerBound(t);
      if (index < h.closed.length && h.closed.timeAt(index) === t)
        return { bar: h.closed.at(index), size: h.size };
    }
    return undefined;
  }

  /** The start of the first held closed bar after `t` of the intervals shorter than `below` (Infinity if none). */
  private nextClosedAfter(t: number, below: number): number {
    let next = Infinity;
    for (const h of this.higher) {
      if (h.size >= below) break;
      const index = h.closed.lowerBound(t + 1);
      if (index < h.closed.length) next = Math.min(next, h.closed.timeAt(index));
    }
    return next;
  }

  /** Closes the live minute and opens `target` (> live minute); fills and closes what lies between. */
  private rollTo(target: number, emitLive: boolean): void {
    const live = this.lastSlot()!;
    const price = live.close;
    this.emit('1m', 'closed', toCandle(live), live.mask);
    for (let t = live.time + MINUTE_MS; t < target; t += MINUTE_MS) {
      const slot = flatBar(t, price);
      this.minutes.push(slot);
      this.emit('1m', 'closed', toCandle(slot), 0);
    }
    const next = flatBar(target, price);
    this.minutes.push(next);
    this.liveMinute = target;
    if (emitLive) this.liveMinuteChanged(next);
    for (const h of this.higher) {
      const bucket = bucketStart(h.interval, target);
      if (bucket === h.bucket) {
        foldBar(h.base, live);
        continue;
      }
      const final = combineToCandle(h.bucket, h.base, live);
      this.pushClosed(h, final);
      this.emit(h.interval, 'closed', final, combinedMask(h.base, live));
      for (let b = h.bucket + h.size; b < bucket; b += h.size) {
        const flat = flatCandle(b, price);
        this.pushClosed(h, flat);
        this.emit(h.interval, 'closed', flat, 0);
      }
      h.bucket = bucket;
      resetBar(h.base, bucket, price);
      if (emitLive) this.higherLiveChanged(h, next);
    }
    this.trim();
  }

  /** Applies a late trade to the closed minute `minute` and re-emits every bar it changes. */
  private revise(minute: number, trade: Trade, venue: number, extraMask: number): void {
    const index = this.indexOf(minute);
    const slot = this.minutes.at(index);
    applyTrade(slot, trade, venue);
    slot.mask |= extraMask;
    this.minutes.set(index, slot);
    this.tradesApplied++;
    this.lateTrades++;
    this.emit('1m', 'revised', toCandle(slot), slot.mask);
    // Empty minutes after it are flat at its close, which may have changed.
    let lastChanged = minute;
    const held = this.minutes.length;
    for (let i = index + 1; i < held; i++) {
      const next = this.minutes.at(i, this.scratch);
      if (next.traded || eq(next.close, slot.close)) break;
      setFlat(next, slot.close);
      this.minutes.set(i, next);
      lastChanged = next.time;
      const isLive = next.time === this.liveMinute;
      if (isLive) this.liveMinuteChanged(next);
      else this.emit('1m', 'revised', toCandle(next), 0);
    }
    const last = this.lastSlot()!;
    for (const h of this.higher) {
      for (let b = bucketStart(h.interval, minute); b <= lastChanged; b += h.size) {
        if (b === h.bucket) {
          this.startBucket(h, b);
          this.higherLiveChanged(h, last);
          continue;
        }
        const rolled = this.rollup(b, b + h.size);
        const previous = this.replaceClosed(h, rolled.candle);
        if (
          b !== bucketStart(h.interval, minute) &&
          previous !== undefined &&
          sameCandle(previous, rolled.candle)
        ) {
          continue;
        }
        this.emit(h.interval, 'revised', rolled.candle, rolled.mask);
      }
    }
  }

  /** The bar of the closed bucket [from, to) rolled up from the held bars (see `foldRange`). */
  private rollup(from: number, to: number): { candle: Candle; mask: number } {
    const acc = flatBar(from, this.minutes.at(0, this.scratch).close);
    const firstClose = this.foldRange(acc, from, to, to - from);
    if (!acc.traded) return { candle: flatCandle(from, firstClose ?? acc.close), mask: 0 };
    return { candle: toCandle(acc, from), mask: acc.mask };
  }

  private indexOf(minute: number): number {
    return (minute - this.minutes.oldestTime!) / MINUTE_MS;
  }

  private pushClosed(h: HigherState, bar: Candle): void {
    h.closed.push(bar);
    if (h.closed.length > this.historyLimit * 2) h.closed.dropOldest(h.closed.length - this.historyLimit);
  }

  /** Replaces the stored closed bar with the same time; returns the old one (undefined if no longer held). */
  private replaceClosed(h: HigherState, bar: Candle): Candle | undefined {
    return h.closed.replace(bar);
  }

  /**
   * Drops 1m bars older than the retention, and closed higher bars that ended before it: those can no longer be
   * revised (their minutes are gone) and are in the store; a takeover reaching that far back has no 1m bars either.
   */
  private trim(): void {
    const cutoff = this.liveMinute! - this.retentionMs;
    while (this.minutes.length > 1 && this.minutes.oldestTime! < cutoff) {
      this.minutes.dropOldest();
      this.trimmed = true;
    }
    for (const h of this.higher) {
      // Bars with time + size <= cutoff (times are whole milliseconds).
      const ended = h.closed.lowerBound(cutoff - h.size + 1);
      if (ended > 0) h.closed.dropOldest(ended);
    }
  }

  private emit(interval: Interval, state: CandleState, bar: Candle, mask: number): void {
    const venues = mask & VENUE_BITS;
    const sources = this.sourcesByMask[venues === 0 ? this.defaultMask : venues]!;
    const backfilled = (mask & BACKFILLED_BIT) !== 0;
    this.onUpdate({ symbol: this.symbol, interval, state, bar, sources, backfilled });
  }
}
