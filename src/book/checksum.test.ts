import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bookChecksum, crc32Signed } from './checksum.ts';
import { booksPushes, levelsOf, readCapture } from './fixture-books.test-support.ts';
import { OrderBook } from './order-book.ts';

/** Replays captured `books` pushes into books kept from the original strings and checks every checksum. */
function replay(
  file: string,
  key: (arg: { instId?: string; instType?: string }) => string,
): {
  messages: number;
  snapshots: number;
  failures: string[];
} {
  const books = new Map<string, OrderBook>();
  let messages = 0;
  let snapshots = 0;
  const failures: string[] = [];
  for (const push of booksPushes(readCapture(file))) {
    const id = key(push.arg ?? {});
    for (const d of push.data ?? []) {
      let book = books.get(id);
      if (push.action === 'snapshot') {
        book = new OrderBook('okx', id);
        books.set(id, book);
        book.replace(levelsOf(d.bids), levelsOf(d.asks));
        snapshots++;
      } else {
        assert.ok(book, `update before snapshot for ${id}`);
        book.applyLevels('bid', levelsOf(d.bids));
        book.applyLevels('ask', levelsOf(d.asks));
      }
      messages++;
      assert.equal(typeof d.checksum, 'number');
      const got = bookChecksum(book);
      if (got !== d.checksum) failures.push(`${id} #${messages}: ${got} != ${d.checksum}`);
    }
  }
  return { messages, snapshots, failures };
}

describe('crc32Signed', () => {
  it('matches the CRC-32 check value and known strings as signed integers', () => {
    assert.equal(crc32Signed('123456789'), 0xcbf43926 | 0);
    assert.equal(crc32Signed(''), 0);
    assert.equal(crc32Signed('a'), 0xe8b7be43 | 0);
    assert.equal(crc32Signed('The quick brown fox jumps over the lazy dog'), 0x414fa339);
  });

  it('hashes non-ASCII text as UTF-8', () => {
    // Reference: a bitwise CRC over Node's own UTF-8 encoding of the same text.
    const bytes = Buffer.from('é€😀', 'utf8');
    let c = -1;
    for (const b of bytes) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    assert.equal(crc32Signed('é€😀'), ~c | 0);
  });
});

describe('bookChecksum', () => {
  it('interleaves bids and asks and skips the missing entries of the shorter side', () => {
    const book = new OrderBook('okx', 'X');
    book.replace(
      [
        { price: '3366.1', size: '7' },
        { price: '3366', size: '6' },
      ],
      [{ price: '3366.8', size: '9' }],
    );
    assert.equal(bookChecksum(book), crc32Signed('3366.1:7:3366.8:9:3366:6'));
  });

  it('covers only the first 25 levels per side, from the original strings', () => {
    const book = new OrderBook('okx', 'X');
    const bids = Array.from({ length: 30 }, (_, i) => ({ price: (100 - i).toFixed(2), size: '1.0' }));
    const asks = Array.from({ length: 30 }, (_, i) => ({ price: (101 + i).toFixed(2), size: '2.50' }));
    book.replace(bids, asks);
    const parts: string[] = [];
    for (let i = 0; i < 25; i++) parts.push(`${bids[i]?.price}:1.0:${asks[i]?.price}:2.50`);
    assert.equal(bookChecksum(book), crc32Signed(parts.join(':')));
    assert.equal(bookChecksum(new OrderBook('okx', 'empty')), 0);
  });

  it('hashes a level text outside ASCII as UTF-8 (a number after a no-break space)', () => {
    const book = new OrderBook('okx', 'X');
    book.replace([{ price: '\u00a0100.5', size: '2' }], [{ price: '101', size: '\u00a01' }]);
    assert.equal(bookChecksum(book), crc32Signed('\u00a0100.5:2:101:\u00a01'));
  });

  it('passes on all 290 OKX v5 book messages of the captured stream', () => {
    const r = replay('okx/cryptofeed_okx_v5_public_ws_2022-05-13.jsonl', (a) => a.instId ?? '');
    assert.equal(r.messages, 290);
    assert.equal(r.snapshots, 3);
    assert.deepEqual(r.failures, []);
  });

  it('passes on all 637 Bitget book messages of the captured stream', () => {
    const r = replay(
      'bitget/cryptofeed_bitget_v1_LEGACY_ws_2022-04-06.jsonl',
      (a) => `${a.instType}:${a.instId}`,
    );
    assert.equal(r.messages, 637);
    assert.equal(r.snapshots, 10);
    assert.deepEqual(r.failures, []);
  });

  it('detects a changed size string that is numerically equal', () => {
    const book = new OrderBook('okx', 'X');
    book.replace([{ price: '1.5', size: '0.0010' }], [{ price: '1.6', size: '2' }]);
    const before = bookChecksum(book);
    book.setLevel('bid', '1.5', '0.001');
    assert.notEqual(bookChecksum(book), before);
    assert.equal(bookChecksum(book), crc32Signed('1.5:0.001:1.6:2'));
  });

  it('covers long level texts and deep books (the text outgrows its first buffer)', () => {
    const book = new OrderBook('okx', 'X');
    const long = (i: number): string => `${i + 1}.${'1234567890'.repeat(6)}`;
    const bids = Array.from({ length: 400 }, (_, i) => ({ price: long(1000 - i), size: long(i) }));
    const asks = Array.from({ length: 300 }, (_, i) => ({ price: long(2000 + i), size: long(i) }));
    book.replace(bids, asks);
    const parts: string[] = [];
    for (let i = 0; i < 400; i++) {
      const b = bids[i];
      const a = asks[i];
      if (b !== undefined) parts.push(b.price, b.size);
      if (a !== undefined) parts.push(a.price, a.size);
    }
    assert.equal(bookChecksum(book, 400), crc32Signed(parts.join(':')));
    assert.equal(bookChecksum(new OrderBook('okx', 'Y')), crc32Signed(''));
  });
});
