/**
 * The simulated Binance order book of one instrument: bids from the last trade price down, asks from one tick above
 * it, about `depth` levels a side a few ticks apart, gaps and sizes drawn from a seeded generator. The book steps when it is looked at after a
 * trade (REST `/api/v3/depth`, `@bookTicker`, the 24 h ticker, a `@depth` push): it moves to the market's price
 * (crossed levels removed, near levels filled) and changes a few sizes, and its update id grows by the number of
 * changes. Every `@depth` stream collects the prices changed since its previous diff, so a diff lists only those
 * levels, at their current sizes ("0" when removed): a client holding any snapshot taken since the previous diff
 * ends up with exactly the current book under Binance's U/u rules.
 */
import type { SimMarket } from '../market/market.ts';
import type { PrintedLevel } from '../market/printed-level.ts';
import { hashSeed, Rng } from '../random.ts';
import type { BinanceNumberFormat } from './format.ts';
import type { BinanceSimDepth, BinanceSimDepthUpdate } from './wire.ts';

/** Levels near the top whose size may change on a step. */
const ACTIVE_LEVELS = 20;
/**
 * Mean distance between neighbouring levels, in basis points of the price: a BTC book at 0.01 tick then holds a
 * level every dozen ticks or so, and a step's price move crosses a few levels, not the whole top 50.
 */
const GAP_BPS = 0.5;
/** Most size changes of one step (a step draws 0 to this many). */
const MAX_TOUCHES = 3;

type Level = PrintedLevel;

