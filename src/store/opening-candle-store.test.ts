import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CandleUpdate } from '../domain/candle.ts';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import { MemoryCandleStore } from './memory-candle-store.ts';
import { OpeningCandleStore } from './opening-candle-store.ts';

const MINUTE = 60_000;

function update(minute: number, close: string): CandleUpdate {
  const p = parseDecimal(close);
  const zero = parseDecimal('0');
  return {
    symbol: 'BTC/USDT',
    interval: '1m',
    state: 'closed',
    bar: {
      time: minute * MINUTE,
      open: p,
      high: p,
      low: p,
      close: p,
      volume: parseDecimal('1'),
      quoteVolume: p,
      takerBuyVolume: zero,
      takerBuyQuoteVolume: zero,
      trades: 1,
    },
    sources: ['binance'],
  };
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(err: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('OpeningCandleStore', () => {
  it('holds reads and writes until the store has opened, then hands them to it in the order they were made', async () => {
    const opening = deferred<MemoryCandleStore>();
    const store = new OpeningCandleStore(opening.promise);
    const settled: string[] = [];
    const first = store.write([update(1, '100')]).then(() => settled.push('write 1'));
    const read = store.recent('BTC/USDT', '1m', 10).then((bars) => {
      settled.push('read');
      return bars;
    });
    const second = store.write([update(1, '101'), update(2, '102')]).then(() => settled.push('write 2'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(settled, [], 'nothing answered before the store is there');
    assert.equal(store.ready, false);

    const memory = new MemoryCandleStore(100);
    opening.resolve(memory);
    const bars = await read;
    await Promise.all([first, second]);
    assert.equal(store.ready, true);
    assert.deepEqual([...settled].sort(), ['read', 'write 1', 'write 2']);
    assert.deepEqual(
      bars.map((b) => toPlainString(b.bar.close)),
      ['100'],
      'the read saw the write made before it, not the one after',
    );
    const after = await store.recent('BTC/USDT', '1m', 10);
    assert.deepEqual(
      after.map((b) => [b.bar.time / MINUTE, toPlainString(b.bar.close)]),
      [
        [1, '101'],
        [2, '102'],
      ],
    );
  });

  it('rejects every waiting and later call with the error the store failed to open with, and closes quietly', async () => {
    const opening = deferred<MemoryCandleStore>();
    const store = new OpeningCandleStore(opening.promise);
    const write = store.write([update(1, '100')]);
    const read = store.recent('BTC/USDT', '1m', 10);
    opening.reject(new Error('data directory is locked by another process'));
    await assert.rejects(write, /locked by another process/);
    await assert.rejects(read, /locked by another process/);
    await assert.rejects(store.recent('BTC/USDT', '1m', 1), /locked by another process/);
    await store.close();
  });

  it('flushed() waits for the store and asks it after the writes made before', async () => {
    const opening = deferred<MemoryCandleStore>();
    const store = new OpeningCandleStore(opening.promise);
    const memory = new MemoryCandleStore(10);
    let barsWhenAsked = -1;
    memory.flushed = async () => {
      barsWhenAsked = memory.count('BTC/USDT', '1m');
    };
    const write = store.write([update(1, '100'), update(2, '101')]);
    const flushed = store.flushed();
    opening.resolve(memory);
    await Promise.all([write, flushed]);
    assert.equal(barsWhenAsked, 2, 'the store was asked once it held the earlier writes');
  });

  it('closes the store once it has opened', async () => {
    const opening = deferred<MemoryCandleStore>();
    const store = new OpeningCandleStore(opening.promise);
    let closed = 0;
    const memory = new MemoryCandleStore(10);
    const close = memory.close.bind(memory);
    memory.close = async () => {
      closed++;
      await close();
    };
    const closing = store.close();
    opening.resolve(memory);
    await closing;
    assert.equal(closed, 1);
  });

  it("with reads 'nothing-yet', answers reads at once while opening, holds writes, and reads the store once open", async () => {
    const opening = deferred<MemoryCandleStore>();
    const store = new OpeningCandleStore(opening.promise, { readsWhileOpening: 'nothing-yet' });
    let written = false;
    const write = store.write([update(1, '100')]).then(() => {
      written = true;
    });
    assert.deepEqual(await store.recent('BTC/USDT', '1m', 10), [], 'the history cannot be read yet');
    assert.equal(written, false, 'the write waits for the store');
    opening.resolve(new MemoryCandleStore(10));
    await write;
    const bars = await store.recent('BTC/USDT', '1m', 10);
    assert.deepEqual(
      bars.map((b) => toPlainString(b.bar.close)),
      ['100'],
    );
  });

  it("with reads 'nothing-yet', rejects reads with the error the store failed to open with", async () => {
    const opening = deferred<MemoryCandleStore>();
    const store = new OpeningCandleStore(opening.promise, { readsWhileOpening: 'nothing-yet' });
    opening.reject(new Error('data directory is locked by another process'));
    await assert.rejects(store.write([update(1, '100')]), /locked by another process/);
    await assert.rejects(store.recent('BTC/USDT', '1m', 1), /locked by another process/);
  });
});
