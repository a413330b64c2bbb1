import type { CandleEngine, CandleEngineStats } from '../candles/candle-engine.ts';
import type { Candle } from '../domain/candle.ts';
import { eq } from '../domain/decimal.ts';
import type { Trade } from '../domain/trade.ts';
import { TradeDedupe, type SeqGap, type TradeDedupeStats } from '../feed/trade-dedupe.ts';

/**
 * Missed trades to fetch over REST: a hole in the sequence, or everything since a time. `joining`: only perhaps
 * missed, at the stream's join after start-up (`expectStreamJoin`); finding none there is no backfill.
 */
export type MissedTrades = SeqGap | { readonly since: number; readonly joining?: boolean };

/** One symbol's figures in the ingest's statistics: its candle engine's (when it builds candles) and dedupe's. */
export type SymbolIngestStats = Partial<CandleEngineStats> & TradeDedupeStats;

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
   * Where the REST trades applied at start-up end, until the stream shows that its trades continue them; null
   * once it has (or when nothing was applied from REST). See `expectStreamJoin`.
   */
  private joinSince: number | null = null;

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
    for (const t of held) this.applyStreamTrade(t, onMissed);
    return held.length;
  }

  /** A trade of the live stream: held back, or applied at once (trades it shows missing go to `onMissed`). */
  receive(trade: Trade, onMissed: (missed: MissedTrades) => void): void {
    if (this.held) this.held.push(trade);
    else this.applyStreamTrade(trade, onMissed);
  }

  private applyStreamTrade(trade: Trade, onMissed?: (missed: MissedTrades) => void): void {
    const since = this.joinSince;
    if (since === null) {
      this.apply(trade, onMissed);
      return;
    }
    this.joinSince = null;
    const sequenceBegun = this.contiguousSeq && this.dedupe.highestSeq !== undefined;
    const isNew = this.apply(trade, onMissed);
    if (isNew && !sequenceBegun) onMissed?.({ since, joining: true });
  }

  /**
   * Applies a trade not seen before to the candles and queues it for the trades channel; false for a duplicate.
   * `backfilled`: it came over REST (history, a backfill), and the bars it lands in say so.
   */
  apply(trade: Trade, onGap?: (gap: SeqGap) => void, backfilled = false): boolean {
    if (!this.dedupe.accept(trade, onGap)) return false;
    this.engine?.addTrade(trade, backfilled);
    if (this.lastTradeTime === null || trade.time > this.lastTradeTime) this.lastTradeTime = trade.time;
    this.tradeBatch.push(trade);
    return true;
  }

  /** Closes the bars whose time is over, unless trades are held back (they may still belong in those bars). */
  advance(now: number): void {
    if (!this.held) this.engine?.advance(now);
  }

  /** Trades applied since the last call, oldest first. */
  takeTrades(): Trade[] {
    const batch = this.tradeBatch;
    this.tradeBatch = [];
    return batch;
  }

  /**
   * Compares the venue's own closed 1m kline with our bar of that minute; a difference is counted (and true).
   * Not while trades are held back: our bar may still be missing some.
   */
  differsFromKline(kline: Candle): boolean {
    if (this.held) return false;
    const ours = this.engine?.history('1m', 3).find((b) => b.time === kline.time);
    if (!ours || sameBar(ours, kline)) return false;
    this.klineMismatches++;
    return true;
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
