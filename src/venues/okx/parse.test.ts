import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { BookLevel } from '../../domain/book.ts';
import { parseDecimal } from '../../domain/decimal.ts';
import { okxBookChecksum, parseCandleRow, parseOkxFrame, type OkxFrame } from './parse.ts';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';
import type { CapturedFrame } from '../venue.contract.ts';
import { capturedPayloads, spotSymbols } from './contract.test-support.ts';
import { okxSymbolMap } from './symbols.ts';

const FIXTURES = join(FIXTURES_DIR, 'okx');

function applyLevel(side: Map<string, string>, level: BookLevel): void {
  if (level.size === '0') side.delete(level.price);
  else side.set(level.price, level.size);
}

const payloads = capturedPayloads();
const symbols = spotSymbols(payloads);
const RECEIVED = 1_700_000_000_000;

function parseAll(): { frame: OkxFrame; cap: CapturedFrame }[] {
  return payloads.map((cap) => ({ frame: parseOkxFrame(cap.text, symbols, RECEIVED), cap }));
}

function only<K extends OkxFrame['kind']>(text: string, kind: K): Extract<OkxFrame, { kind: K }> {
  const frame = parseOkxFrame(text, symbols, RECEIVED);
  assert.equal(
    frame.kind,
    kind,
    `expected ${kind}, got ${frame.kind}: ${'reason' in frame ? frame.reason : ''}`,
  );
  return frame as Extract<OkxFrame, { kind: K }>;
}

function find(file: string, needle: string): string {
  const hit = payloads.find((p) => p.file.startsWith(file) && p.text.includes(needle));
  assert.ok(hit, `no payload in ${file} contains ${needle}`);
  return hit.text;
}

describe('parseOkxFrame over every captured OKX payload', () => {
  test('reads every file of the folder and never throws', () => {
    const files = new Set(payloads.map((p) => p.file));
    assert.equal(files.size, readdirSync(FIXTURES).length);
    assert.ok(payloads.length > 500, `only ${payloads.length} payloads`);
    const kinds = new Map<string, number>();
    for (const { frame } of parseAll()) kinds.set(frame.kind, (kinds.get(frame.kind) ?? 0) + 1);
    for (const kind of ['trades', 'tickers', 'book', 'candles', 'ack', 'error', 'notice', 'ignored']) {
      assert.ok((kinds.get(kind) ?? 0) > 0, `no ${kind} frame among ${JSON.stringify([...kinds])}`);
    }
  });

  test('market pushes of subscribed spot instruments are all understood', () => {
    for (const { frame, cap } of parseAll()) {
      if (frame.kind !== 'unknown') continue;
      // The only frame OKX v5 parsing may not understand is a legacy v3 table message in one capture.
      assert.match(cap.text, /"table":"spot\/depth5"/, `not understood: ${cap.text.slice(0, 200)}`);
    }
  });

  test('cryptofeed capture: acks for every arg, spot trades, and every BTC-USDT book checksum holds', () => {
    const frames = parseAll().filter((f) => f.cap.file.startsWith('cryptofeed'));
    const acks = frames.filter((f) => f.frame.kind === 'ack');
    assert.equal(acks.length, 18);
    const spotTrades = frames.flatMap((f) => (f.frame.kind === 'trades' ? f.frame.trades : []));
    assert.ok(spotTrades.length > 0);
    for (const t of spotTrades) {
      assert.equal(t.symbol, 'BTC/USDT');
      assert.equal(t.seq, Number(t.id));
      assert.equal(t.fills, 1);
    }
    const bids = new Map<string, string>();
    const asks = new Map<string, string>();
    let checked = 0;
    for (const { frame } of frames) {
      if (frame.kind !== 'book') continue;
      for (const u of frame.updates) {
        assert.equal(u.symbol, 'BTC/USDT');
        if (u.kind === 'snapshot') {
          bids.clear();
          asks.clear();
        }
        for (const l of u.bids) applyLevel(bids, l);
        for (const l of u.asks) applyLevel(asks, l);
        const sorted = (m: Map<string, string>, desc: boolean): BookLevel[] =>
          [...m]
            .map(([price, size]) => ({ price, size }))
            .sort((a, b) => (Number(a.price) - Number(b.price)) * (desc ? -1 : 1));
        assert.equal(okxBookChecksum(sorted(bids, true), sorted(asks, false)), u.checksum);
        checked++;
      }
    }
    assert.ok(checked > 50, `only ${checked} BTC-USDT book messages`);
  });
});

