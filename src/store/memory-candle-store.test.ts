import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CandleUpdate } from '../domain/candle.ts';
import type { StoredCandle } from './candle-store.ts';
import { makeBar, makeUpdate, runCandleStoreContract } from './candle-store.contract.ts';
import { MemoryCandleStore } from './memory-candle-store.ts';

runCandleStoreContract('MemoryCandleStore', async () => new MemoryCandleStore());

describe('MemoryCandleStore', () => {
  it('keeps the newest `capacity` bars of a series', () => {
    const store = new MemoryCandleStore(3);
    for (let i = 0; i < 5; i++) store.put('BTC/USDT', '1m', makeBar(i * 60_000));
    assert.equal(store.count('BTC/USDT', '1m'), 3);
    assert.deepEqual(
      store.recentSync('BTC/USDT', '1m', 10).map((s) => s.bar.time),
      [120_000, 180_000, 240_000],
    );
  });

  it('puts runs of one series and single updates of several in together as `put` of each in turn would', () => {
    const update = (symbol: string, minute: number, trades: number): CandleUpdate => ({
      symbol,
      interval: '1m',
      state: 'closed',
      bar: makeBar(minute * 60_000, { trades }),
      sources: ['okx'],
      backfilled: true,
    });
    const live = [update('BTC/USDT', 500, 1), update('ETH/USDT', 500, 1)];
    // A piece of history, newest first, then live bars of two series, then a second piece overlapping the first.
    const history = Array.from({ length: 40 }, (_, i) => update('BTC/USDT', 499 - i, 2));
    const again = Array.from({ length: 30 }, (_, i) => update('BTC/USDT', 470 - i, 3));
    const together = new MemoryCandleStore(60);
    const oneByOne = new MemoryCandleStore(60);
    for (const batch of [live, history, live, again]) {
      together.putAll(batch);
      for (const u of batch) oneByOne.put(u.symbol, u.interval, u.bar, u.sources, u.backfilled);
    }
    const read = (store: MemoryCandleStore, symbol: string): [number, number][] =>
      store.recentSync(symbol, '1m', 100).map((s) => [s.bar.time / 60_000, s.bar.trades]);
    assert.deepEqual(read(together, 'BTC/USDT'), read(oneByOne, 'BTC/USDT'));
    assert.deepEqual(read(together, 'ETH/USDT'), [[500, 1]]);
    assert.equal(together.count('BTC/USDT', '1m'), 60);
    assert.deepEqual(read(together, 'BTC/USDT')[0], [441, 3]);
  });

  describe("a gateway's copy of the bus (mirror) extended back by database reads (extendBack)", () => {
    const MINUTE = 60_000;
    /** A time long after every bar here: the database held them final when read. */
    const SETTLED = 10_000 * MINUTE;
    /** What the database holds of minute `m`: close `m.1`. */
    const fromDatabase = (from: number, to: number): StoredCandle[] =>
      Array.from({ length: to - from }, (_, i) => ({
        bar: makeBar((from + i) * MINUTE, { close: `${from + i}.1` }),
        sources: ['binance'],
        backfilled: false,
      }));
    /** Each bar held as [minute, close]. */
    const held = (store: MemoryCandleStore): [number, string][] =>
      store
        .recentSync('BTC/USDT', '1m', 10_000)
        .map((s) => [s.bar.time / MINUTE, String(Number(s.bar.close.coef) / 10 ** s.bar.close.scale)]);
    const minutes = (from: number, to: number, close: (m: number) => string): [number, string][] =>
      Array.from({ length: to - from }, (_, i) => [from + i, close(from + i)]);
    /** Memory following the bus from minute 100 on (close `m.2`): what a gateway started at minute 100 holds. */
    const following = (capacity = 1000): MemoryCandleStore => {
      const store = new MemoryCandleStore(capacity);
      for (let m = 100; m < 110; m++) store.mirror(makeUpdate('BTC/USDT', m * MINUTE, { close: `${m}.2` }));
      return store;
    };

    it('takes the older bars of a read that reaches the bars held; the held ones stay', () => {
      const store = following();
      store.extendBack('BTC/USDT', '1m', fromDatabase(40, 105), SETTLED);
      assert.deepEqual(held(store), [
        ...minutes(40, 100, (m) => `${m}.1`),
        ...minutes(100, 110, (m) => `${m}.2`),
      ]);
    });

    it('takes nothing from a read that ends before the oldest bar held (a hole would remain), or into an empty series', () => {
      const store = following();
      store.extendBack('BTC/USDT', '1m', fromDatabase(40, 99), SETTLED);
      assert.deepEqual(
        held(store),
        minutes(100, 110, (m) => `${m}.2`),
      );
      const empty = new MemoryCandleStore(1000);
      empty.extendBack('BTC/USDT', '1m', fromDatabase(40, 99), SETTLED);
      assert.equal(empty.count('BTC/USDT', '1m'), 0);
    });

    it('does not put a change older than the bars held, and lays it over the read that extends back to it', () => {
      const store = following();
      // A revision of minute 90 on the bus (an older state than the database's, or one it does not hold yet).
      store.mirror(makeUpdate('BTC/USDT', 90 * MINUTE, { close: '90.9' }));
      assert.deepEqual(
        held(store),
        minutes(100, 110, (m) => `${m}.2`),
        'no bar with a hole after it',
      );
      store.extendBack('BTC/USDT', '1m', fromDatabase(80, 105), SETTLED);
      assert.deepEqual(held(store), [
        ...minutes(80, 90, (m) => `${m}.1`),
        [90, '90.9'],
        ...minutes(91, 100, (m) => `${m}.1`),
        ...minutes(100, 110, (m) => `${m}.2`),
      ]);
      // Within the bars held now, a change is put.
      store.mirror(makeUpdate('BTC/USDT', 85 * MINUTE, { close: '85.9' }));
      assert.deepEqual(held(store)[5], [85, '85.9']);
    });

    it('keeps a change older than the read for a later, deeper read', () => {
      const store = following();
      store.mirror(makeUpdate('BTC/USDT', 50 * MINUTE, { close: '50.9' }));
      store.extendBack('BTC/USDT', '1m', fromDatabase(80, 105), SETTLED);
      assert.equal(held(store)[0]?.[0], 80);
      store.extendBack('BTC/USDT', '1m', fromDatabase(40, 85), SETTLED);
      assert.deepEqual(held(store).slice(0, 12), [
        ...minutes(40, 50, (m) => `${m}.1`),
        [50, '50.9'],
        [51, '51.1'],
      ]);
    });

    it('fills up to the capacity with the newest of the older bars', () => {
      const store = following(25);
      store.extendBack('BTC/USDT', '1m', fromDatabase(0, 105), SETTLED);
      assert.deepEqual(held(store), [
        ...minutes(85, 100, (m) => `${m}.1`),
        ...minutes(100, 110, (m) => `${m}.2`),
      ]);
      store.extendBack('BTC/USDT', '1m', fromDatabase(0, 105), SETTLED);
      assert.equal(store.count('BTC/USDT', '1m'), 25, 'full: nothing more');
    });

    it('takes nothing while the bar before the oldest held may not be final in the database yet', () => {
      const store = following();
      // Minute 99 ended at minute 100, the oldest held: a read made before it settled does not extend memory.
      store.extendBack('BTC/USDT', '1m', fromDatabase(40, 105), 100 * MINUTE - 1);
      assert.deepEqual(
        held(store),
        minutes(100, 110, (m) => `${m}.2`),
      );
      store.extendBack('BTC/USDT', '1m', fromDatabase(40, 105), 100 * MINUTE);
      assert.equal(held(store)[0]?.[0], 40);
    });

    it('is not extended back once more older changes came than it could keep', () => {
      const store = following(12);
      for (let m = 60; m < 73; m++) store.mirror(makeUpdate('BTC/USDT', m * MINUTE, { close: `${m}.9` }));
      store.extendBack('BTC/USDT', '1m', fromDatabase(90, 105), SETTLED);
      assert.deepEqual(
        held(store),
        minutes(100, 110, (m) => `${m}.2`),
      );
    });
  });
});
