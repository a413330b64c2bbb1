import type { CandleEngine, CandleEngineStats } from '../candles/candle-engine.ts';
import type { Candle } from '../domain/candle.ts';
import { eq, toPlainString } from '../domain/decimal.ts';
import type { Trade } from '../domain/trade.ts';
import { TradeDedupe, type SeqGap, type TradeDedupeStats } from '../feed/trade-dedupe.ts';

/**
 * Missed trades to fetch over REST: a hole in the sequence, or everything since a time. `joining`: found at the
 * stream's join after start-up (`expectStreamJoin`), where a stream still subscribing is expected to miss a few
 * (no sign of trouble); by time, only perhaps missed: finding none there is no backfill.
 */
export type MissedTrades =
  (SeqGap & { readonly joining?: boolean }) | { readonly since: number; readonly joining?: boolean };

/** One symbol's figures in the ingest's statistics: its candle engine's (when it builds candles) and dedupe's. */
export type SymbolIngestStats = Partial<CandleEngineStats> & TradeDedupeStats;

/** Called when our final bar of a minute differs from the venue's closed kline of it. */
export type KlineMismatch = (ours: Candle, kline: Candle) => void;

/** How many recent 1m bars are looked through for the minute of a kline waiting to be compared. */
export const KLINE_LOOKBACK_BARS = 16;

/**
 * One symbol's ingest on one venue: every trade is deduplicated, applied to the symbol's candles (when this venue
 * builds them) and batched for the trades channel. While history or a backfill is being applied, live trades are
 * held back and applied after it, so that candles see the trades in order.
 */
export class SymbolIngest {
  readonly dedupe: TradeDedupe;
  /** Trades held back while history or a backfill is applied; null while trades are applied as they come. */
  private held: Trade[] | null = [];
  /** Exchange time of the newest trade applied; a time-based backfill starts there. */
  private lastTradeTime: number | null = null;
  /** Trades accepted since the last flush, published as one batch. */
  private tradeBatch: Trade[] = [];
  private klineMismatches = 0;
  /**
   * The venue's closed 1m klines waiting for our bar of their minute to close, by minute, each with what to call
   * if the two differ. See `checkKline`.
   */
  private readonly pendingKlines = new Map<number, { kline: Candle; onDiffers: KlineMismatch }>();
  /**
   * Where the REST trades applied at start-up end, until the stream shows that its trades continue them; null
   * once it has (or when nothing was applied from REST). See `expectStreamJoin`.
   */
  private joinSince: number | null = null;
  /**
   * Trades before this time are counted already: the engine was seeded with the venue's closed bars up to it (the
   * live minute at start-up). See `historyUntil`.
   */
  private seededUntil = -Infinity;
  /**
   * While trades since a time are due from REST (`expectFetchedTrades`): the numbers left open below the first new
   * stream trade applied meanwhile, which the fetched trades will be lower than; null until that trade comes;
   * undefined when no such fetch is due.
   */
  private fetchRoom: SeqGap | null | undefined;

  /**
   * Starts holding: nothing is applied before history is (`release`). `engine` is null when this venue only
   * relays the symbol's trades.
   */
  constructor(
    readonly symbol: string,
    readonly engine: CandleEngine | null,
    private readonly contiguousSeq: boolean,
  ) {
    this.dedupe = new TradeDedupe({ contiguousSeq });
  }

  /**
   * The trades of the minute in progress were fetched over REST up to `restUntil` at start-up. The stream's trades
   * continue them without a hole only if the venue was already sending this symbol's trades then, and a stream
   * that has just connected may not be yet: its subscription takes a round trip, more on a busy machine. The
   * stream's first trade decides: one the REST answer held too (the two overlap), or the next of a contiguous
   * sequence already begun (a hole shows as a gap), continues them; any other reports the trades since
   * `restUntil` as missed, to be fetched.
   */
  expectStreamJoin(restUntil: number): void {
    this.joinSince = restUntil;
  }

  /**
   * The engine was seeded with the venue's closed bars of every minute before `time`: each already holds all its
   * trades. The stream still delivers some of them (trades held from before the load began, a subscription's
   * snapshot of recent trades) and a backfill after a reconnect may fetch them; where ids are no sequence (Bitget,
   * dYdX) the dedupe has never seen them, so adding them would count them twice. They are published, not added.
   */
  historyUntil(time: number): void {
    this.seededUntil = time;
  }

  /**
   * The trades since a time will be fetched over REST (TradeBackfill: a stream that joined late, or came back after
   * an outage), and stream trades may be applied before they come: a later trade, applied first, must not make the
   * fetched ones look like duplicates. The first new numbered trade applied from now on leaves the numbers below it
   * open (`TradeDedupe.leaveOpenBelow`) until `fetchedTrades`. Where ids are no contiguous sequence the ids
   * remembered decide, and a contiguous sequence under way reports its own gaps: neither needs it.
   */
  expectFetchedTrades(): void {
    this.fetchRoom ??= null;
  }

  /** The trades expected since `expectFetchedTrades` were fetched and applied: what was left open for them closes. */
  fetchedTrades(): void {
    if (this.fetchRoom) this.dedupe.close(this.fetchRoom);
    this.fetchRoom = undefined;
  }

  /** Whether live trades are being held back (history or a backfill is being applied). */
  get holding(): boolean {
    return this.held !== null;
  }

  /** Exchange time of the newest trade applied, null before the first. */
  get newestTradeTime(): number | null {
    return this.lastTradeTime;
  }

