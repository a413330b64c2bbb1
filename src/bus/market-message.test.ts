import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import type { BookLevel } from '../domain/book.ts';
import type { Ticker } from '../domain/ticker.ts';
import type { Trade } from '../domain/trade.ts';
import {
  BOOK_SNAPSHOT_LEVELS,
  BookSnapshotEncoder,
  decodeBookSnapshot,
  decodeTicker,
  decodeTrades,
  encodeBookSnapshot,
  encodeTicker,
  plainText,
  encodeTrades,
  marketMessageInstrument,
  type BookSnapshot,
} from './market-message.ts';

const d = parseDecimal;

describe('trade batches on the bus', () => {
  const trades: Trade[] = [
    {
      venue: 'binance',
      symbol: 'BTC/USDT',
      id: '18446744073709551615',
      seq: 123456789,
      price: d('67234.50'),
      size: d('0.00002894'),
      side: 'buy',
      fills: 3,
      time: 1_700_000_000_123,
      receivedAt: 1_700_000_000_200,
    },
    {
      venue: 'binance',
      symbol: 'BTC/USDT',
      id: 'x-2',
      price: d('67234.4'),
      size: d('1'),
      side: 'sell',
      fills: 1,
      time: 1_700_000_000_124,
      receivedAt: 1_700_000_000_201,
    },
  ];

  it('encodes exact decimals as strings in a compact row form', () => {
    assert.equal(
      encodeTrades('binance', 'BTC/USDT', trades),
      '{"v":"binance","s":"BTC/USDT","t":[["18446744073709551615","67234.5","0.00002894","buy",1700000000123,1700000000200,3,123456789],' +
        '["x-2","67234.4","1","sell",1700000000124,1700000000201,1]]}',
    );
  });

  it('round-trips', () => {
    const back = decodeTrades(encodeTrades('binance', 'BTC/USDT', trades));
    assert.equal(back.venue, 'binance');
    assert.equal(back.symbol, 'BTC/USDT');
    assert.equal(back.trades.length, 2);
    assert.equal(back.trades[0]?.id, '18446744073709551615');
    assert.equal(back.trades[0]?.seq, 123456789);
    assert.deepEqual(back.trades[0]?.size, d('0.00002894'));
    assert.equal(back.trades[1]?.seq, undefined);
    assert.equal(back.trades[1]?.side, 'sell');
  });

  it('refuses to mix instruments and rejects malformed messages', () => {
    assert.throws(() => encodeTrades('okx', 'BTC/USDT', trades), /several instruments/);
    for (const bad of [
      'nope',
      '[]',
      '{"v":"kraken","s":"BTC/USDT","t":[]}',
      '{"v":"okx","s":"BTC/USDT"}',
      '{"v":"okx","s":"BTC/USDT","t":[["1","x","1","buy",1,1,1]]}',
      '{"v":"okx","s":"BTC/USDT","t":[["1","1","1","hold",1,1,1]]}',
      '{"v":"okx","s":"BTC/USDT","t":[[1,"1","1","buy",1,1,1]]}',
      '{"v":"okx","s":"BTC/USDT","t":[["1","1","1","buy",1.5,1,1]]}',
    ]) {
      assert.throws(() => decodeTrades(bad), /malformed trades/, bad);
    }
  });
});

