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

test('takes numbers that only increase for seen only when remembered, and reports no gaps', () => {
  // OKX: a jump is no hole, but a trade below the newest that was never seen is new (one a stream withheld and a
  // fetch brings later), however many came after it.
  const d = new TradeDedupe({ contiguousSeq: false });
  let reported = 0;
  d.accept(trade(100));
  d.accept(trade(250), () => reported++);
  assert.equal(reported, 0);
  assert.equal(d.leaveOpenBelow(400), undefined, 'nothing to leave open: the numbers remembered decide');
  assert.equal(d.accept(trade(400)), true);
  assert.equal(d.isNew(trade(150)), true);
  assert.equal(d.accept(trade(150)), true, 'below the newest, never seen');
  assert.equal(d.accept(trade(150)), false, 'once');
  assert.equal(d.accept(trade(250)), false);
  assert.equal(d.highestSeq, 400);
  assert.deepEqual(d.stats().openGaps, []);
});

test('takes a number at or below one it forgot or resumed after for seen', () => {
  const d = new TradeDedupe({ contiguousSeq: false, maxRecentIds: 3 });
  d.resumeAfter(9);
  assert.equal(d.accept(trade(9)), false, 'in the history resumed after');
  for (const seq of [10, 20, 30, 40]) assert.equal(d.accept(trade(seq)), true);
  // 10 was forgotten: 15, never seen, may be older than what is remembered, so it is not added twice.
  assert.equal(d.accept(trade(10)), false);
  assert.equal(d.accept(trade(15)), true, 'above the forgotten 10 and not remembered');
  // 15 made 20 the oldest, then forgot it.
  assert.equal(d.accept(trade(18)), false, 'below the forgotten 20');
  assert.equal(d.accept(trade(35)), true);
  assert.equal(d.stats().duplicates, 3);
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
  // Binance, a REST answer without a trade: the stream's first trade, 40, comes before the fetch of the trades
  // before it. Once a sequence has begun, a jump opens its gap by itself.
  const d = new TradeDedupe({ contiguousSeq: true });
  const gaps: SeqGap[] = [];
  const open = d.leaveOpenBelow(40);
  assert.deepEqual(open, { from: Number.MIN_SAFE_INTEGER, to: 39 });
  assert.equal(d.isNew(trade(40)), true);
  assert.equal(
    d.accept(trade(40), (g) => gaps.push(g)),
    true,
  );
  assert.equal(d.isNew(trade(20)), true, 'a fetched trade below 40 is new');
  assert.equal(d.accept(trade(20)), true);
  assert.equal(d.accept(trade(20)), false, 'once');
  assert.equal(d.accept(trade(30)), true);
  d.close(open as SeqGap);
  assert.equal(d.accept(trade(35)), false, 'closed: the numbers the fetch did not bring are no trades');
  assert.deepEqual(d.stats().openGaps, []);
  assert.deepEqual(gaps, [], 'nothing reported');
  assert.equal(d.leaveOpenBelow(41), undefined, 'nothing between 40 and 41');
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