describe('parseOkxFrame exact values', () => {
  test('trades (2022 form without count) and the current form with count', () => {
    const old = only(find('crypto-msg-parser', '"tradeId":"314161276"'), 'trades');
    assert.deepEqual(old.trades, [
      {
        venue: 'okx',
        symbol: 'BTC/USDT',
        id: '314161276',
        seq: 314161276,
        price: parseDecimal('43474.1'),
        size: parseDecimal('0.00373695'),
        side: 'buy',
        fills: 1,
        time: 1646311839593,
        receivedAt: RECEIVED,
      },
    ]);
    const current = only(
      '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"sell","ts":"1630048897897","count":"3","source":"0","seqId":1234}]}',
      'trades',
    );
    assert.equal(current.trades[0]?.fills, 3);
    assert.equal(current.trades[0]?.side, 'sell');
  });

  test('swap, futures and option pushes are ignored while spot is the only mapped market', () => {
    const swap = parseOkxFrame(find('roq', '"BTC-USDT-SWAP"'), symbols, RECEIVED);
    assert.equal(swap.kind, 'ignored');
  });

  test('tickers: spot volumes, empty strings as absent', () => {
    const t = only(find('roq', '"last":"91517.2"'), 'tickers').tickers[0];
    assert.ok(t);
    assert.equal(t.symbol, 'BTC/USD');
    assert.deepEqual(t.last, parseDecimal('91517.2'));
    assert.deepEqual(t.bid, parseDecimal('91527.2'));
    assert.deepEqual(t.askSize, parseDecimal('1.54613591'));
    assert.deepEqual(t.volume24h, parseDecimal('338.86622649'));
    assert.deepEqual(t.quoteVolume24h, parseDecimal('30744587.593360288'));
    assert.equal(t.time, 1765201256914);
    const opt = parseOkxFrame(
      '{"arg":{"channel":"tickers","instId":"X-Y"},"data":[{"instId":"X-Y","last":"1","bidPx":"","bidSz":"","ts":"5"}]}',
      okxSymbolMap(['X/Y']),
      1,
    );
    assert.equal(opt.kind, 'tickers');
    if (opt.kind === 'tickers') assert.equal(opt.tickers[0]?.bid, undefined);
  });

  test('books: snapshot and update with seqId/prevSeqId (non-consecutive) and checksum', () => {
    const snap = only(find('roq', '"action":"snapshot"'), 'book').updates[0];
    assert.ok(snap);
    assert.equal(snap.kind, 'snapshot');
    assert.equal(snap.symbol, 'NEAR/USDT');
    assert.equal(snap.seq, 9690930615);
    assert.equal(snap.prevSeq, undefined);
    assert.equal(snap.checksum, -1197821412);
    assert.deepEqual(snap.asks[0], { price: '1.783', size: '411.15719291' });
    const upd = only(find('roq', '"prevSeqId":9690930615'), 'book').updates[0];
    assert.ok(upd);
    assert.equal(upd.kind, 'delta');
    assert.equal(upd.seq, 9690930617);
    assert.equal(upd.prevSeq, 9690930615);
    assert.equal(upd.checksum, 1923732318);
    assert.deepEqual(upd.bids, [
      { price: '1.781', size: '14694.07509503' },
      { price: '1.78', size: '12102.991384' },
    ]);
    assert.equal(upd.time, 1765201257205);
  });

  test('a keep-alive update keeps prevSeqId === seqId; a restart keeps seqId < prevSeqId', () => {
    const push = (seq: number, prev: number): string =>
      `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[],"ts":"5","checksum":-1,"seqId":${seq},"prevSeqId":${prev}}]}`;
    const keep = only(push(42, 42), 'book').updates[0];
    assert.deepEqual([keep?.kind, keep?.seq, keep?.prevSeq, keep?.bids.length], ['delta', 42, 42, 0]);
    const reset = only(push(3, 42), 'book').updates[0];
    assert.deepEqual([reset?.seq, reset?.prevSeq], [3, 42]);
  });

  test('books5 and bbo-tbt are whole-book snapshots', () => {
    const bbo = only(find('roq', '"bbo-tbt","instId":"LTC-USDC"'), 'book');
    assert.equal(bbo.channel, 'bbo-tbt');
    assert.equal(bbo.updates[0]?.kind, 'snapshot');
    assert.equal(bbo.updates[0]?.seq, 378617009);
  });

  test('candles: 9-column row with confirm, and the 2022 7-column row', () => {
    const c = only(find('roq', '"channel":"candle1m"'), 'candles').candles[0];
    assert.ok(c);
    assert.equal(c.interval, '1m');
    assert.equal(c.closed, false);
    assert.equal(c.bar.time, 1757076060000);
    assert.deepEqual(c.bar.high, parseDecimal('112631.9'));
    assert.deepEqual(c.bar.volume, parseDecimal('3.10944629'));
    assert.deepEqual(c.bar.quoteVolume, parseDecimal('349947.335430728'));
    const old = only(find('crypto-msg-parser', '"1654154580000","29930.7"'), 'candles');
    assert.deepEqual(old.candles[0]?.bar.quoteVolume, parseDecimal('333.86246417'));
    assert.equal(old.candles[0]?.closed, false);
    assert.equal(parseCandleRow(['1', '1', '1', '1', '1', '0', '0', '0', '1']).closed, true);
  });

  test('UTC-anchored day candles map to 1D; UTC+8 days are ignored', () => {
    const row = '["1700006400000","1","2","0.5","1.5","10","15","15","1"]';
    const utc = parseOkxFrame(
      `{"arg":{"channel":"candle1Dutc","instId":"BTC-USDT"},"data":[${row}]}`,
      symbols,
      1,
    );
    assert.equal(utc.kind, 'candles');
    if (utc.kind === 'candles') assert.equal(utc.candles[0]?.interval, '1D');
    const plain = parseOkxFrame(
      `{"arg":{"channel":"candle1D","instId":"BTC-USDT"},"data":[${row}]}`,
      symbols,
      1,
    );
    assert.equal(plain.kind, 'ignored');
  });

  test('acks, errors, notice, pong, private pushes and REST bodies', () => {
    const ack = only(find('roq', '"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USD"}'), 'ack');
    assert.deepEqual(ack.arg, { channel: 'trades', instId: 'BTC-USD' });
    const err = only(find('roq', '"60018"'), 'error');
    assert.equal(err.code, '60018');
    assert.match(err.message, /^Wrong URL or channel/);
    const notice = only(find('roq', '"64008"'), 'notice');
    assert.equal(notice.code, '64008');
    assert.equal(parseOkxFrame('pong', symbols, 1).kind, 'pong');
    for (const p of payloads.filter((x) => x.file.startsWith('nautilus'))) {
      assert.equal(parseOkxFrame(p.text, symbols, 1).kind, 'ignored');
    }
    const restBody = parseOkxFrame(find('roq', '"code":"0","msg":"","data":[["1757076060000"'), symbols, 1);
    assert.equal(restBody.kind, 'ignored');
  });

  test('malformed frames are unknown with a key, never thrown', () => {
    assert.deepEqual(parseOkxFrame('{nope', symbols, 1), {
      kind: 'unknown',
      key: 'invalid-json',
      reason: 'frame is not valid JSON',
    });
    const bad = parseOkxFrame(
      '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"tradeId":"x1","px":"1","sz":"1","side":"buy","ts":"1"}]}',
      symbols,
      1,
    );
    assert.equal(bad.kind, 'unknown');
    if (bad.kind === 'unknown') assert.equal(bad.key, 'trades');
    assert.equal(
      parseOkxFrame('{"arg":{"channel":"books","instId":"BTC-USDT"},"data":[{}]}', symbols, 1).kind,
      'unknown',
    );
    assert.equal(parseOkxFrame('[1,2]', symbols, 1).kind, 'unknown');
  });
});