describe('tickers on the bus', () => {
  const full: Ticker = {
    venue: 'okx',
    symbol: 'BTC/USDT',
    last: d('30000.10'),
    bid: d('30000.1'),
    bidSize: d('0.5'),
    ask: d('30000.2'),
    askSize: d('1.25'),
    open24h: d('29000'),
    high24h: d('30500'),
    low24h: d('28800'),
    volume24h: d('1234.5678'),
    quoteVolume24h: d('37000000.12'),
    time: 1_652_459_225_000,
    receivedAt: 1_652_459_225_010,
  };

  it('encodes every field and leaves absent ones out', () => {
    assert.equal(
      encodeTicker(full),
      '{"v":"okx","s":"BTC/USDT","l":"30000.1","b":"30000.1","bs":"0.5","a":"30000.2","as":"1.25","o":"29000",' +
        '"h":"30500","lo":"28800","vb":"1234.5678","vq":"37000000.12","t":1652459225000,"r":1652459225010}',
    );
    const bare: Ticker = { venue: 'dydx', symbol: 'BTC/USD', last: d('1'), time: 1, receivedAt: 2 };
    assert.equal(encodeTicker(bare), '{"v":"dydx","s":"BTC/USD","l":"1","t":1,"r":2}');
    assert.deepEqual(decodeTicker(encodeTicker(bare)), bare);
  });

  it('round-trips and rejects malformed messages', () => {
    const back = decodeTicker(encodeTicker(full));
    assert.equal(back.venue, 'okx');
    assert.deepEqual(back.quoteVolume24h, d('37000000.12'));
    assert.deepEqual(back.askSize, d('1.25'));
    assert.throws(() => decodeTicker('{"v":"okx","s":"BTC/USDT","t":1,"r":1}'), /last/);
    assert.throws(() => decodeTicker('{"v":"okx","s":"BTC/USDT","l":"1","b":5,"t":1,"r":1}'), /bid/);
    assert.throws(() => decodeTicker('{"v":"okx","s":"","l":"1","t":1,"r":1}'), /symbol/);
  });
});

describe('book snapshots on the bus', () => {
  const snap: BookSnapshot = {
    venue: 'bitget',
    symbol: 'BTC/USDT',
    bids: [
      { price: '2.4399', size: '10.0000' },
      { price: '2.4398', size: '5' },
    ],
    asks: [{ price: '2.4400', size: '195.6669' }],
    seq: 42,
    time: 1_649_290_077_000,
    receivedAt: 1_649_290_077_050,
  };

  it('keeps the venue strings exactly', () => {
    const text = encodeBookSnapshot(snap);
    assert.equal(
      text,
      '{"v":"bitget","s":"BTC/USDT","b":[["2.4399","10.0000"],["2.4398","5"]],"a":[["2.4400","195.6669"]],' +
        '"q":42,"t":1649290077000,"r":1649290077050}',
    );
    assert.deepEqual(decodeBookSnapshot(text), snap);
    const noSeq = { ...snap, seq: undefined, bids: [] };
    assert.equal(decodeBookSnapshot(encodeBookSnapshot(noSeq)).seq, undefined);
  });

  it('round-trips a symbol outside ASCII, long level texts and full sides, one snapshot after another', () => {
    const side = (from: number): BookLevel[] =>
      Array.from({ length: BOOK_SNAPSHOT_LEVELS }, (_, i) => ({
        price: `${from + i}.${'5'.repeat(i + 1)}`,
        size: i % 7 === 0 ? '1.5e-8' : '9'.repeat(3 * (i + 1)), // 20 kB in all: the buffer grows
      }));
    const full: BookSnapshot = { ...snap, symbol: 'ÉTH/€URO', bids: side(100), asks: side(200) };
    assert.deepEqual(decodeBookSnapshot(encodeBookSnapshot(full)), full);
    // The next message is whole too (the same buffer is written again, shorter).
    assert.deepEqual(decodeBookSnapshot(encodeBookSnapshot(snap)), snap);
    assert.equal(JSON.parse(encodeBookSnapshot(full)).s, 'ÉTH/€URO');
  });

  it('refuses oversized or non-decimal levels on both ends', () => {
    const many = Array.from({ length: BOOK_SNAPSHOT_LEVELS + 1 }, (_, i) => ({
      price: String(i + 1),
      size: '1',
    }));
    assert.throws(() => encodeBookSnapshot({ ...snap, bids: many }), /over 50 levels/);
    assert.throws(() => encodeBookSnapshot({ ...snap, asks: [{ price: '1"]', size: '1' }] }), /not decimal/);
    assert.throws(
      () => decodeBookSnapshot('{"v":"okx","s":"A/B","b":[["1"]],"a":[],"t":1,"r":1}'),
      /bids level/,
    );
    assert.throws(
      () => decodeBookSnapshot('{"v":"okx","s":"A/B","b":[],"a":[[1,2]],"t":1,"r":1}'),
      /asks level/,
    );
    assert.throws(() => decodeBookSnapshot('{"v":"okx","s":"A/B","b":[],"a":[],"q":"7","t":1,"r":1}'), /seq/);
  });

  it('take as level text unsigned decimals in plain or exponent form, and nothing else', () => {
    const level = (price: string): string =>
      `{"v":"okx","s":"A/B","b":[[${JSON.stringify(price)},"1"]],"a":[],"t":1,"r":1}`;
    for (const good of ['0', '7', '123.45', '0.00000001', '1e5', '1.5E-8', '2e+3', '9'.repeat(40)]) {
      assert.equal(decodeBookSnapshot(level(good)).bids[0]?.price, good);
      assert.doesNotThrow(() => encodeBookSnapshot({ ...snap, bids: [{ price: good, size: good }] }), good);
    }
    for (const bad of [
      '',
      '.',
      '1.',
      '.5',
      '-1',
      '+1',
      '1.2.3',
      '1..2',
      '1e',
      'e5',
      '1e5.5',
      ' 1',
      '1 ',
      '٣',
      '0x1',
    ]) {
      assert.throws(() => decodeBookSnapshot(level(bad)), /bids level/, bad);
      assert.throws(
        () => encodeBookSnapshot({ ...snap, asks: [{ price: '1', size: bad }] }),
        /not decimal/,
        bad,
      );
    }
  });
});

