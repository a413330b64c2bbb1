import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MINUTE_MS } from '../../domain/interval.ts';
import { SimMarket } from '../market/market.ts';
import { symbolSpec } from '../market/symbol-specs.ts';
import { Rng } from '../random.ts';
import { BinanceSimBook, DepthDiffState } from './book.ts';
import { BinanceNumberFormat } from './format.ts';
import type { BinanceSimDepth, BinanceSimDepthUpdate } from './wire.ts';

const NOW = Date.UTC(2026, 4, 20, 10, 15, 42, 123);
const DEPTH = 50;

function marketOf(symbol: string, seed: number, tradesPerSecond = 20): SimMarket {
  return new SimMarket({
    spec: symbolSpec(symbol),
    seed,
    nowMs: NOW,
    historyDays: 1,
    tradeWindowMs: 30 * MINUTE_MS,
    tradesPerSecond,
  });
}

function bookOf(market: SimMarket, seed: number): BinanceSimBook {
  return new BinanceSimBook(market, new BinanceNumberFormat(market.spec), seed, DEPTH);
}

/** A client following Binance's procedure: snapshot, then diffs under the U/u rules (size "0" removes). */
class Client {
  readonly bids: Map<string, string>;
  readonly asks: Map<string, string>;
  id: number;
  applied = 0;

  constructor(snapshot: BinanceSimDepth) {
    this.bids = new Map(snapshot.bids);
    this.asks = new Map(snapshot.asks);
    this.id = snapshot.lastUpdateId;
  }

  onDiff(d: BinanceSimDepthUpdate): void {
    if (d.u <= this.id) return;
    if (this.applied === 0)
      assert.ok(d.U <= this.id + 1 && this.id + 1 <= d.u, `first diff ${d.U}..${d.u} vs ${this.id}`);
    else assert.equal(d.U, this.id + 1, 'diffs chain');
    for (const [px, sz] of d.b) set(this.bids, px, sz);
    for (const [px, sz] of d.a) set(this.asks, px, sz);
    this.id = d.u;
    this.applied++;
  }

  book(): BinanceSimDepth {
    return { lastUpdateId: this.id, bids: sorted(this.bids, true), asks: sorted(this.asks, false) };
  }
}

function set(side: Map<string, string>, px: string, sz: string): void {
  if (Number(sz) === 0) side.delete(px);
  else side.set(px, sz);
}

function sorted(side: Map<string, string>, descending: boolean): [string, string][] {
  return [...side].sort((a, b) => (Number(a[0]) - Number(b[0])) * (descending ? -1 : 1));
}

const ALL = 10_000;

