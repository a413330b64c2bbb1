/**
 * The lazy dYdX simulator book against a full rebuild after every trade (the book as it was first written): the
 * same levels at every step and, byte for byte, the same updates, whether they are asked for after every trade
 * (a subscribed book) or after a run of unwatched trades.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashSeedIntegers, Rng } from '../random.ts';
import { SimBook } from './book.ts';

type Levels = Map<number, number>;

/** Rebuilds every level after every trade and diffs whole maps: slow and plainly right. */
class RebuiltBook {
  bids: Levels = new Map();
  asks: Levels = new Map();
  private epoch = 0;

  constructor(
    private readonly seed: number,
    private readonly depth: number,
  ) {}

  rebuild(lastTicks: number): void {
    this.epoch++;
    const bids: Levels = new Map();
    const asks: Levels = new Map();
    for (let i = 1; i <= this.depth; i++) {
      const bid = lastTicks - i;
      if (bid > 0) bids.set(bid, this.size(bid, i));
      asks.set(lastTicks + i, this.size(lastTicks + i, i));
    }
    this.bids = bids;
    this.asks = asks;
  }

  sorted(): { bids: [number, number][]; asks: [number, number][] } {
    return {
      bids: [...this.bids].sort((a, b) => b[0] - a[0]),
      asks: [...this.asks].sort((a, b) => a[0] - b[0]),
    };
  }

  private size(ticks: number, distance: number): number {
    const epoch = distance <= 3 ? this.epoch : this.epoch >>> 4;
    return 1 + (hashSeedIntegers(this.seed, ticks, epoch) % 2000);
  }
}

function diffSide(before: Levels, after: Levels): [number, number][] {
  const out: [number, number][] = [];
  for (const [ticks, lots] of after) if (before.get(ticks) !== lots) out.push([ticks, lots]);
  for (const [ticks] of before) if (!after.has(ticks)) out.push([ticks, 0]);
  return out;
}

/** A price path: mostly steps of a tick or two, sometimes long jumps, and stretches near tick 0. */
function nextTicks(rnd: Rng, ticks: number): number {
  const r = rnd.next();
  if (r < 0.3) return ticks;
  if (r < 0.9) return Math.max(1, ticks + Math.floor(rnd.next() * 5) - 2);
  if (r < 0.97) return Math.max(1, ticks + Math.floor(rnd.next() * 81) - 40);
  return 1 + Math.floor(rnd.next() * 30);
}

describe('dYdX simulator book', () => {
  for (const seed of [1, 7, 2024, 0x5eed]) {
    it(`matches a full rebuild after every trade over many random steps (seed ${seed})`, () => {
      const rnd = new Rng(seed);
      const depth = 3 + Math.floor(rnd.next() * 30);
      const lazy = new SimBook(seed, depth);
      const full = new RebuiltBook(seed, depth);
      let ticks = 10 + Math.floor(rnd.next() * 60);
      lazy.move(ticks);
      full.rebuild(ticks);
      // The full book's levels when the lazy one last worked its levels out (empty before the first time).
      let shownBids: Levels = new Map();
      let shownAsks: Levels = new Map();
      let watched = false;
      let updates = 0;
      for (let step = 0; step < 20_000; step++) {
        ticks = nextTicks(rnd, ticks);
        lazy.move(ticks);
        full.rebuild(ticks);
        if (rnd.next() < 0.02) watched = !watched;
        if (watched || rnd.next() < 0.05) {
          const expected = { bids: diffSide(shownBids, full.bids), asks: diffSide(shownAsks, full.asks) };
          assert.equal(JSON.stringify(lazy.changes()), JSON.stringify(expected), `step ${step}`);
          [shownBids, shownAsks] = [full.bids, full.asks];
          updates++;
        }
        if (rnd.next() < 0.05) {
          assert.equal(JSON.stringify(lazy.sorted()), JSON.stringify(full.sorted()), `step ${step}`);
          [shownBids, shownAsks] = [full.bids, full.asks];
        }
      }
      assert.ok(updates > 1000, `${updates} updates compared`);
    });
  }

  it('has no update when nothing traded since the levels were worked out', () => {
    const book = new SimBook(3, 25);
    book.move(1000);
    assert.equal(book.sorted().bids.length, 25);
    assert.deepEqual(book.changes(), { bids: [], asks: [] });
  });
});
