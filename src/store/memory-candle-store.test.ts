import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CandleUpdate } from '../domain/candle.ts';
import { makeBar, runCandleStoreContract } from './candle-store.contract.ts';
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
});