describe('BinanceSimBook', () => {
  it('carries a client from any snapshot since the previous diff to exactly the current book', () => {
    const market = marketOf('BTC/USDT', 3, 30);
    const book = bookOf(market, 3);
    const fmt = new BinanceNumberFormat(market.spec);
    const state = new DepthDiffState(book);
    const rng = new Rng(11);
    let clients: Client[] = [];
    let diffs = 0;
    let entries = 0;
    let covered = 0;
    const bests = new Set<string>();
    for (let step = 0, t = NOW; step < 6000; step++, t += 50) {
      market.advanceTo(t);
      // Looks between diffs step the book; snapshots are taken at any of them.
      const r = rng.next();
      if (r < 0.2) clients.push(new Client(book.snapshot(ALL)));
      else if (r < 0.4) book.top();
      if (step % 2 === 1) {
        const d = state.next('BTCUSDT', t, false);
        if (d === undefined) continue;
        diffs++;
        entries += d.b.length + d.a.length;
        covered += d.u - d.U + 1;
        assert.ok(d.b.length + d.a.length <= d.u - d.U + 1, 'each entry stands for at least one change');
        const now = book.snapshot(ALL);
        assert.equal(d.u, now.lastUpdateId);
        for (const c of clients) {
          c.onDiff(d);
          assert.deepEqual(c.book(), now);
        }
        bests.add(now.bids[0]?.[0] ?? '');
        // Keep a few followers for a long time, drop the rest.
        clients = clients.filter((c, i) => i < 3 || c.applied < 5);
        // The book's shape: best bid at the last price, best ask a tick above, about DEPTH a side, sorted.
        const last = fmt.price(market.lastTicks);
        assert.equal(now.bids[0]?.[0], last);
        assert.equal(now.asks[0]?.[0], fmt.price(market.lastTicks + 1));
        for (const [side, dir] of [
          [now.bids, -1],
          [now.asks, 1],
        ] as const) {
          assert.ok(side.length >= DEPTH && side.length <= DEPTH + 10, `${side.length} levels`);
          for (let i = 1; i < side.length; i++) {
            assert.ok(
              (Number(side[i]?.[0]) - Number(side[i - 1]?.[0])) * dir > 0,
              'sorted, one level a price',
            );
          }
        }
        const limited = book.snapshot(5);
        assert.deepEqual(limited.bids, now.bids.slice(0, 5));
        assert.deepEqual(limited.asks, now.asks.slice(0, 5));
      }
    }
    assert.ok(diffs > 1500, `${diffs} diffs`);
    assert.ok(bests.size > 30, `best bid took ${bests.size} prices`);
    // Diffs list what changed, not the book: a few levels each, as in captured Binance streams.
    assert.ok(entries / diffs < 8, `${(entries / diffs).toFixed(1)} entries a diff`);
    assert.ok(entries <= covered);
  });

  it('sends nothing for a step that changes nothing, and only the changed levels otherwise', () => {
    const market = marketOf('ETH/USDT', 5);
    const book = bookOf(market, 5);
    const state = new DepthDiffState(book);
    let quiet = 0;
    let busy = 0;
    for (let i = 0; i < 200; i++) {
      const before = book.snapshot(ALL);
      const changes = book.step(); // the market does not move: only sizes change
      const d = state.next('ETHUSDT', NOW, false);
      const after = book.snapshot(ALL);
      if (changes === 0) {
        assert.equal(d, undefined);
        assert.deepEqual(after, before);
        quiet++;
        continue;
      }
      busy++;
      assert.ok(d !== undefined);
      assert.equal(d.U, before.lastUpdateId + 1);
      assert.equal(d.u, after.lastUpdateId);
      assert.equal(d.u - d.U + 1, changes);
      // Exactly the levels whose size differs (a level changed twice is listed once, at its newest size).
      const differing = (b: [string, string][], a: [string, string][]): [string, string][] => {
        const was = new Map(b);
        return a.filter(([px, sz]) => was.get(px) !== sz);
      };
      const listed = (levels: [string, string][]): [string, string][] =>
        levels.filter(([px, sz]) => before.bids.concat(before.asks).find((l) => l[0] === px)?.[1] !== sz);
      assert.deepEqual(listed(d.b), differing(before.bids, after.bids));
      assert.deepEqual(listed(d.a), differing(before.asks, after.asks));
      assert.ok(d.b.length + d.a.length <= 3);
    }
    assert.ok(quiet > 20 && busy > 100, `${quiet} quiet, ${busy} busy steps`);
  });

  it('steps only when the market traded since the last look', () => {
    const market = marketOf('BTC/USDT', 8);
    const book = bookOf(market, 8);
    const id = book.updateId;
    assert.equal(book.updateId, id);
    assert.deepEqual(book.snapshot(10), book.snapshot(10));
    market.advanceTo(NOW + 60_000);
    assert.ok(market.recentTrades().length > 0);
    // A step may change nothing; looks after several trades eventually move the id.
    let moved = false;
    for (let t = NOW + 60_000; !moved && t < NOW + 120_000; t += 1000) {
      market.advanceTo(t);
      moved = book.updateId > id;
    }
    assert.ok(moved);
  });

  it('is deterministic for a seed and a sequence of steps', () => {
    const run = (seed: number): string[] => {
      const market = marketOf('SOL/USDT', 21);
      const book = bookOf(market, seed);
      const state = new DepthDiffState(book);
      const out: string[] = [JSON.stringify(book.snapshot(ALL))];
      for (let t = NOW; t < NOW + 60_000; t += 100) {
        market.advanceTo(t);
        out.push(JSON.stringify(state.next('SOLUSDT', t, false) ?? null));
      }
      out.push(JSON.stringify(book.snapshot(ALL)));
      return out;
    };
    assert.deepEqual(run(4), run(4));
    assert.notDeepEqual(run(4)[0], run(5)[0]);
  });

  it('starts U one id late on a skip, then chains again', () => {
    const market = marketOf('BTC/USDT', 2);
    const book = bookOf(market, 2);
    const state = new DepthDiffState(book);
    const next = (skip: boolean): BinanceSimDepthUpdate => {
      let d: BinanceSimDepthUpdate | undefined;
      while (d === undefined) {
        book.step();
        d = state.next('BTCUSDT', NOW, skip);
      }
      return d;
    };
    const a = next(false);
    const b = next(true);
    const c = next(false);
    assert.equal(b.U, a.u + 2);
    assert.equal(c.U, b.u + 1);
  });
});
