import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BookLevel } from '../../domain/book.ts';
import { parseDecimal, toPlainString } from '../../domain/decimal.ts';
import { bitgetChecksum } from './checksum.ts';
import { envelopeData, parseBitgetFrame, parseCandleRow, BitgetApiError, type BitgetFrame } from './parse.ts';
import { CAPTURED_SYMBOLS, captureFiles, capturedPayloads } from './contract.test-support.ts';
import { bitgetSymbolMap } from './symbols.ts';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';

const FIXTURES = join(FIXTURES_DIR, 'bitget');
const T0 = 1_800_000_000_000;

function load(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

function dec(text: string) {
  return parseDecimal(text);
}

function parse(value: unknown): BitgetFrame {
  return parseBitgetFrame(typeof value === 'string' ? value : JSON.stringify(value), CAPTURED_SYMBOLS, T0);
}

test('every captured Bitget payload parses without throwing, and every v2 public push is understood', () => {
  const files = captureFiles();
  assert.equal(files.length, 6, 'all six Bitget capture files are checked');
  const kinds = new Map<string, number>();
  const count = (file: string, frame: BitgetFrame) => {
    const k = `${file.split('_')[0]}:${frame.kind}`;
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  };
  for (const file of files) {
    const payloads = capturedPayloads(file);
    assert.ok(payloads.length > 0, file);
    for (const p of payloads) {
      if (Array.isArray(p)) {
        // A bare candle row quoted in the ccxt comments, not a frame.
        assert.equal(parseCandleRow(p).time, 1701871620000);
        continue;
      }
      const frame = parse(p);
      count(file, frame);
      if (file.startsWith('tardis_bitget_v2')) {
        // Coin- and USDC-margined contracts have no canonical form here: recognised, deliberately not mapped.
        const family = (p as { arg: { instType: string } }).arg.instType;
        const expected =
          family === 'COIN-FUTURES' || family === 'USDC-FUTURES'
            ? ['ignored', 'ack']
            : ['trades', 'ticker', 'book', 'ack'];
        assert.ok(expected.includes(frame.kind), `${file}: ${JSON.stringify(p)}`);
      }
      if (file.startsWith('tardis_bitget_v3')) assert.equal(frame.kind, 'ignored', JSON.stringify(p));
      if (file.startsWith('cryptofeed')) {
        assert.ok(
          ['ignored', 'ack', 'pong'].includes(frame.kind),
          `${frame.kind}: ${String(p).slice(0, 120)}`,
        );
      }
    }
  }
  assert.equal(kinds.get('cryptofeed:ignored'), 1117, 'every v1 push is recognised as the retired protocol');
  assert.equal(kinds.get('cryptofeed:ack'), 40);
  assert.equal(kinds.get('cryptofeed:unknown'), undefined);
  assert.equal(kinds.get('tardis:unknown'), undefined);
  assert.equal(kinds.get('bytex:unknown'), undefined);
  assert.equal(kinds.get('ccxt:unknown'), undefined);
});

test('spot trade update maps to an exact Trade without a sequence number', () => {
  const doc = load('tardis_bitget_v2_spot_ws_samples_2024-10.json');
  const frame = parse((doc['messages'] as unknown[])[0]);
  assert.deepEqual(frame, {
    kind: 'trades',
    symbol: 'BTC/USDT',
    trades: [
      {
        venue: 'bitget',
        symbol: 'BTC/USDT',
        id: '1235671058980749319',
        price: dec('72389.99'),
        size: dec('0.001373'),
        side: 'buy',
        fills: 1,
        time: 1730332858796,
        receivedAt: T0,
      },
    ],
  });
});

test('books snapshot carries no checksum; a books update is a delta with its checksum', () => {
  const msgs = load('tardis_bitget_v2_spot_ws_samples_2024-10.json')['messages'] as unknown[];
  const snap = parse(msgs[5]);
  assert.equal(snap.kind, 'book');
  if (snap.kind !== 'book') return;
  assert.equal(snap.book.kind, 'snapshot');
  assert.equal(snap.book.checksum, undefined);
  assert.deepEqual(snap.book.asks, [
    { price: '0.09707', size: '1600.00' },
    { price: '0.09711', size: '511.87' },
  ]);
  const upd = parse(msgs[6]);
  assert.equal(upd.kind, 'book');
  if (upd.kind !== 'book') return;
  assert.equal(upd.symbol, 'LMWR/USDT');
  assert.equal(upd.book.kind, 'delta');
  assert.equal(upd.book.checksum, 1073441524);
  assert.equal(upd.book.time, 1730332859981);
  const top = parse(msgs[7]);
  assert.ok(top.kind === 'book' && top.channel === 'books1' && top.book.kind === 'snapshot');
});

test('captured live v2 frames: subscribe error, tickers, books seq/pseq, candle snapshot', () => {
  const ws = load('bytex_bitget_v2_claimed_live_2026-09-25.json')['ws'] as Record<string, unknown>;
  assert.deepEqual(parse(ws['SubscribeError']), {
    kind: 'error',
    code: 30016,
    message: 'Param error',
    arg: { instType: 'SPOT', channel: 'candle1h', instId: 'BTCUSDT' },
    op: 'subscribe',
  });
  const spot = parse(ws['SpotTicker']);
  assert.ok(spot.kind === 'ticker');
  assert.deepEqual(spot.ticker, {
    venue: 'bitget',
    symbol: 'BTC/USDT',
    last: dec('83715.7'),
    bid: dec('83715.69'),
    bidSize: dec('0.074435'),
    ask: dec('83715.7'),
    askSize: dec('2.145777'),
    open24h: dec('83812.27'),
    high24h: dec('85250'),
    low24h: dec('83172.57'),
    volume24h: dec('2673.629245'),
    quoteVolume24h: dec('225237773.321358'),
    time: 1790358774065,
    receivedAt: T0,
  });
  const fut = parse(ws['FuturesTicker']);
  assert.ok(fut.kind === 'ticker');
  assert.equal(fut.symbol, 'BTC/USDT:USDT');
  assert.equal(toPlainString(fut.ticker.last), '83692.3');
  assert.equal(toPlainString(fut.ticker.volume24h ?? dec('0')), '30736.4509');

  const books5 = parse(ws['SpotBooks5']);
  assert.ok(books5.kind === 'book');
  assert.equal(books5.book.kind, 'snapshot');
  assert.equal(books5.book.seq, 850167842345);
  assert.equal(books5.book.prevSeq, undefined);

  const delta = parse(ws['SpotBooksDelta']);
  assert.ok(delta.kind === 'book');
  assert.equal(delta.book.kind, 'delta');
  assert.equal(delta.book.seq, 850169288983);
  assert.equal(delta.book.prevSeq, 850169286126);
  assert.deepEqual(delta.book.asks, [
    { price: '83744.78', size: '0' },
    { price: '83747.24', size: '0.238934' },
  ]);

  const candles = parse(ws['CandleSnapshot']);
  assert.ok(candles.kind === 'candles');
  assert.equal(candles.interval, '1m');
  assert.equal(candles.snapshot, true);
  assert.deepEqual(
    candles.candles.map((c) => [c.bar.time, c.closed, toPlainString(c.bar.volume)]),
    [
      [1790358660000, true, '0.701343'],
      [1790358720000, true, '0.100386'],
      [1790358780000, false, '0'],
    ],
  );
  assert.equal(toPlainString(candles.candles[0]?.bar.quoteVolume ?? dec('0')), '58742.42150798');
});

test('REST candle rows: spot (8 items) and futures (7 items) read by index', () => {
  const rest = load('bytex_bitget_v2_claimed_live_2026-09-25.json')['rest_data'] as Record<string, unknown[]>;
  const spotKey = Object.keys(rest).find((k) => k.includes('/spot/market/candles')) as string;
  const mixKey = Object.keys(rest).find((k) => k.includes('/mix/market/candles')) as string;
  const spot = (rest[spotKey] ?? []).map(parseCandleRow);
  const mix = (rest[mixKey] ?? []).map(parseCandleRow);
  assert.equal(spot.length, 5);
  assert.equal(mix.length, 5);
  assert.equal(spot[2]?.time, 1790358780000);
  assert.equal(toPlainString(spot[2]?.high ?? dec('0')), '83728.46');
  assert.equal(toPlainString(mix[1]?.quoteVolume ?? dec('0')), '446549.44025');
  assert.throws(() => parseCandleRow(['1790358660000', '1']), /at least 7 items/);
});

test('ccxt samples: login ack, errors and pong are recognised; private pushes are ignored', () => {
  const m = load('ccxt_bitget_v2_comment_samples_2023-12.json')['messages'] as Record<string, unknown>;
  assert.deepEqual(parse(m['login_ack']), { kind: 'login', code: 0, message: '' });
  const sign = parse(m['error_invalid_sign']);
  assert.ok(sign.kind === 'error' && sign.code === 30015 && sign.message === 'Invalid sign');
  const v1 = parse(m['error_bad_channel_v1_era']);
  assert.ok(v1.kind === 'error' && v1.code === 30001);
  assert.deepEqual(parse(m['pong']), { kind: 'pong' });
  for (const key of ['orders_spot', 'orders_usdt_futures', 'account_spot', 'positions_usdt_futures']) {
    const f = parse(m[key]);
    assert.equal(f.kind, 'ignored', key);
  }
  const trade = parse(m['trade_spot_snapshot']);
  assert.ok(trade.kind === 'trades' && trade.trades[0]?.id === '1116461060594286593');
});

test('bad frames are unknown, never thrown; unsubscribed instruments are ignored', () => {
  assert.equal(parse('{not json').kind, 'unknown');
  assert.equal(parse('[1,2]').kind, 'unknown');
  assert.equal(parse({ foo: 1 }).kind, 'unknown');
  const badTrade = parse({
    action: 'update',
    arg: { instType: 'SPOT', channel: 'trade', instId: 'BTCUSDT' },
    data: [{ ts: '1', price: 'abc', size: '1', side: 'buy', tradeId: '1' }],
    ts: 1,
  });
  assert.equal(badTrade.kind, 'unknown');
  assert.equal(badTrade.kind === 'unknown' && badTrade.key, 'update:trade');
  const badSide = parse({
    action: 'update',
    arg: { instType: 'SPOT', channel: 'trade', instId: 'BTCUSDT' },
    data: [{ ts: '1', price: '1', size: '1', side: 'long', tradeId: '1' }],
    ts: 1,
  });
  assert.equal(badSide.kind, 'unknown');
  const other = parseBitgetFrame(
    JSON.stringify({
      action: 'update',
      arg: { instType: 'SPOT', channel: 'trade', instId: 'ETHUSDT' },
      data: [],
      ts: 1,
    }),
    bitgetSymbolMap(['BTC/USDT']),
    T0,
  );
  assert.equal(other.kind, 'ignored');
  // The same instId on futures is a different instrument than the spot pair.
  const fut = parseBitgetFrame(
    JSON.stringify({
      action: 'update',
      arg: { instType: 'USDT-FUTURES', channel: 'trade', instId: 'BTCUSDT' },
      data: [],
      ts: 1,
    }),
    bitgetSymbolMap(['BTC/USDT']),
    T0,
  );
  assert.equal(fut.kind, 'ignored');
});

test('REST envelope: data on "00000", BitgetApiError otherwise', () => {
  assert.deepEqual(envelopeData({ code: '00000', msg: 'success', requestTime: 1, data: [1] }), [1]);
  assert.throws(
    () => envelopeData({ code: '40034', msg: 'Parameter does not exist', data: null }),
    (err: unknown) => err instanceof BitgetApiError && err.code === '40034',
  );
  assert.throws(() => envelopeData([]), BitgetApiError);
});

/** A minimal reference book for the capture replay: levels keyed by price string, sorted numerically. */
class ReplayBook {
  readonly bids = new Map<string, string>();
  readonly asks = new Map<string, string>();
  apply(side: Map<string, string>, levels: [string, string][]): void {
    for (const [p, s] of levels) {
      if (Number(s) === 0) side.delete(p);
      else side.set(p, s);
    }
  }
  top(side: Map<string, string>, descending: boolean): BookLevel[] {
    return [...side]
      .sort((a, b) => (descending ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])))
      .slice(0, 25)
      .map(([price, size]) => ({ price, size }));
  }
}

