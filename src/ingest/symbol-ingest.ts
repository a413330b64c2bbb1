import type { CandleEngine, CandleEngineStats } from '../candles/candle-engine.ts';
import type { Candle } from '../domain/candle.ts';
import { eq } from '../domain/decimal.ts';
import type { Trade } from '../domain/trade.ts';
import { TradeDedupe, type SeqGap, type TradeDedupeStats } from '../feed/trade-dedupe.ts';

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
   * Starts holding: nothing is applied before history is (`release`). `engine` is null when this venue only
   * relays the symbol's trades.
   */
  constructor(
    readonly symbol: string,
    readonly engine: CandleEngine | null,
    contiguousSeq: boolean,
  ) {
    this.dedupe = new TradeDedupe({ contiguousSeq });
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

  /** Applies the trades held back, in the order they came, and applies live trades as they come from now on. */
  release(): number {
    const held = this.held ?? [];
    this.held = null;
    for (const t of held) this.apply(t);
    return held.length;
  }

  /** A trade of the live stream: held back, or applied at once (a jump in the sequence goes to `onGap`). */
  receive(trade: Trade, onGap: (gap: SeqGap) => void): void {
    if (this.held) this.held.push(trade);
    else this.apply(trade, onGap);
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
