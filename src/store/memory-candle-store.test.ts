import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
});
