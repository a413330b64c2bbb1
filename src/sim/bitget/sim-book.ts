/**
 * A simulated Bitget order book for one instrument: levels in ticks and lots around the market's last price,
 * moved step by step (crossed levels removed, near levels refilled, a few sizes changed), each step numbered with
 * Bitget's `seq`/`pseq` and checksummed the Bitget way: CRC-32 (signed) over `bid1px:bid1sz:ask1px:ask1sz:...` of the
 * first 25 levels per side, using the exact strings sent.
 */
import { crc32 } from 'node:zlib';
import { Rng } from '../random.ts';
import type { BitgetSimInstrument } from './instruments.ts';

export type SimLevel = [string, string];

export interface SimBookDelta {
  readonly bids: SimLevel[];
  readonly asks: SimLevel[];
  readonly seq: number;
  readonly pseq: number;
  readonly checksum: number;
}

const CHECKSUM_DEPTH = 25;

export class SimBook {
  /** ticks → lots. */
  private readonly bids = new Map<number, number>();
  private readonly asks = new Map<number, number>();
  private readonly rng: Rng;
  private readonly typicalLots: number;
  /**
   * The printed price and size of each level by price, reused while its size is the same: the checksum prints the
   * top 25 levels a side on every step, and printing a number goes through BigInt arithmetic. A price prints the
   * same on either side. Cleared when it outgrows the book, so it holds about the levels held.
   */
  private readonly printed = new Map<
    number,
    { readonly lots: number; readonly px: string; readonly sz: string }
  >();
  seq: number;

  constructor(
    private readonly instrument: BitgetSimInstrument,
    seed: number,
    private readonly depth: number,
  ) {
    this.rng = new Rng(seed);
    this.seq = 800_000_000_000 + this.rng.int(1_000_000_000);
    const { spec } = instrument.market;
    const tick = Number(spec.tick.coef) / 10 ** spec.tick.scale;
    const step = Number(spec.step.coef) / 10 ** spec.step.scale;
    const price = Math.max(1, instrument.market.lastTicks) * tick;
    this.typicalLots = Math.max(1, spec.medianNotional / price / step);
    this.step();
  }

  private size(): number {
    return Math.max(1, Math.round(this.typicalLots * this.rng.pareto(1.5)));
  }

  /**
   * Moves the book to the market's current price and returns the changed levels (size "0" = removed) with the
   * new sequence numbers and checksum.
   */
  step(): SimBookDelta {
    const last = this.instrument.market.lastTicks;
    const changedBids = new Map<number, number>();
    const changedAsks = new Map<number, number>();
    const set = (side: Map<number, number>, changed: Map<number, number>, ticks: number, lots: number) => {
      if (lots === 0) {
        if (!side.delete(ticks)) return;
      } else {
        side.set(ticks, lots);
      }
      changed.set(ticks, lots);
    };
    // Bids at or below the last price, asks above it; nothing crosses.
    for (const t of this.bids.keys())
      if (t > last || t <= last - this.depth * 2) set(this.bids, changedBids, t, 0);
    for (const t of this.asks.keys())
      if (t <= last || t > last + this.depth * 2) set(this.asks, changedAsks, t, 0);
    for (let i = 0; this.bids.size < this.depth && i < this.depth * 2 && last - i >= 1; i++) {
      if (!this.bids.has(last - i) && this.rng.next() < 0.8)
        set(this.bids, changedBids, last - i, this.size());
    }
    for (let i = 1; this.asks.size < this.depth && i <= this.depth * 2; i++) {
      if (!this.asks.has(last + i) && this.rng.next() < 0.8)
        set(this.asks, changedAsks, last + i, this.size());
    }
    const touches = 1 + this.rng.int(3);
    for (let k = 0; k < touches; k++) {
      const bidSide = this.rng.next() < 0.5;
      const side = bidSide ? this.bids : this.asks;
      const offset = this.rng.int(10);
      const ticks = bidSide ? last - offset : last + 1 + offset;
      if (ticks < 1) continue;
      const lots = side.has(ticks) && this.rng.next() < 0.2 ? 0 : this.size();
      set(side, bidSide ? changedBids : changedAsks, ticks, lots);
    }
    const pseq = this.seq;
    this.seq += 1 + this.rng.int(4);
    return {
      bids: this.print(changedBids, true),
      asks: this.print(changedAsks, false),
      seq: this.seq,
      pseq,
      checksum: this.checksum(),
    };
  }

  /** The whole book, best first, limited to `limit` levels per side. */
  levels(limit = Number.POSITIVE_INFINITY): { bids: SimLevel[]; asks: SimLevel[] } {
    return { bids: this.print(this.bids, true, limit), asks: this.print(this.asks, false, limit) };
  }

  /** Best bid and ask with sizes, in ticks and lots; undefined on an empty side. */
  best(): { bid?: [number, number]; ask?: [number, number] } {
    const bid = this.sorted(this.bids, true)[0];
    const ask = this.sorted(this.asks, false)[0];
    return {
      ...(bid !== undefined ? { bid: [bid, this.bids.get(bid) as number] } : {}),
      ...(ask !== undefined ? { ask: [ask, this.asks.get(ask) as number] } : {}),
    };
  }

  checksum(): number {
    const bids = this.print(this.bids, true, CHECKSUM_DEPTH);
    const asks = this.print(this.asks, false, CHECKSUM_DEPTH);
    const parts: string[] = [];
    for (let i = 0; i < CHECKSUM_DEPTH; i++) {
      const b = bids[i];
      const a = asks[i];
      if (b !== undefined) parts.push(b[0], b[1]);
      if (a !== undefined) parts.push(a[0], a[1]);
    }
    return crc32(parts.join(':')) | 0;
  }

  private sorted(side: ReadonlyMap<number, number>, descending: boolean): number[] {
    return [...side.keys()].sort(descending ? (a, b) => b - a : (a, b) => a - b);
  }

  private print(
    side: ReadonlyMap<number, number>,
    descending: boolean,
    limit = Number.POSITIVE_INFINITY,
  ): SimLevel[] {
    const out: SimLevel[] = [];
    for (const ticks of this.sorted(side, descending)) {
      if (out.length >= limit) break;
      const { px, sz } = this.printLevel(ticks, side.get(ticks) as number);
      out.push([px, sz]);
    }
    return out;
  }

  private printLevel(ticks: number, lots: number): { readonly px: string; readonly sz: string } {
    const known = this.printed.get(ticks);
    if (known !== undefined && known.lots === lots) return known;
    const { fmt } = this.instrument;
    if (this.printed.size > 8 * this.depth) this.printed.clear();
    const level = { lots, px: fmt.price(ticks), sz: lots === 0 ? '0' : fmt.bookSize(lots) };
    this.printed.set(ticks, level);
    return level;
  }
}
