import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BookSnapshotThrottle, type BookTopSnapshot } from './book-snapshot-throttle.ts';
import { ManualClock } from '../util/clock.ts';
import { OrderBook } from './order-book.ts';

function setup(): {
  clock: ManualClock;
  out: { at: number; s: BookTopSnapshot }[];
  throttle: BookSnapshotThrottle;
} {
  const clock = new ManualClock(1_000);
  const out: { at: number; s: BookTopSnapshot }[] = [];
  const throttle = new BookSnapshotThrottle((s) => out.push({ at: clock.now(), s }), {
    intervalMs: 100,
    levels: 2,
    clock,
  });
  return { clock, out, throttle };
}

describe('BookSnapshotThrottle', () => {
  it('emits the first change at once and merges later ones into one trailing snapshot per interval', () => {
    const { clock, out, throttle } = setup();
    const book = new OrderBook('okx', 'BTC/USDT');
    book.replace(
      [
        { price: '10', size: '1' },
        { price: '9', size: '1' },
        { price: '8', size: '1' },
      ],
      [{ price: '11', size: '1' }],
    );
    book.seq = 1;
    book.time = 5;
    book.receivedAt = 6;
    throttle.changed(book);
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]?.s, {
      venue: 'okx',
      symbol: 'BTC/USDT',
      bids: [
        { price: '10', size: '1' },
        { price: '9', size: '1' },
      ],
      asks: [{ price: '11', size: '1' }],
      seq: 1,
      time: 5,
      receivedAt: 6,
    });
    for (let i = 2; i <= 20; i++) {
      clock.advance(10);
      book.setLevel('bid', '10', String(i));
      book.seq = i;
      throttle.changed(book);
    }
    clock.advance(300);
    assert.deepEqual(
      out.map((o) => o.at - 1_000),
      [0, 100, 200],
    );
    assert.equal(out.at(-1)?.s.seq, 20, 'the trailing snapshot carries the newest state');
    assert.equal(clock.pending, 0);
  });

  it('keeps books apart and forgets a book on request', () => {
    const { clock, out, throttle } = setup();
    const a = new OrderBook('okx', 'A/B');
    const b = new OrderBook('bitget', 'A/B');
    throttle.changed(a);
    throttle.changed(b);
    assert.equal(out.length, 2);
    throttle.changed(a);
    throttle.changed(b);
    throttle.forget('bitget', 'A/B');
    clock.advance(200);
    assert.deepEqual(
      out.map((o) => o.s.venue),
      ['okx', 'bitget', 'okx'],
    );
    throttle.changed(a);
    throttle.changed(a);
    throttle.close();
    clock.advance(200);
    assert.equal(out.length, 4);
    assert.equal(clock.pending, 0);
  });
});
