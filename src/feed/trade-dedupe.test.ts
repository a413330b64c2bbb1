import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDecimal } from '../domain/decimal.ts';
import type { Trade } from '../domain/trade.ts';
import { TradeDedupe, type SeqGap } from './trade-dedupe.ts';

function trade(seq: number | undefined, id = String(seq)): Trade {
  return {
    venue: 'binance',
    symbol: 'BTC/USDT',
    id,
    seq,
    price: parseDecimal('100'),
    size: parseDecimal('1'),
    side: 'buy',
    fills: 1,
    time: 0,
    receivedAt: 0,
  };
}

test('accepts each sequence number once, whether it arrives live or from a backfill', () => {
  const d = new TradeDedupe({ contiguousSeq: true });
  assert.equal(d.accept(trade(1)), true);
  assert.equal(d.accept(trade(2)), true);
  assert.equal(d.accept(trade(2)), false);
  assert.equal(d.accept(trade(1)), false);
  assert.equal(d.stats().duplicates, 2);
  assert.equal(d.highestSeq, 2);
});

test('reports a jump in a contiguous sequence as a gap and fills it from late trades', () => {
  const d = new TradeDedupe({ contiguousSeq: true });
  const gaps: SeqGap[] = [];
  d.accept(trade(10));
  d.accept(trade(15), (g) => gaps.push(g));
  assert.deepEqual(gaps, [{ from: 11, to: 14 }]);
  assert.equal(d.accept(trade(12)), true);
  assert.deepEqual(d.stats().openGaps, [
    { from: 11, to: 11 },
    { from: 13, to: 14 },
  ]);
  assert.equal(d.accept(trade(12)), false);
  for (const s of [11, 13, 14]) assert.equal(d.accept(trade(s)), true);
  assert.deepEqual(d.stats().openGaps, []);
  assert.equal(d.accept(trade(13)), false);
});

test('does not report gaps for venues whose ids only increase', () => {
  const d = new TradeDedupe({ contiguousSeq: false });
  let reported = 0;
  d.accept(trade(100));
  d.accept(trade(250), () => reported++);
  assert.equal(reported, 0);
  assert.equal(d.accept(trade(150)), false, 'below the highest seq without a known hole: already covered');
});

test('resumeAfter starts after history without opening a gap', () => {
  const d = new TradeDedupe({ contiguousSeq: true });
  d.resumeAfter(41);
  let reported = 0;
  assert.equal(d.accept(trade(41)), false);
  assert.equal(
    d.accept(trade(42), () => reported++),
    true,
  );
  assert.equal(reported, 0);
});

test('gives up the oldest gap beyond maxOpenGaps and counts it', () => {
  const d = new TradeDedupe({ contiguousSeq: true, maxOpenGaps: 2 });
  d.accept(trade(1));
  d.accept(trade(3));
  d.accept(trade(5));
  d.accept(trade(7));
  const s = d.stats();
  assert.equal(s.gapsOpened, 3);
  assert.equal(s.gapsAbandoned, 1);
  assert.deepEqual(s.openGaps, [
    { from: 4, to: 4 },
    { from: 6, to: 6 },
  ]);
});

test('deduplicates by id, within a bounded memory, when there is no sequence', () => {
  const d = new TradeDedupe({ contiguousSeq: false, maxRecentIds: 3 });
  for (const id of ['a', 'b', 'c']) assert.equal(d.accept(trade(undefined, id)), true);
  assert.equal(d.accept(trade(undefined, 'b')), false);
  assert.equal(d.accept(trade(undefined, 'd')), true);
  assert.equal(d.accept(trade(undefined, 'a')), true, 'the oldest id was forgotten');
});

test('forgets ids oldest first, however many times its memory has turned over', () => {
  const d = new TradeDedupe({ contiguousSeq: false, maxRecentIds: 5 });
  for (let i = 0; i < 23; i++) assert.equal(d.accept(trade(undefined, `t${i}`)), true);
  // The last five (t18..t22) are remembered, t17 and older forgotten.
  for (let i = 18; i < 23; i++) assert.equal(d.accept(trade(undefined, `t${i}`)), false, `t${i} remembered`);
  assert.equal(d.accept(trade(undefined, 't17')), true, 't17 forgotten');
  // Accepting t17 again made it the newest and forgot t18, the oldest.
  assert.equal(d.accept(trade(undefined, 't18')), true, 't18 forgotten');
  assert.equal(d.accept(trade(undefined, 't17')), false, 't17 remembered');
  const stats = d.stats();
  assert.equal(stats.accepted, 25);
  assert.equal(stats.duplicates, 6);
});

test('leaves the numbers below a later trade open for a fetch, silently, until the fetch is done', () => {
  // OKX: ids that only increase. The stream's trade 40 came before the fetch of the trades since 10.
  const d = new TradeDedupe({ contiguousSeq: false });
  assert.equal(d.accept(trade(10)), true);
  const gaps: SeqGap[] = [];
  const open = d.leaveOpenBelow(40);
  assert.deepEqual(open, { from: 11, to: 39 });
  assert.equal(d.isNew(trade(40)), true);
  assert.equal(
    d.accept(trade(40), (g) => gaps.push(g)),
    true,
  );
  assert.equal(d.isNew(trade(20)), true, 'a fetched trade below 40 is new');
  assert.equal(d.accept(trade(20)), true);
  assert.equal(d.accept(trade(20)), false, 'once');
  assert.equal(d.isNew(trade(10)), false);
  assert.equal(d.accept(trade(30)), true);
  d.close(open as SeqGap);
  assert.equal(d.accept(trade(35)), false, 'closed: the numbers the fetch did not bring are no trades');
  assert.deepEqual(d.stats().openGaps, []);
  assert.deepEqual(gaps, [], 'nothing reported');
  assert.equal(d.leaveOpenBelow(41), undefined, 'nothing between 40 and 41');

  // The first trade of all: everything below it is open.
  const first = new TradeDedupe({ contiguousSeq: true });
  assert.deepEqual(first.leaveOpenBelow(9), { from: Number.MIN_SAFE_INTEGER, to: 8 });
});

test('closes only the part of an open gap that a fetch covered', () => {
  const d = new TradeDedupe({ contiguousSeq: true });
  d.accept(trade(1));
  d.accept(trade(10));
  d.close({ from: 4, to: 6 });
  assert.deepEqual(d.stats().openGaps, [
    { from: 2, to: 3 },
    { from: 7, to: 9 },
  ]);
});
