/**
 * The simulated Binance order book: an update id that grows with every trade, a deterministic book around the last
 * price for REST `/api/v3/depth`, and `@depth` diffs that carry a client from any snapshot to the current one under
 * Binance's U/u rules.
 */
import { hashSeed, Rng } from '../random.ts';
import type { BinanceSimInstrument } from './symbols.ts';
import type { BinanceSimDepth, BinanceSimDepthUpdate } from './wire.ts';

/** Book update id of an instrument: grows with every trade, as the real book does with every change. */
export function bookUpdateId(instrument: BinanceSimInstrument): number {
  const last = instrument.market.recentTrades().at(-1);
  return 10_000_000 + (last === undefined ? 0 : last.a * 3);
}

/** A plausible book around the last price: one-tick spread, sizes drawn deterministically from the update id. */
export function depthSnapshot(instrument: BinanceSimInstrument, levels: number): BinanceSimDepth {
  const { market, fmt } = instrument;
  const lastUpdateId = bookUpdateId(instrument);
  // One stream per side, so a level's size does not depend on how many levels were asked for.
  const bidRng = new Rng(hashSeed('depth-bids', instrument.name, lastUpdateId));
  const askRng = new Rng(hashSeed('depth-asks', instrument.name, lastUpdateId));
  const bestBid = market.lastTicks;
  const tickValue = Number(market.spec.tick.coef) / 10 ** market.spec.tick.scale;
  const stepValue = Number(market.spec.step.coef) / 10 ** market.spec.step.scale;
  const typicalLots = Math.max(1, market.spec.medianNotional / (bestBid * tickValue) / stepValue);
  const size = (rng: Rng): number => Math.max(1, Math.round(typicalLots * rng.pareto(1.5)));
  const bids: [string, string][] = [];
  const asks: [string, string][] = [];
  for (let i = 0; i < levels && bestBid - i >= 1; i++)
    bids.push([fmt.price(bestBid - i), fmt.qty(size(bidRng))]);
  for (let i = 0; i < levels; i++) asks.push([fmt.price(bestBid + 1 + i), fmt.qty(size(askRng))]);
  return { lastUpdateId, bids, asks };
}

/** Longest run of removed levels one diff lists per range; a larger jump leaves deeper levels to later diffs. */
const MAX_REMOVED_RUN = 20_000;

/**
 * Diff state of one `@depth` subscription key. Each diff lists the whole top `levels` of both sides at the new
 * update id, plus a removal (quantity "0") for every price that any book since the previous diff may have held
 * within its top `levels` but that the new top no longer has. A client holding any snapshot taken since the
 * previous diff therefore ends up with exactly the new top after applying it.
 */
export class DepthDiffState {
  private lastId: number;
  private minBid: number;
  private maxBid: number;

  constructor(instrument: BinanceSimInstrument) {
    this.lastId = bookUpdateId(instrument);
    this.minBid = this.maxBid = instrument.market.lastTicks;
  }

  /** Records a best bid (in ticks) that a snapshot may have seen between two diffs. */
  observe(bestBidTicks: number): void {
    if (bestBidTicks < this.minBid) this.minBid = bestBidTicks;
    if (bestBidTicks > this.maxBid) this.maxBid = bestBidTicks;
  }

  /**
   * The diff since the previous one, or undefined when the book did not change. With `skipOne`, `U` starts one id
   * late, as if a diff had been lost (fault injection).
   */
  next(
    instrument: BinanceSimInstrument,
    levels: number,
    eventTime: number,
    skipOne: boolean,
  ): BinanceSimDepthUpdate | undefined {
    const id = bookUpdateId(instrument);
    if (id === this.lastId) return undefined;
    const b = instrument.market.lastTicks;
    this.observe(b);
    const top = depthSnapshot(instrument, levels);
    const fmt = instrument.fmt;
    const bids = top.bids;
    const asks = top.asks;
    const remove = (side: [string, string][], from: number, to: number): void => {
      const start = Math.max(1, from);
      const end = Math.min(to, start + MAX_REMOVED_RUN - 1);
      for (let p = start; p <= end; p++) side.push([fmt.price(p), fmt.qty(0)]);
    };
    remove(bids, b + 1, this.maxBid);
    remove(bids, this.minBid - levels + 1, b - levels);
    remove(asks, this.minBid + 1, b);
    remove(asks, b + levels + 1, this.maxBid + levels);
    const diff: BinanceSimDepthUpdate = {
      e: 'depthUpdate',
      E: eventTime,
      s: instrument.name,
      U: this.lastId + (skipOne ? 2 : 1),
      u: id,
      b: bids,
      a: asks,
    };
    this.lastId = id;
    this.minBid = this.maxBid = b;
    return diff;
  }
}
