import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BarJson } from '../protocol/server-messages.ts';
import { applyRevision, applyUpdate, barsToCover, mergeWindow, prependOlder } from './candle-merge.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 9, 24, 10);

function bar(minute: number, close = 100 + minute, closed = true): BarJson {
  return {
    time: new Date(T0 + minute * M).toISOString(),
    open: close,
    high: close,
    low: close,
    close,
    volume: 1,
    quoteVolume: close,
    trades: 1,
    closed,
    sources: ['binance'],
    backfilled: false,
  };
}
const minutes = (bars: readonly BarJson[]): number[] => bars.map((b) => (Date.parse(b.time) - T0) / M);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('candle merge', () => {
  it('an update of the newest time replaces it, a later time appends', () => {
    const held = [bar(0), bar(1, 101, false)];
    const same = applyUpdate(held, bar(1, 150, false));
    assert.equal(same?.change.kind, 'update');
    assert.deepEqual(minutes(same!.bars), [0, 1]);
    assert.equal(same!.bars[1]?.close, 150);
    const next = applyUpdate(same!.bars, bar(2));
    assert.equal(next?.change.kind, 'append');
    assert.deepEqual(minutes(next!.bars), [0, 1, 2]);
  });

  it('a revision replaces the past bar in place and never appends', () => {
    const held = [bar(0), bar(1), bar(2)];
    const revised = applyRevision(held, bar(1, 999));
    assert.equal(revised?.change.kind, 'revision');
    assert.deepEqual(minutes(revised!.bars), [0, 1, 2]);
    assert.equal(revised!.bars[1]?.close, 999);
    assert.equal(applyRevision(held, bar(-5)), undefined, 'older than the series: not ours to extend');
    assert.equal(applyRevision(held, bar(9)), undefined);
    assert.deepEqual(
      minutes(applyRevision([bar(0), bar(2)], bar(1))!.bars),
      [0, 1, 2],
      'a missing bar inside',
    );
  });

  it('an initial window replaces the series from its first bar and keeps the older bars held', () => {
    const held = range(0, 10).map((m) => bar(m));
    const merged = mergeWindow(held, [bar(7, 777), bar(8), bar(9), bar(10), bar(11)], '1m');
    assert.deepEqual(minutes(merged.bars), range(0, 12));
    assert.equal(merged.bars[7]?.close, 777);
    assert.equal(merged.change.kind, 'reset');
  });

  it('drops the bars held when a whole window does not reach back to them (no hole), keeps them for a partial one', () => {
    const held = range(0, 5).map((m) => bar(m));
    assert.deepEqual(minutes(mergeWindow(held, [bar(20), bar(21)], '1m').bars), [20, 21]);
    assert.deepEqual(minutes(mergeWindow(held, [bar(5), bar(6)], '1m').bars), range(0, 7), 'adjacent: kept');
    assert.deepEqual(minutes(mergeWindow(held, [bar(20)], '1m', false).bars), [0, 1, 2, 3, 4, 20]);
  });

  it('a window with no bars keeps the series; a window out of order is sorted, each time once', () => {
    const held = [bar(0), bar(1)];
    assert.deepEqual(minutes(mergeWindow(held, [], '1m').bars), [0, 1]);
    assert.deepEqual(minutes(mergeWindow([], [bar(3), bar(2), bar(3, 5)], '1m').bars), [2, 3]);
  });

  it('prepends older pages without repeating a time', () => {
    const held = [bar(10), bar(11)];
    assert.deepEqual(minutes(prependOlder(held, [bar(8), bar(9), bar(10)])), [8, 9, 10, 11]);
  });

  it('asks for enough bars to cover the outage, at least what the view asked for, at most 5000', () => {
    const held = range(0, 100).map((m) => bar(m));
    assert.equal(barsToCover(held, '1m', T0 + 99 * M + 10, 50), 50);
    assert.equal(barsToCover(held, '1m', T0 + 299.5 * M, 50), 203);
    assert.equal(barsToCover(held, '5m', T0 + 99 * M + 60 * M, 1), 14);
    assert.equal(barsToCover(held, '1m', T0 + 30 * 24 * 60 * M, 50), 5000);
    assert.equal(barsToCover([], '1m', T0, 300), 300);
  });
});
