import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BookRules } from '../domain/book-rules.ts';
import type { BookLevel, BookUpdate } from '../domain/book.ts';
import type { BookTopSnapshot } from './book-snapshot-throttle.ts';
import { crc32Signed } from './checksum.ts';
import { ManualClock } from '../util/clock.ts';
import { DEFAULT_BOOK_PUBLISH_MS, VenueBooks, type VenueBooksEvent } from './venue-books.ts';

const lv = (price: string, size: string): BookLevel => ({ price, size });
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const REST_RULES: BookRules = {
  snapshotSource: 'rest',
  sequence: 'binance-range',
  checksum: 'none',
  checksumSnapshots: false,
  uncross: false,
  snapshotDepth: 1000,
};
const STREAM_RULES: BookRules = {
  snapshotSource: 'stream',
  sequence: 'prev-seq',
  checksum: 'crc32-top25',
  checksumSnapshots: true,
  uncross: false,
};

function delta(symbol: string, prevSeq: number, seq: number, bids: BookLevel[] = []): BookUpdate {
  return {
    venue: 'binance',
    symbol,
    kind: 'delta',
    bids,
    asks: [],
    prevSeq,
    seq,
    time: seq,
    receivedAt: seq,
  };
}

describe('VenueBooks', () => {
  it('fetches one REST snapshot per book, publishes the synced book throttled, and refetches after a gap', async () => {
    const clock = new ManualClock();
    const fetches: {
      symbol: string;
      depth: number;
      resolve: (u: BookUpdate) => void;
      reject: (e: Error) => void;
    }[] = [];
    const published: BookTopSnapshot[] = [];
    const events: VenueBooksEvent[] = [];
    const books = new VenueBooks(
      {
        venue: 'binance',
        rules: REST_RULES,
        fetchSnapshot: (symbol, depth) =>
          new Promise<BookUpdate>((resolve, reject) => fetches.push({ symbol, depth, resolve, reject })),
        publish: (s) => published.push(s),
        onEvent: (e) => events.push(e),
      },
      { clock, snapshotTimeoutMs: 5000, publishLevels: 1 },
    );
    books.apply(delta('BTC/USDT', 100, 101, [lv('10', '1')]));
    books.apply(delta('BTC/USDT', 101, 102, [lv('10', '2')]));
    assert.deepEqual(
      fetches.map((f) => [f.symbol, f.depth]),
      [['BTC/USDT', 1000]],
    );
    assert.equal(published.length, 0, 'nothing before the snapshot');
    fetches[0]?.resolve({
      venue: 'binance',
      symbol: 'BTC/USDT',
      kind: 'snapshot',
      bids: [lv('10', '5'), lv('9', '1')],
      asks: [lv('11', '1')],
      seq: 101,
      time: 0,
      receivedAt: 0,
    });
    await flush();
    assert.equal(published.length, 1);
    assert.deepEqual(published[0]?.bids, [lv('10', '2')], 'buffered delta 102 applied over snapshot 101');
    assert.equal(published[0]?.seq, 102);
    books.apply(delta('BTC/USDT', 102, 103, [lv('10', '3')]));
    books.apply(delta('BTC/USDT', 103, 104, [lv('10', '4')]));
    clock.advance(DEFAULT_BOOK_PUBLISH_MS - 1);
    assert.equal(published.length, 1, 'no second snapshot within the publish period');
    clock.advance(1);
    assert.deepEqual(
      published.map((p) => p.seq),
      [102, 104],
    );
    books.apply(delta('BTC/USDT', 200, 201));
    assert.equal(fetches.length, 2, 'a gap fetches a new snapshot');
    books.apply(delta('BTC/USDT', 201, 202));
    assert.equal(fetches.length, 2, 'one fetch at a time');
    fetches[1]?.reject(new Error('HTTP 429'));
    await flush();
    assert.equal(events.filter((e) => e.type === 'snapshot-failed').length, 1);
    clock.advance(4000);
    assert.equal(fetches.length, 2, 'not before the snapshot timeout');
    clock.advance(2000);
    assert.equal(fetches.length, 3, 'the snapshot timeout asks again');
    assert.equal(books.stats()[0]?.resyncs.gap, 1);
    assert.equal(books.stats()[0]?.resyncs['snapshot-timeout'], 1);
    books.close();
    assert.equal(clock.pending, 0);
    fetches[2]?.resolve({
      venue: 'binance',
      symbol: 'BTC/USDT',
      kind: 'snapshot',
      bids: [],
      asks: [],
      seq: 300,
      time: 0,
      receivedAt: 0,
    });
    await flush();
    assert.equal(published.length, 2, 'nothing after close');
  });

  it('keeps a book it does not publish in sync without building a snapshot or setting a timer', async () => {
    const clock = new ManualClock();
    const published: BookTopSnapshot[] = [];
    let wanted = false;
    let answer!: (u: BookUpdate) => void;
    const books = new VenueBooks(
      {
        venue: 'binance',
        rules: REST_RULES,
        fetchSnapshot: () => new Promise<BookUpdate>((resolve) => (answer = resolve)),
        publish: (s) => published.push(s),
        published: (symbol) => wanted && symbol === 'BTC/USDT',
      },
      { clock, publishLevels: 1, pollMs: 60_000 },
    );
    books.apply(delta('BTC/USDT', 100, 101, [lv('10', '1')]));
    const timersBefore = clock.pending;
    answer({
      venue: 'binance',
      symbol: 'BTC/USDT',
      kind: 'snapshot',
      bids: [lv('10', '5')],
      asks: [],
      seq: 100,
      time: 0,
      receivedAt: 0,
    });
    await flush();
    books.apply(delta('BTC/USDT', 101, 102, [lv('10', '2')]));
    books.apply(delta('BTC/USDT', 102, 103, [lv('10', '3')]));
    assert.equal(clock.pending, timersBefore, 'no trailing-snapshot timer');
    clock.advance(DEFAULT_BOOK_PUBLISH_MS * 2);
    assert.equal(published.length, 0, 'nothing built or published while the book is not wanted');
    assert.equal(books.sync.book('BTC/USDT')?.seq, 103, 'the book is kept in sync meanwhile');
    wanted = true;
    books.apply(delta('BTC/USDT', 103, 104, [lv('10', '4')]));
    assert.deepEqual(
      published.map((p) => [p.seq, p.bids]),
      [[104, [lv('10', '4')]]],
      'published again as soon as it is wanted',
    );
    books.close();
  });

  it('resubscribes a stream-source book that failed its checksum and publishes again once rebuilt', () => {
    const clock = new ManualClock();
    const resubscribed: string[] = [];
    const published: BookTopSnapshot[] = [];
    const books = new VenueBooks(
      {
        venue: 'okx',
        rules: STREAM_RULES,
        resubscribe: (s) => resubscribed.push(s),
        publish: (s) => published.push(s),
      },
      { clock },
    );
    const bids = [lv('1.5', '2')];
    const asks = [lv('1.6', '3')];
    const good = crc32Signed('1.5:2:1.6:3');
    const snap = (seq: number): BookUpdate => ({
      venue: 'okx',
      symbol: 'ETH/USDT',
      kind: 'snapshot',
      bids,
      asks,
      seq,
      prevSeq: -1,
      checksum: good,
      time: seq,
      receivedAt: seq,
    });
    books.apply(snap(1));
    assert.equal(published.length, 1);
    books.apply({ ...snap(2), kind: 'delta', bids: [lv('1.5', '7')], prevSeq: 1, checksum: good });
    assert.deepEqual(resubscribed, ['ETH/USDT']);
    clock.advance(1000);
    assert.equal(published.length, 1, 'the broken book is not published');
    books.apply(snap(10));
    assert.equal(published.length, 2);
    assert.equal(published[1]?.seq, 10);
    books.close();
  });

  it('refuses rules it cannot serve', () => {
    assert.throws(
      () => new VenueBooks({ venue: 'binance', rules: REST_RULES, resubscribe: () => {}, publish: () => {} }),
      /fetchSnapshot/,
    );
    assert.throws(
      () => new VenueBooks({ venue: 'dydx', rules: STREAM_RULES, publish: () => {} }),
      /resubscribe/,
    );
  });
});