test('bitgetChecksum matches every book message of the long v1 capture (same algorithm as v2)', () => {
  const books = new Map<string, ReplayBook>();
  let checked = 0;
  for (const line of readFileSync(
    join(FIXTURES, 'cryptofeed_bitget_v1_LEGACY_ws_2022-04-06.jsonl'),
    'utf8',
  ).split('\n')) {
    if (!line.includes('books')) continue;
    const entry = JSON.parse(line) as { t: string; data?: string };
    if (entry.t !== 'recv' || entry.data === undefined) continue;
    const msg = JSON.parse(entry.data) as {
      action?: string;
      arg: { instType: string; channel: string; instId: string };
      data?: { asks: [string, string][]; bids: [string, string][]; checksum: number }[];
    };
    if (msg.arg.channel !== 'books' || msg.data === undefined) continue;
    const key = `${msg.arg.instType}|${msg.arg.instId}`;
    if (msg.action === 'snapshot') books.set(key, new ReplayBook());
    const book = books.get(key);
    assert.ok(book, `update before snapshot for ${key}`);
    const row = msg.data[0];
    assert.ok(row);
    book.apply(book.bids, row.bids);
    book.apply(book.asks, row.asks);
    assert.equal(bitgetChecksum(book.top(book.bids, true), book.top(book.asks, false)), row.checksum, key);
    checked++;
  }
  assert.equal(checked, 637);
});
