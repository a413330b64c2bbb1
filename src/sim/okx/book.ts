/**
 * A simulated OKX order book of one instrument: every tick level from the last trade price outwards, `depth` levels
 * per side, sizes drawn from a seeded generator. `step()` moves it to the market's current price and changes a few
 * sizes, and returns the change as an OKX `books` update: non-consecutive seqId chained by prevSeqId, and the
 * signed CRC-32 of the top 25 levels computed from the same strings that are sent.
 */
import { crc32 } from 'node:zlib';
import type { SimMarket } from '../market/market.ts';
import type { PrintedLevel } from '../market/printed-level.ts';
import { hashSeed, Rng } from '../random.ts';
import type { OkxNumberFormat } from './format.ts';
import type { OkxSimBook, OkxSimLevel } from './wire.ts';

const CHECKSUM_LEVELS = 25;
/** Levels near the top whose size may change on a step. */
const ACTIVE_LEVELS = 30;

/** The book's levels, printed once (the OKX checksum prints the top 25 a side ten times a second). */
type Level = PrintedLevel;

/** The levels a step changed, by price in ticks: the level as it is now, or null when it was removed. */
type LevelChanges = Map<number, Level | null>;

export class OkxSimBookModel {
  /** Best first: bids descending, asks ascending; contiguous tick ranges. */
  private bids: Level[] = [];
  private asks: Level[] = [];
  private seq: number;
  private lastChangeAt = 0;
  private readonly rng: Rng;
  private readonly typicalLots: number;

  constructor(
    private readonly market: SimMarket,
    private readonly fmt: OkxNumberFormat,
    seed: number,
    private readonly depth: number,
  ) {
    this.rng = new Rng(hashSeed(seed, 'okx-book', market.spec.symbol));
    this.seq = 1_000_000 + this.rng.int(1_000_000);
    const { spec } = market;
    const step = Number(spec.step.coef) / 10 ** spec.step.scale;
    this.typicalLots = Math.max(1, spec.medianNotional / (spec.anchorPrice * step));
    this.rebuild();
  }

  /** The current sequence id (the seqId of the latest update or snapshot). */
  get seqId(): number {
    return this.seq;
  }

  /** The whole book as an OKX snapshot (prevSeqId -1), at most `levels` per side. */
  snapshot(nowMs: number, levels = this.depth): OkxSimBook {
    const { bids, asks } = this.top(levels);
    return { asks, bids, ts: String(nowMs), checksum: this.checksum(), seqId: this.seq, prevSeqId: -1 };
  }

  /** The best `levels` per side, without the snapshot's checksum (the ticker's best bid and ask). */
  top(levels: number): { bids: OkxSimLevel[]; asks: OkxSimLevel[] } {
    return {
      bids: this.bids.slice(0, levels).map((l) => this.level(l)),
      asks: this.asks.slice(0, levels).map((l) => this.level(l)),
    };
  }

  /**
   * Moves the book to the market's price and changes a few sizes. Returns the update, or a keep-alive (no levels,
   * prevSeqId === seqId) when nothing changed for `keepAliveMs`, or undefined.
   */
  step(nowMs: number, keepAliveMs: number): OkxSimBook | undefined {
    const bidChanges: LevelChanges = new Map();
    const askChanges: LevelChanges = new Map();
    const bestBid = Math.max(this.depth + 1, this.market.lastTicks);
    this.bids = this.reshape(this.bids, bestBid, -1, bidChanges);
    this.asks = this.reshape(this.asks, bestBid + 1, 1, askChanges);
    const touches = this.rng.int(4);
    for (let i = 0; i < touches; i++) {
      const side = this.rng.next() < 0.5 ? this.bids : this.asks;
      const level = side[this.rng.int(Math.min(ACTIVE_LEVELS, side.length))];
      if (level === undefined) continue;
      this.resize(level, this.drawLots());
      (side === this.bids ? bidChanges : askChanges).set(level.ticks, level);
    }
    if (bidChanges.size === 0 && askChanges.size === 0) {
      if (nowMs - this.lastChangeAt < keepAliveMs) return undefined;
      this.lastChangeAt = nowMs;
      return {
        asks: [],
        bids: [],
        ts: String(nowMs),
        checksum: this.checksum(),
        seqId: this.seq,
        prevSeqId: this.seq,
      };
    }
    this.lastChangeAt = nowMs;
    const prevSeqId = this.seq;
    this.seq += 1 + this.rng.int(3);
    return {
      asks: this.changes(askChanges, 1),
      bids: this.changes(bidChanges, -1),
      ts: String(nowMs),
      checksum: this.checksum(),
      seqId: this.seq,
      prevSeqId,
    };
  }

  /** OKX's checksum: signed CRC-32 of "bid1px:bid1sz:ask1px:ask1sz:..." over the top 25 levels. */
  checksum(): number {
    const parts: string[] = [];
    for (let i = 0; i < CHECKSUM_LEVELS; i++) {
      const b = this.bids[i];
      const a = this.asks[i];
      if (b !== undefined) parts.push(b.px, b.sz);
      if (a !== undefined) parts.push(a.px, a.sz);
    }
    return crc32(parts.join(':')) | 0;
  }

  private level(l: Level): OkxSimLevel {
    return [l.px, l.sz, '0', String(1 + (l.lots % 7))];
  }

  private newLevel(ticks: number, lots: number): Level {
    return { ticks, px: this.fmt.price(ticks), lots, sz: this.fmt.size(lots) };
  }

  private resize(level: Level, lots: number): void {
    level.lots = lots;
    level.sz = this.fmt.size(lots);
  }

  private changes(changes: LevelChanges, dir: 1 | -1): OkxSimLevel[] {
    const out: OkxSimLevel[] = [];
    for (const [ticks, level] of [...changes].sort((a, b) => (a[0] - b[0]) * dir)) {
      out.push(level === null ? [this.fmt.price(ticks), '0', '0', '0'] : this.level(level));
    }
    return out;
  }

  private drawLots(): number {
    return Math.max(1, Math.round(this.typicalLots * this.rng.pareto(1.5)));
  }

  private rebuild(): void {
    const bestBid = Math.max(this.depth + 1, this.market.lastTicks);
    this.bids = [];
    this.asks = [];
    for (let i = 0; i < this.depth; i++) {
      this.bids.push(this.newLevel(bestBid - i, this.drawLots()));
      this.asks.push(this.newLevel(bestBid + 1 + i, this.drawLots()));
    }
  }

  /**
   * The side re-centred on `best` (dir -1: bids going down, 1: asks going up): levels outside the window are
   * removed (size 0), missing ones created; changes are recorded.
   */
  private reshape(side: Level[], best: number, dir: 1 | -1, changes: LevelChanges): Level[] {
    const first = side[0];
    if (first !== undefined && first.ticks === best) return side;
    // A side is a contiguous run of ticks, so the old level at new position i is at i + offset.
    const offset = first === undefined ? side.length : (best - first.ticks) * dir;
    const next: Level[] = [];
    for (let i = 0; i < this.depth; i++) {
      const j = i + offset;
      let level = j >= 0 ? side[j] : undefined;
      if (level === undefined) {
        level = this.newLevel(best + dir * i, this.drawLots());
        changes.set(level.ticks, level);
      }
      next.push(level);
    }
    for (let j = 0; j < side.length; j++) {
      const i = j - offset;
      if (i < 0 || i >= this.depth) changes.set((side[j] as Level).ticks, null);
    }
    return next;
  }
}
