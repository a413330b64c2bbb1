import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VenueId } from '../domain/instrument.ts';
import type { Trade } from '../domain/trade.ts';
import { ReorderWindow, type TradeNumbers } from './reorder-window.ts';
import { Rng } from '../sim/random.ts';

function trade(id: string, time: number, seq?: number, venue: VenueId = 'binance'): Trade {
  return {
    venue,
    symbol: 'BTC/USDT',
    id,
    seq,
    price: { coef: 1n, scale: 0 },
    size: { coef: 1n, scale: 0 },
    side: 'buy',
    fills: 1,
    time,
    receivedAt: time,
  };
}

/** Pushes `trades` in turn; returns the ids handed on after each push, then those of the drain. */
function run(windowMs: number, trades: readonly Trade[]): { steps: string[][]; drained: string[] } {
  const window = new ReorderWindow(windowMs);
  const steps: string[][] = [];
  for (const t of trades) {
    assert.ok(window.accepts(t.time), `trade ${t.id} refused`);
    const out: string[] = [];
    window.push(t, (r) => out.push(r.id));
    steps.push(out);
  }
  const drained: string[] = [];
  window.drain((r) => drained.push(r.id));
  assert.equal(window.size, 0);
  return { steps, drained };
}

/** Seeded numbers in [0, 1): the simulator's generator, so that every run sees the same sequence. */
function random(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

describe('ReorderWindow', () => {
  it('hands on a trade once a later trade is more than the window ahead of it', () => {
    const { steps, drained } = run(100, [
      trade('a', 1000),
      trade('b', 1050),
      trade('c', 1100),
      trade('d', 1101),
    ]);
    // At 1100 nothing is more than 100 ms behind (1000 is exactly 100); at 1101, trade a is.
    assert.deepEqual(steps, [[], [], [], ['a']]);
    assert.deepEqual(drained, ['b', 'c', 'd']);
  });

  it('with a window of 0 hands on every earlier trade as soon as time moves on', () => {
    const { steps, drained } = run(0, [trade('a', 1), trade('b', 1), trade('c', 2), trade('d', 3)]);
    assert.deepEqual(steps, [[], [], ['a', 'b'], ['c']]);
    assert.deepEqual(drained, ['d']);
  });

  it('puts trades that arrive out of order back in time order', () => {
    const { steps, drained } = run(2000, [
      trade('t3', 3000),
      trade('t1', 1000),
      trade('t2', 2000),
      trade('t5', 5000),
      trade('t4', 4000),
      trade('t9', 9000),
    ]);
    assert.deepEqual(steps, [[], [], [], ['t1', 't2'], [], ['t3', 't4', 't5']]);
    assert.deepEqual(drained, ['t9']);
  });

  it('orders trades of one time by venue sequence, and trades without one by arrival', () => {
    assert.deepEqual(run(1000, [trade('s7', 10, 7), trade('s5', 10, 5), trade('s6', 10, 6)]).drained, [
      's5',
      's6',
      's7',
    ]);
    assert.deepEqual(run(1000, [trade('x', 10), trade('y', 10), trade('w', 9)]).drained, ['w', 'x', 'y']);
    // Sequences of different venues are not comparable: arrival order decides.
    assert.deepEqual(run(1000, [trade('b', 10, 9), trade('o', 10, 1, 'okx')]).drained, ['b', 'o']);
  });

  it('hands on every field of every trade unchanged, whatever the size of its numbers', () => {
    const trades: Trade[] = [
      {
        ...trade('small', 1, 1),
        price: { coef: 4299991000000n, scale: 8 },
        size: { coef: 104290n, scale: 8 },
      },
      { ...trade('no-seq', 2), side: 'sell', fills: 3, receivedAt: 99, venue: 'okx', symbol: 'ETH/USDT' },
      {
        ...trade('huge', 3, 3),
        price: { coef: 2n ** 70n, scale: 30 },
        size: { coef: -(2n ** 60n), scale: 2 },
      },
      { ...trade('edge', 4, 4), price: { coef: BigInt(Number.MAX_SAFE_INTEGER), scale: 0 } },
      { ...trade('past-edge', 5, 5), size: { coef: 2n ** 53n + 1n, scale: 1 } },
      trade('last', 6, 6),
    ];
    const window = new ReorderWindow(0);
    const out: Trade[] = [];
    for (const t of trades) window.push(t, (r) => out.push(r));
    window.drain((r) => out.push(r));
    assert.deepEqual(out, trades);
  });

  it('refuses a trade more than the window behind the latest, and accepts one exactly at the edge', () => {
    const window = new ReorderWindow(300);
    assert.ok(window.accepts(0));
    window.push(trade('a', 1000), () => undefined);
    assert.equal(window.latest, 1000);
    assert.ok(window.accepts(700));
    assert.ok(!window.accepts(699));
  });

  it('hands on shuffled input in the order of the sorted input, however it is cut', () => {
    const next = random(3);
    const sorted: Trade[] = [];
    let time = 0;
    for (let i = 0; i < 20_000; i++) {
      time += Math.floor(next() * 5);
      sorted.push(trade(String(i), time, i));
    }
    // Move each trade up to 50 places back or forth: at most 5 ms × 50 out of order.
    const shuffled = [...sorted];
    for (let i = 0; i < shuffled.length; i++) {
      const j = Math.min(shuffled.length - 1, i + Math.floor(next() * 50));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    assert.notDeepEqual(
      shuffled.map((t) => t.id),
      sorted.map((t) => t.id),
    );
    const { steps, drained } = run(2000, shuffled);
    assert.deepEqual(
      [...steps.flat(), ...drained],
      sorted.map((t) => t.id),
    );
  });

  it('hands on trades given as numbers as the same trades, in order with trades given whole', () => {
    const next = random(5);
    const sorted: Trade[] = [];
    let time = 1_700_000_000_000;
    for (let i = 0; i < 5_000; i++) {
      time += Math.floor(next() * 5);
      sorted.push({
        venue: 'binance',
        symbol: 'BTC/USDT',
        id: String(1000 + i),
        seq: 1000 + i,
        price: { coef: BigInt(4_300_000_000 + Math.floor(next() * 1000)), scale: 5 },
        size: { coef: BigInt(Math.floor(next() * 1e8)), scale: 8 },
        side: next() < 0.5 ? 'buy' : 'sell',
        fills: 1 + Math.floor(next() * 3),
        time,
        receivedAt: time,
      });
    }
    const shuffled = [...sorted];
    for (let i = 0; i < shuffled.length; i++) {
      // Most trades in order, as in a dump: the run holds them and the heap the others.
      const j = next() < 0.1 ? Math.min(shuffled.length - 1, i + Math.floor(next() * 20)) : i;
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    // 5 s hold about 2,500 trades here: the run's ring wraps around and grows.
    const window = new ReorderWindow(5000);
    const out: Trade[] = [];
    // One record reused for every trade, as a byte reader does.
    const numbers: { -readonly [K in keyof TradeNumbers]: TradeNumbers[K] } = {
      seq: 0,
      priceCoef: 0,
      priceScale: 0,
      sizeCoef: 0,
      sizeScale: 0,
      sell: false,
      fills: 0,
      time: 0,
      receivedAt: 0,
    };
    shuffled.forEach((t, i) => {
      assert.ok(window.accepts(t.time));
      if (i % 3 === 0) window.push(t, (r) => out.push(r));
      else {
        numbers.seq = t.seq!;
        numbers.priceCoef = Number(t.price.coef);
        numbers.priceScale = t.price.scale;
        numbers.sizeCoef = Number(t.size.coef);
        numbers.sizeScale = t.size.scale;
        numbers.sell = t.side === 'sell';
        numbers.fills = t.fills;
        numbers.time = t.time;
        numbers.receivedAt = t.receivedAt;
        window.pushNumbers(numbers, t.venue, t.symbol, (r) => out.push(r));
      }
    });
    window.drain((r) => out.push(r));
    assert.deepEqual(out, sorted);
  });
});
