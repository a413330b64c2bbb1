import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BookLevelError, OrderBook } from './order-book.ts';

const lv = (price: string, size: string): { price: string; size: string } => ({ price, size });

describe('OrderBook', () => {
  it('keeps bids highest first and asks lowest first whatever the input order', () => {
    const book = new OrderBook('binance', 'BTC/USDT');
    book.replace(
      [lv('99', '1'), lv('101', '2'), lv('100', '3')],
      [lv('105', '1'), lv('102', '2'), lv('103', '3')],
    );
    assert.deepEqual(book.top(10), {
      bids: [lv('101', '2'), lv('100', '3'), lv('99', '1')],
      asks: [lv('102', '2'), lv('103', '3'), lv('105', '1')],
    });
  });

  it('replaces a size, inserts in place and deletes on size zero in any spelling', () => {
    const book = new OrderBook('okx', 'BTC/USDT');
    book.replace([lv('100', '1'), lv('98', '1')], [lv('101', '1')]);
    book.applyLevels('bid', [lv('99', '5'), lv('100', '2.50'), lv('98', '0.000')]);
    book.applyLevels('ask', [lv('101', '0'), lv('104', '1')]);
    assert.deepEqual(book.top(5), { bids: [lv('100', '2.50'), lv('99', '5')], asks: [lv('104', '1')] });
    assert.equal(book.bidCount, 2);
    assert.equal(book.askCount, 1);
  });

  it('treats two spellings of one price as one level and keeps the latest text', () => {
    const book = new OrderBook('okx', 'X');
    book.setLevel('ask', '0.0010', '1');
    book.setLevel('ask', '0.001', '2');
    assert.deepEqual(book.top(5).asks, [lv('0.001', '2')]);
  });

  it('ignores deleting a level it does not hold', () => {
    const book = new OrderBook('okx', 'X');
    book.setLevel('bid', '5', '0');
    assert.equal(book.bidCount, 0);
  });

  it('rejects a non-numeric level and leaves the book unchanged', () => {
    const book = new OrderBook('okx', 'X');
    book.replace([lv('1', '1')], []);
    assert.throws(() => book.applyLevels('bid', [lv('2', '1'), lv('abc', '1')]), BookLevelError);
    assert.throws(() => book.applyLevels('bid', [lv('3', '-1')]), BookLevelError);
    assert.throws(() => book.applyLevels('bid', [lv('', '1')]), BookLevelError);
    assert.deepEqual(book.top(5).bids, [lv('1', '1')]);
  });

  it('top(n) returns at most n levels and never more than the side holds', () => {
    const book = new OrderBook('okx', 'X');
    book.replace(
      Array.from({ length: 10 }, (_, i) => lv(String(100 - i), '1')),
      [lv('200', '1')],
    );
    const t = book.top(3);
    assert.deepEqual(
      t.bids.map((l) => l.price),
      ['100', '99', '98'],
    );
    assert.equal(t.asks.length, 1);
    assert.deepEqual(book.top(0), { bids: [], asks: [] });
  });

  it('a top-N view taken earlier is not changed by later updates', () => {
    const book = new OrderBook('okx', 'BTC/USDT');
    book.replace([lv('100', '1'), lv('99', '2')], [lv('101', '1')]);
    const before = book.top(2);
    book.apply([lv('100', '5'), lv('99', '0'), lv('100.5', '1')], [lv('101', '0')]);
    assert.deepEqual(before, { bids: [lv('100', '1'), lv('99', '2')], asks: [lv('101', '1')] });
    assert.deepEqual(book.top(2), { bids: [lv('100.5', '1'), lv('100', '5')], asks: [] });
  });

  it('caps each side at maxLevelsPerSide, dropping the worst levels', () => {
    const book = new OrderBook('okx', 'X', { maxLevelsPerSide: 3 });
    book.replace([lv('1', '1'), lv('2', '1'), lv('3', '1'), lv('4', '1')], []);
    assert.deepEqual(
      book.top(10).bids.map((l) => l.price),
      ['4', '3', '2'],
    );
    book.setLevel('bid', '0.5', '1');
    assert.equal(book.bidCount, 3);
    book.setLevel('bid', '5', '1');
    assert.deepEqual(
      book.top(10).bids.map((l) => l.price),
      ['5', '4', '3'],
    );
    assert.throws(() => new OrderBook('okx', 'X', { maxLevelsPerSide: 0 }), RangeError);
  });

  it('uncross removes the crossed levels of the side updated less recently', () => {
    const book = new OrderBook('dydx', 'BTC/USD');
    book.replace([lv('100', '1'), lv('99', '1')], [lv('101', '1'), lv('102', '1'), lv('103', '1')]);
    // The bid side moves up through two stale asks.
    book.applyLevels('bid', [lv('102', '4')]);
    assert.equal(book.isCrossed(), true);
    assert.equal(book.uncross(), 2);
    assert.equal(book.isCrossed(), false);
    assert.deepEqual(book.top(2), { bids: [lv('102', '4'), lv('100', '1')], asks: [lv('103', '1')] });
    // Now the asks move down through stale bids.
    book.applyLevels('ask', [lv('99.5', '1')]);
    assert.equal(book.uncross(), 2);
    assert.deepEqual(book.top(1), { bids: [lv('99', '1')], asks: [lv('99.5', '1')] });
    assert.equal(book.uncross(), 0);
  });

  it('uncrosses by message age: the side a later message moved wins', () => {
    const book = new OrderBook('dydx', 'X');
    book.apply([lv('100', '1')], [lv('101', '1')]);
    // One message moves both sides; the next moves the ask below the bid: the bid is older and goes.
    book.apply([lv('100.5', '1')], [lv('100.8', '1')]);
    book.apply([], [lv('100.2', '1')]);
    assert.equal(book.uncross(), 1);
    assert.deepEqual(book.top(2), {
      bids: [lv('100', '1')],
      asks: [lv('100.2', '1'), lv('100.8', '1')],
    });
  });

  it('validates both sides before applying either', () => {
    const book = new OrderBook('okx', 'X');
    assert.throws(() => book.apply([lv('1', '1')], [lv('2', 'NaN')]), BookLevelError);
    assert.equal(book.bidCount, 0);
  });

  it('keeps 5,000 levels per side sorted under random updates', () => {
    const book = new OrderBook('binance', 'X');
    const truth = new Map<number, string>();
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 20_000; i++) {
      const price = 1000 + Math.floor(rnd() * 5000) / 100;
      const size = rnd() < 0.2 ? '0' : (1 + Math.floor(rnd() * 100)).toString();
      book.setLevel('bid', price.toFixed(2), size);
      if (size === '0') truth.delete(price);
      else truth.set(price, size);
    }
    const expected = [...truth.entries()].sort((a, b) => b[0] - a[0]);
    const got = book.top(100_000).bids;
    assert.equal(got.length, expected.length);
    for (let i = 0; i < expected.length; i++) {
      assert.equal(Number(got[i]?.price), expected[i]?.[0]);
      assert.equal(got[i]?.size, expected[i]?.[1]);
    }
  });
});