  /** Holds live trades from now on, until `release`. */
  hold(): void {
    this.held ??= [];
  }

  /**
   * Applies the trades held back, in the order they came, and applies live trades as they come from now on.
   * Trades they show missing go to `onMissed`.
   */
  release(onMissed?: (missed: MissedTrades) => void): number {
    const held = this.held ?? [];
    this.held = null;
    // A backfill that one of them starts holds the rest of them again, in order.
    for (const t of held) this.receive(t, onMissed);
    return held.length;
  }

  /** A trade of the live stream: held back, or applied at once (trades it shows missing go to `onMissed`). */
  receive(trade: Trade, onMissed?: (missed: MissedTrades) => void): void {
    if (this.held) this.held.push(trade);
    else this.applyStreamTrade(trade, onMissed);
  }

  private applyStreamTrade(trade: Trade, onMissed?: (missed: MissedTrades) => void): void {
    const since = this.joinSince;
    if (since === null && this.fetchRoom !== null) {
      this.apply(trade, onMissed);
      return;
    }
    this.joinSince = null;
    const sequenceBegun = this.contiguousSeq && this.dedupe.highestSeq !== undefined;
    const isNew = !sequenceBegun && this.dedupe.isNew(trade);
    // The stream's first trade continues nothing the REST answer held: the trades since its end are fetched.
    const joinedLate = since !== null && isNew;
    if (joinedLate) this.expectFetchedTrades();
    if (this.fetchRoom === null && isNew && trade.seq !== undefined) {
      this.fetchRoom = this.dedupe.leaveOpenBelow(trade.seq) ?? null;
    }
    this.apply(trade, since !== null && onMissed ? (gap) => onMissed({ ...gap, joining: true }) : onMissed);
    if (joinedLate) onMissed?.({ since, joining: true });
  }

  /**
   * Applies a trade not seen before to the candles (unless its minute came from history: `historyUntil`) and
   * queues it for the trades channel; false for a duplicate. `backfilled`: it came over REST (history, a backfill),
   * and the bars it lands in say so.
   */
  apply(trade: Trade, onGap?: (gap: SeqGap) => void, backfilled = false): boolean {
    if (!this.dedupe.accept(trade, onGap)) return false;
    if (trade.time >= this.seededUntil) this.engine?.addTrade(trade, backfilled);
    if (this.lastTradeTime === null || trade.time > this.lastTradeTime) this.lastTradeTime = trade.time;
    this.tradeBatch.push(trade);
    return true;
  }

  /**
   * Closes the bars whose time is over, unless trades are held back (they may still belong in those bars), then
   * compares the venue klines waiting for those bars.
   */
  advance(now: number): void {
    if (this.held) return;
    this.engine?.advance(now);
    this.compareClosedKlines();
  }

  /** Trades applied since the last call, oldest first. */
  takeTrades(): Trade[] {
    const batch = this.tradeBatch;
    this.tradeBatch = [];
    return batch;
  }

  /**
   * Compares the venue's own closed 1m kline with our bar of that minute once ours is final: when the engine has
   * closed it, after its grace for late trades. The venue may close its kline before the minute's last trades
   * reach us: OKX sends klines and trades on separate connections, and a busy machine reads one ahead of the
   * other. A difference is counted and reported to `onDiffers`. A later kline of the same minute replaces one
   * still waiting; a kline of a minute our engine no longer holds (or never built) is not compared, nor are more than
   * `KLINE_LOOKBACK_BARS` waiting at once.
   */
  checkKline(kline: Candle, onDiffers: KlineMismatch): void {
    if (!this.engine) return;
    this.pendingKlines.set(kline.time, { kline, onDiffers });
    // Bounded while nothing closes (no bar priced yet, a long hold): the oldest waiting is given up.
    if (this.pendingKlines.size > KLINE_LOOKBACK_BARS) {
      this.pendingKlines.delete(Math.min(...this.pendingKlines.keys()));
    }
    if (!this.held) this.compareClosedKlines();
  }

  /** Compares the waiting klines whose minute our engine has closed (the live bar is a later minute). */
  private compareClosedKlines(): void {
    const engine = this.engine;
    if (!engine || this.pendingKlines.size === 0) return;
    const liveMinute = engine.live('1m')?.time;
    if (liveMinute === undefined) return;
    let recent: readonly Candle[] | undefined;
    for (const [time, { kline, onDiffers }] of this.pendingKlines) {
      if (time >= liveMinute) continue;
      this.pendingKlines.delete(time);
      recent ??= engine.history('1m', KLINE_LOOKBACK_BARS);
      const ours = recent.find((b) => b.time === time);
      if (!ours || sameBar(ours, kline)) continue;
      this.klineMismatches++;
      onDiffers(ours, kline);
    }
  }

  get mismatchedKlines(): number {
    return this.klineMismatches;
  }

  stats(): SymbolIngestStats {
    return { ...this.engine?.stats(), ...this.dedupe.stats() };
  }
}

function sameBar(a: Candle, b: Candle): boolean {
  return (['open', 'high', 'low', 'close', 'volume'] as const).every((k) => eq(a[k], b[k]));
}

/** A bar's open, high, low, close and volume as exact decimals, for a log line. */
export function barText(bar: Candle): string {
  return (['open', 'high', 'low', 'close', 'volume'] as const).map((k) => toPlainString(bar[k])).join(' ');
}
