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

  it('sends trailing snapshots due within the slack together, on one timer, never sooner than the interval', () => {
    const clock = new ManualClock(1_000);
    const out: { at: number; symbol: string }[] = [];
    const throttle = new BookSnapshotThrottle((s) => out.push({ at: clock.now(), symbol: s.symbol }), {
      intervalMs: 200,
      levels: 1,
      slackMs: 20,
      clock,
    });
    const [a, b, c] = ['A/X', 'B/X', 'C/X'].map((symbol) => new OrderBook('okx', symbol)) as [
      OrderBook,
      OrderBook,
      OrderBook,
    ];
    // Leading edges at 1,000, 1,015 and 1,100: A and B are due 15 ms apart, C 100 ms after A.
    throttle.changed(a);
    clock.advance(15);
    throttle.changed(b);
    clock.advance(85);
    throttle.changed(c);
    const changeAll = (): void => [a, b, c].forEach((book) => throttle.changed(book));
    changeAll();
    assert.equal(clock.pending, 1, 'one timer for all waiting books');
    // Every book keeps changing; the trailing snapshots leave as the timer fires.
    for (let t = 0; t < 60; t++) {
      clock.advance(10);
      changeAll();
    }
    const times = (symbol: string): number[] => out.filter((o) => o.symbol === symbol).map((o) => o.at);
    // A (due 1,200) waits for B (due 1,215, within the slack); from then on both are due together.
    assert.deepEqual(times('A/X'), [1000, 1215, 1415, 1615]);
    assert.deepEqual(times('B/X'), [1015, 1215, 1415, 1615]);
    // C is due 1,300, 85 ms after them: on its own turn, on time.
    assert.deepEqual(times('C/X'), [1100, 1300, 1500, 1700]);
    for (const symbol of ['A/X', 'B/X', 'C/X']) {
      const at = times(symbol);
      assert.ok(
        at.every((t, i) => i === 0 || t - (at[i - 1] as number) >= 200),
        `${symbol} spaced`,
      );
    }
    throttle.forget('okx', 'A/X');
    throttle.forget('okx', 'B/X');
    throttle.forget('okx', 'C/X');
    assert.equal(clock.pending, 0, 'no timer once nothing waits');
  });
});