/** The level at `ticks` of a side sorted best first (dir -1: descending), by binary search. */
function find(side: readonly Level[], ticks: number, dir: 1 | -1): Level | undefined {
  let lo = 0;
  let hi = side.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const level = side[mid] as Level;
    const d = (level.ticks - ticks) * dir;
    if (d === 0) return level;
    if (d < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Prices changed since a stream's previous diff: ticks → price as printed, per side. */
class ChangedPrices {
  readonly bids = new Map<number, string>();
  readonly asks = new Map<number, string>();
}

export class BinanceSimBook {
  /** Best first: bids descending, asks ascending; each side a contiguous run of ticks. */
  private bids: Level[] = [];
  private asks: Level[] = [];
  private id: number;
  /** Aggregate trade id of the last trade the book has followed (undefined: none yet). */
  private followedTrade: number | undefined;
  private readonly rng: Rng;
  private readonly typicalLots: number;
  /** Mean gap between levels in ticks: levels sit about GAP_BPS of the price apart, at least one tick. */
  private readonly spacing: number;
  /** Deep levels a side may hold beyond `depth` before it is trimmed back, so small moves remove nothing deep. */
  private readonly slack: number;
  private readonly watchers = new Set<ChangedPrices>();
  readonly zeroQty: string;

  constructor(
    private readonly market: SimMarket,
    private readonly fmt: BinanceNumberFormat,
    seed: number,
    private readonly depth: number,
  ) {
    this.rng = new Rng(hashSeed(seed, 'binance-book', market.spec.symbol));
    this.id = 10_000_000 + this.rng.int(1_000_000);
    this.slack = Math.max(2, Math.ceil(depth / 5));
    this.spacing = Math.max(1, Math.round((market.lastTicks * GAP_BPS) / 10_000));
    this.zeroQty = fmt.qty(0);
    const { spec } = market;
    const tickValue = Number(spec.tick.coef) / 10 ** spec.tick.scale;
    const stepValue = Number(spec.step.coef) / 10 ** spec.step.scale;
    this.typicalLots = Math.max(
      1,
      spec.medianNotional / (Math.max(1, market.lastTicks) * tickValue) / stepValue,
    );
    this.followedTrade = market.recentTrades().at(-1)?.a;
    this.bids = this.reshape([], market.lastTicks, -1);
    this.asks = this.reshape([], market.lastTicks + 1, 1);
  }

  /** The current update id (after following any new trade). */
  get updateId(): number {
    this.sync();
    return this.id;
  }

  /** Steps the book once if the market traded since the book last followed it. */
  sync(): void {
    const last = this.market.recentTrades().at(-1)?.a;
    if (last === this.followedTrade) return;
    this.followedTrade = last;
    this.step();
  }

  /**
   * Moves the book to the market's last price and changes up to three sizes near the top; the update id grows by
   * the number of level changes (it stays when nothing changed). Returns that number.
   */
  step(): number {
    const before = this.id;
    const best = this.market.lastTicks;
    this.bids = this.reshape(this.bids, best, -1);
    this.asks = this.reshape(this.asks, best + 1, 1);
    const touches = this.rng.int(MAX_TOUCHES + 1);
    for (let i = 0; i < touches; i++) {
      const bid = this.rng.next() < 0.5;
      const side = bid ? this.bids : this.asks;
      const level = side[this.rng.int(Math.min(ACTIVE_LEVELS, side.length))];
      const lots = this.drawLots();
      if (level === undefined || level.lots === lots) continue;
      level.lots = lots;
      level.sz = this.fmt.qty(lots);
      this.changed(bid, level);
    }
    return this.id - before;
  }

  /** The book as REST `/api/v3/depth` returns it: at most `levels` a side. */
  snapshot(levels: number): BinanceSimDepth {
    this.sync();
    return {
      lastUpdateId: this.id,
      bids: this.bids.slice(0, levels).map((l): [string, string] => [l.px, l.sz]),
      asks: this.asks.slice(0, levels).map((l): [string, string] => [l.px, l.sz]),
    };
  }

  /** Best bid and ask as [price, size], and the update id they belong to. */
  top(): { u: number; bid: [string, string] | undefined; ask: [string, string] | undefined } {
    this.sync();
    const b = this.bids[0];
    const a = this.asks[0];
    return { u: this.id, bid: b && [b.px, b.sz], ask: a && [a.px, a.sz] };
  }

  /** Starts collecting the prices changed from now on (one collector per `@depth` stream). */
  watch(): ChangedPrices {
    const changes = new ChangedPrices();
    this.watchers.add(changes);
    return changes;
  }

  unwatch(changes: ChangedPrices): void {
    this.watchers.delete(changes);
  }

  /** The levels at `changes` as they are now (size "0" when gone), sorted best first; empties `changes`. */
  drain(changes: ChangedPrices): { b: [string, string][]; a: [string, string][] } {
    const b = this.levelsAt(changes.bids, this.bids, -1);
    const a = this.levelsAt(changes.asks, this.asks, 1);
    changes.bids.clear();
    changes.asks.clear();
    return { b, a };
  }

  private levelsAt(prices: Map<number, string>, side: Level[], dir: 1 | -1): [string, string][] {
    const out: [string, string][] = [];
    for (const ticks of [...prices.keys()].sort((x, y) => (x - y) * dir)) {
      const level = find(side, ticks, dir);
      out.push(level === undefined ? [prices.get(ticks) as string, this.zeroQty] : [level.px, level.sz]);
    }
    return out;
  }

  private changed(bid: boolean, level: Level): void {
    this.id++;
    for (const w of this.watchers) (bid ? w.bids : w.asks).set(level.ticks, level.px);
  }

  private drawLots(): number {
    return Math.max(1, Math.round(this.typicalLots * this.rng.pareto(1.5)));
  }

  private newLevel(bid: boolean, ticks: number): Level {
    const lots = this.drawLots();
    const level: Level = { ticks, px: this.fmt.price(ticks), lots, sz: this.fmt.qty(lots) };
    this.changed(bid, level);
    return level;
  }

  /** A gap between neighbouring levels, in ticks: 1 to 2 × spacing − 1. */
  private gap(): number {
    return this.spacing === 1 ? 1 : 1 + this.rng.int(2 * this.spacing - 1);
  }

  /**
   * The side re-based on `best` (dir -1: bids going down, 1: asks going up): crossed levels removed, a level at
   * `best` and levels between it and the old levels filled, the deep end filled up to `depth` levels, and trimmed
   * back to `depth` once it holds more than `depth + slack`. Bids stop at one tick.
   */
  private reshape(side: Level[], best: number, dir: 1 | -1): Level[] {
    const bid = dir === -1;
    if (side[0]?.ticks === best) return side;
    let cut = 0;
    for (; cut < side.length && ((side[cut] as Level).ticks - best) * dir < 0; cut++) {
      this.changed(bid, side[cut] as Level);
    }
    const next: Level[] = [];
    const firstOld = side[cut];
    for (let t = best; next.length < this.depth && t >= 1; t += dir * this.gap()) {
      if (firstOld !== undefined && (firstOld.ticks - t) * dir <= 0) break;
      next.push(this.newLevel(bid, t));
    }
    for (let j = cut; j < side.length; j++) next.push(side[j] as Level);
    const deepest = next.at(-1);
    for (
      let t = deepest === undefined ? best : deepest.ticks + dir * this.gap();
      next.length < this.depth && t >= 1;
      t += dir * this.gap()
    ) {
      next.push(this.newLevel(bid, t));
    }
    if (next.length > this.depth + this.slack) {
      for (let i = this.depth; i < next.length; i++) this.changed(bid, next[i] as Level);
      next.length = this.depth;
    }
    return next;
  }
}

/**
 * Diff state of one `@depth` subscription key: the update id of its previous diff and the prices changed since.
 */
export class DepthDiffState {
  private lastId: number;
  private readonly changes;

  constructor(private readonly book: BinanceSimBook) {
    this.lastId = book.updateId;
    this.changes = book.watch();
  }

  /**
   * The diff since the previous one, or undefined when the book did not change. With `skipOne`, `U` starts one id
   * late, as if a diff had been lost (fault injection).
   */
  next(name: string, eventTime: number, skipOne: boolean): BinanceSimDepthUpdate | undefined {
    const id = this.book.updateId;
    if (id === this.lastId) return undefined;
    const { b, a } = this.book.drain(this.changes);
    const diff: BinanceSimDepthUpdate = {
      e: 'depthUpdate',
      E: eventTime,
      s: name,
      U: this.lastId + (skipOne ? 2 : 1),
      u: id,
      b,
      a,
    };
    this.lastId = id;
    return diff;
  }

  /** Stops collecting changes (the stream has no subscriber left). */
  close(): void {
    this.book.unwatch(this.changes);
  }
}