describe('book snapshots encoded by a BookSnapshotEncoder', () => {
  /** A seeded generator (mulberry32): the same steps on every run. */
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('writes exactly what encodeBookSnapshot writes, book after book, as the levels change', () => {
    const rnd = random(11);
    const encoder = new BookSnapshotEncoder();
    const level = (): BookLevel => ({
      price: `${Math.floor(rnd() * 100_000)}.${Math.floor(rnd() * 100)}`,
      size: rnd() < 0.05 ? '2.5e-7' : String(Math.floor(rnd() * 10_000) / 100),
    });
    const books = [
      { venue: 'okx', symbol: 'BTC/USDT' },
      { venue: 'okx', symbol: 'ETH/USDT' },
      { venue: 'bitget', symbol: 'BTC/USDT' },
      { venue: 'dydx', symbol: 'ÉTH/€URO' },
    ].map((b) => ({
      ...b,
      bids: Array.from({ length: 60 }, level),
      asks: Array.from({ length: 60 }, level),
    }));
    let reused = 0;
    for (let step = 0; step < 3_000; step++) {
      const book = books[Math.floor(rnd() * books.length)] as (typeof books)[number];
      for (const side of [book.bids, book.asks]) {
        const changes = Math.floor(rnd() * 6);
        for (let c = 0; c < changes; c++) {
          const at = Math.floor(rnd() * Math.min(side.length + 1, 55));
          const r = rnd();
          if (r < 0.4)
            side[at] = level(); // a size changed (a new level object)
          else if (r < 0.7)
            side.splice(at, 0, level()); // a level inserted: the ones below shift
          else if (side.length > 0) side.splice(at, 1); // a level removed
        }
        if (rnd() < 0.05) side.reverse(); // order shuffled: runs broken
      }
      const depth = rnd() < 0.1 ? Math.floor(rnd() * 5) : BOOK_SNAPSHOT_LEVELS;
      const snapshot: BookSnapshot = {
        venue: book.venue as BookSnapshot['venue'],
        symbol: book.symbol,
        bids: book.bids.slice(0, depth),
        asks: book.asks.slice(0, depth),
        ...(rnd() < 0.5 ? { seq: step } : {}),
        time: 1_700_000_000_000 + step,
        receivedAt: 1_700_000_000_100 + step,
      };
      const expected = encodeBookSnapshot(snapshot);
      assert.equal(encoder.encode(snapshot), expected, `step ${step}`);
      if (depth === BOOK_SNAPSHOT_LEVELS) reused++;
    }
    assert.ok(reused > 2_000);
  });

  it('does not read again the texts of a level it has encoded', () => {
    let reads = 0;
    const counted = (price: string, size: string): BookLevel => ({
      get price() {
        reads++;
        return price;
      },
      get size() {
        reads++;
        return size;
      },
    });
    const bids = Array.from({ length: 50 }, (_, i) => counted(String(1000 - i), '1.5'));
    const asks = Array.from({ length: 50 }, (_, i) => counted(String(1001 + i), '2'));
    const encoder = new BookSnapshotEncoder();
    const snapshot = { venue: 'okx', symbol: 'BTC/USDT', bids, asks, time: 1, receivedAt: 2 } as const;
    const first = encoder.encode(snapshot);
    assert.ok(reads >= 200);
    reads = 0;
    // A new best bid above the others, the last ask changed: two new levels, the rest shifted or kept.
    const next = {
      ...snapshot,
      bids: [counted('1000.5', '3'), ...bids.slice(0, 49)],
      asks: [...asks.slice(0, 49), counted('1051', '7')],
    };
    const second = encoder.encode(next);
    // The two new levels are read (each text a few times: its length, then its characters); none of the 98 kept.
    assert.ok(reads > 0 && reads <= 2 * 4, `${reads} reads`);
    assert.equal(first, encodeBookSnapshot(snapshot));
    assert.equal(second, encodeBookSnapshot(next));
  });

  it('throws what encodeBookSnapshot throws, and encodes the next snapshot whole', () => {
    const encoder = new BookSnapshotEncoder();
    const good: BookSnapshot = {
      venue: 'okx',
      symbol: 'BTC/USDT',
      bids: [{ price: '1', size: '2' }],
      asks: [{ price: '3', size: '4' }],
      time: 1,
      receivedAt: 1,
    };
    encoder.encode(good);
    assert.throws(
      () => encoder.encode({ ...good, asks: [...good.asks, { price: '1"]', size: '1' }] }),
      /not decimal/,
    );
    const many = Array.from({ length: BOOK_SNAPSHOT_LEVELS + 1 }, (_, i) => ({
      price: String(i + 1),
      size: '1',
    }));
    assert.throws(() => encoder.encode({ ...good, bids: many }), /over 50 levels/);
    assert.equal(encoder.encode(good), encodeBookSnapshot(good));
  });
});

