import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CandleState, CandleUpdate } from '../domain/candle.ts';
import { ZERO, fromInteger } from '../domain/decimal.ts';
import type { Interval } from '../domain/interval.ts';
import { CandleEngine } from './candle-engine.ts';
import { UpdateCoalescer } from './update-coalescer.ts';

function update(
  interval: Interval,
  time: number,
  state: CandleState,
  close: number,
  symbol = 'BTC/USDT',
): CandleUpdate {
  const price = fromInteger(close);
  return {
    symbol,
    interval,
    state,
    sources: ['binance'],
    bar: {
      time,
      open: price,
      high: price,
      low: price,
      close: price,
      volume: ZERO,
      quoteVolume: ZERO,
      takerBuyVolume: ZERO,
      takerBuyQuoteVolume: ZERO,
      trades: 0,
    },
  };
}

const summary = (batch: readonly CandleUpdate[]): string[] =>
  batch.map((u) => `${u.symbol} ${u.interval} ${u.bar.time} ${u.state} ${u.bar.close.coef}`);

describe('UpdateCoalescer', () => {
  it('keeps only the latest live state of a bar per batch', () => {
    const c = new UpdateCoalescer();
    c.add(update('1m', 0, 'live', 1));
    c.add(update('1m', 0, 'live', 2));
    c.add(update('1m', 0, 'live', 3));
    assert.equal(c.pending, 1);
    assert.deepEqual(summary(c.flush()), ['BTC/USDT 1m 0 live 3']);
    assert.deepEqual(c.flush(), []);
    assert.equal(c.totalReceived, 3);
  });

  it('never downgrades closed or revised to live', () => {
    const c = new UpdateCoalescer();
    c.add(update('1m', 0, 'closed', 1));
    c.add(update('1m', 0, 'live', 2));
    c.add(update('5m', 0, 'revised', 1));
    c.add(update('5m', 0, 'live', 2));
    assert.deepEqual(summary(c.flush()), ['BTC/USDT 1m 0 closed 2', 'BTC/USDT 5m 0 revised 2']);
  });

  it('publishes a bar closed then revised in one batch once, as closed with the revised content', () => {
    const c = new UpdateCoalescer();
    c.add(update('1m', 0, 'live', 1));
    c.add(update('1m', 0, 'closed', 2));
    c.add(update('1m', 60_000, 'live', 5));
    c.add(update('1m', 0, 'revised', 3));
    assert.deepEqual(summary(c.flush()), ['BTC/USDT 1m 0 closed 3', 'BTC/USDT 1m 60000 live 5']);
  });

  it("keeps a bar's close before the next bar's live and revisions of flushed bars in arrival order", () => {
    const c = new UpdateCoalescer();
    c.add(update('1m', 0, 'live', 1));
    c.flush();
    c.add(update('1m', 0, 'closed', 1));
    c.add(update('1m', 60_000, 'live', 2));
    c.add(update('1m', 60_000, 'closed', 2));
    c.add(update('1m', 120_000, 'live', 3));
    c.add(update('1m', 120_000, 'live', 4));
    assert.deepEqual(summary(c.flush()), [
      'BTC/USDT 1m 0 closed 1',
      'BTC/USDT 1m 60000 closed 2',
      'BTC/USDT 1m 120000 live 4',
    ]);
    c.add(update('1m', 0, 'revised', 7));
    c.add(update('1m', 60_000, 'revised', 8));
    c.add(update('1m', 120_000, 'live', 9));
    assert.deepEqual(summary(c.flush()), [
      'BTC/USDT 1m 0 revised 7',
      'BTC/USDT 1m 60000 revised 8',
      'BTC/USDT 1m 120000 live 9',
    ]);
  });

  it('keeps bars of different symbols and intervals apart', () => {
    const c = new UpdateCoalescer();
    c.add(update('1m', 0, 'live', 1, 'BTC/USDT'));
    c.add(update('1m', 0, 'live', 2, 'ETH/USDT'));
    c.add(update('5m', 0, 'live', 3, 'BTC/USDT'));
    assert.equal(c.flush().length, 3);
  });

  it('turns a stream of engine updates into batches with the same final bars and causal order', () => {
    const c = new UpdateCoalescer();
    const all: CandleUpdate[] = [];
    const e = new CandleEngine({
      symbol: 'BTC/USDT',
      venues: ['binance'],
      closeGraceMs: 0,
      onUpdate: (u) => {
        all.push(u);
        c.add(u);
      },
    });
    const batches: CandleUpdate[][] = [];
    let seq = 0;
    for (let i = 0; i < 600; i++) {
      const time = i * 1_000 + (i % 7 === 0 ? -90_000 : 0);
      if (time < 0) continue;
      e.addTrade({
        venue: 'binance',
        symbol: 'BTC/USDT',
        id: String(++seq),
        seq,
        price: fromInteger(100 + (i % 13)),
        size: fromInteger(1),
        side: 'buy',
        fills: 1,
        time,
        receivedAt: time,
      });
      if (i % 37 === 0) batches.push(c.flush());
    }
    batches.push(c.flush());
    const published = batches.flat();
    assert.ok(published.length < all.length);
    // Latest content per bar agrees with the raw stream.
    const last = new Map<string, CandleUpdate>();
    for (const u of all) last.set(`${u.interval} ${u.bar.time}`, u);
    const lastPublished = new Map<string, CandleUpdate>();
    for (const u of published) lastPublished.set(`${u.interval} ${u.bar.time}`, u);
    assert.equal(lastPublished.size, last.size);
    for (const [key, u] of last) assert.deepEqual(lastPublished.get(key)!.bar, u.bar, key);
    // Per interval, once a newer bar was published live, the older bar is never published live again.
    for (const interval of ['1m', '5m'] as const) {
      let newest = -1;
      for (const u of published.filter((p) => p.interval === interval)) {
        if (u.state === 'live') assert.ok(u.bar.time >= newest, `${interval} live for an older bar`);
        newest = Math.max(newest, u.bar.time);
      }
    }
  });
});