describe('the instrument of a market message, read without decoding it', () => {
  it('is venue:symbol for every encoder, and undefined for what no encoder writes', () => {
    const book: BookSnapshot = {
      venue: 'okx',
      symbol: 'ETH/USDT',
      bids: [],
      asks: [],
      time: 1,
      receivedAt: 2,
    };
    assert.equal(marketMessageInstrument(encodeBookSnapshot(book)), 'okx:ETH/USDT');
    assert.equal(
      marketMessageInstrument(
        encodeTicker({ venue: 'dydx', symbol: 'BTC/USD', last: d('1'), time: 1, receivedAt: 1 }),
      ),
      'dydx:BTC/USD',
    );
    assert.equal(marketMessageInstrument(encodeTrades('binance', 'BTC/USDT', [])), 'binance:BTC/USDT');
    for (const bad of [
      '',
      '{}',
      '{"s":"BTC/USDT","v":"okx"}',
      '{"v":"okx","s":""}',
      ' {"v":"okx","s":"X/Y"}',
    ]) {
      assert.equal(marketMessageInstrument(bad), undefined, bad);
    }
  });
});

describe('plainText', () => {
  it('prints every decimal as toPlainString does', () => {
    const texts = [
      '0',
      '0.000',
      '-0.0',
      '10',
      '10.0',
      '100.00',
      '0.00002894',
      '145.2300',
      '-1.50',
      '5',
      '1e-8',
    ];
    for (const t of [...texts]) texts.push('-' + t.replace(/^-/, ''), '1' + t.replace(/^-/, '') + '0');
    for (let i = 0; i < 2000; i++) {
      const digits = String(Math.floor(Math.random() * 1e9)).padStart(1 + (i % 12), '0');
      const cut = i % (digits.length + 1);
      texts.push(
        (i % 3 === 0 ? '-' : '') + digits.slice(0, cut) + '.' + digits.slice(cut) + '0'.repeat(i % 4),
      );
    }
    texts.push('123456789012345678901234567890.123456789012345678900');
    for (const t of texts) {
      if (t.startsWith('.') || t.startsWith('-.') || t.endsWith('.')) continue;
      const value = parseDecimal(t);
      assert.equal(plainText(value), toPlainString(value), t);
    }
  });
});
