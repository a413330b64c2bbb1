import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { toPlainString, type Decimal } from '../../domain/decimal.ts';
import {
  parseBookSnapshot,
  parseCandlesBody,
  parseFrame,
  parseMarketsBody,
  parseTrade,
  tradeHeight,
  type DydxFrame,
} from './parse.ts';
import { FIXTURES_DIR } from '../../../test/fixtures/index.ts';

const FIXTURES = `${FIXTURES_DIR}dydx/`;
const WS_DIR = FIXTURES + 'indexer_ws_captures_2024/';
const HTTP_DIR = FIXTURES + 'indexer_http_captures_2024/';
const RECEIVED = Date.parse('2024-12-31T00:00:00Z');

function text(path: string): string {
  return readFileSync(path, 'utf8');
}

function d(x: Decimal | undefined): string | undefined {
  return x === undefined ? undefined : toPlainString(x);
}

function expectKind<K extends DydxFrame['kind']>(frame: DydxFrame, kind: K): Extract<DydxFrame, { kind: K }> {
  assert.equal(
    frame.kind,
    kind,
    `expected ${kind}, got ${frame.kind}: ${'reason' in frame ? frame.reason : ''}`,
  );
  return frame as Extract<DydxFrame, { kind: K }>;
}

function ws(name: string): DydxFrame {
  return parseFrame(text(WS_DIR + name), RECEIVED);
}

/** The kind every captured WebSocket file must parse to; a new capture must be added here. */
const EXPECTED_KIND: Readonly<Record<string, DydxFrame['kind']>> = {
  'connected.json': 'connected',
  'error.json': 'error',
  'trade_deleveraged.json': 'trades',
  'unsubscribed.json': 'unsubscribed',
  'v4_block_height_channel_data.json': 'ignored',
  'v4_block_height_subscribed.json': 'ignored',
  'v4_candles.json': 'candles',
  'v4_candles_channel_data.json': 'candles',
  'v4_candles_subscribed.json': 'candles',
  'v4_markets_channel_data.json': 'markets',
  'v4_markets_channel_data_v8.json': 'markets',
  'v4_markets_cross.json': 'markets',
  'v4_markets_oracle_price.json': 'markets',
  'v4_markets_subscribed.json': 'markets',
  'v4_markets_trading_data.json': 'markets',
  'v4_orderbook.json': 'book',
  'v4_orderbook_batched_data.json': 'book',
  'v4_orderbook_snapshot.json': 'book',
  'v4_trades.json': 'trades',
};

describe('parseFrame over every captured WebSocket payload', () => {
  const files = readdirSync(WS_DIR).filter((f) => f.endsWith('.json'));

  it('finds the 34 captures', () => {
    assert.equal(files.length, 34);
  });

  for (const file of files) {
    it(`classifies ${file} and keeps its message_id`, () => {
      const raw = JSON.parse(text(WS_DIR + file)) as { message_id?: number };
      const frame = ws(file);
      const expected = file.startsWith('v4_accounts_') ? 'ignored' : EXPECTED_KIND[file];
      assert.ok(expected !== undefined, `no expectation for ${file}`);
      expectKind(frame, expected);
      assert.equal(frame.messageId, raw.message_id);
    });
  }

  it('reads the tardis samples (trades incl. LIQUIDATED, book snapshot and updates, markets)', () => {
    const file = JSON.parse(text(FIXTURES + 'tardis_dydx_v4_ws_samples_2024-08.json')) as {
      messages: unknown[];
    };
    const frames = file.messages.map((m) => parseFrame(JSON.stringify(m), RECEIVED));
    assert.deepEqual(
      frames.map((f) => f.kind),
      ['trades', 'trades', 'book', 'book', 'book', 'markets', 'markets', 'markets'],
    );
    const btc = expectKind(frames[1] as DydxFrame, 'trades');
    assert.equal(btc.symbol, 'BTC/USD');
    assert.equal(btc.messageId, 424);
    const liquidated = btc.trades[1];
    assert.ok(liquidated);
    assert.equal(liquidated.id, '014f495a0000000200000005');
    assert.equal(liquidated.side, 'sell');
    assert.equal(d(liquidated.price), '22.87');
    assert.equal(d(liquidated.size), '3.9');
    assert.equal(liquidated.time, Date.parse('2024-08-04T07:34:50.628Z'));
    const grt = expectKind(frames[2] as DydxFrame, 'book');
    assert.equal(grt.update.kind, 'snapshot');
    assert.deepEqual(grt.update.bids, [{ price: '0.1547', size: '35520' }]);
    assert.deepEqual(grt.update.asks, [{ price: '0.155', size: '3220' }]);
    const egld = expectKind(frames[4] as DydxFrame, 'book');
    assert.equal(egld.update.symbol, 'EGLD/USD');
    assert.deepEqual(egld.update.bids, []);
    assert.deepEqual(egld.update.asks, [{ price: '66.12', size: '0' }]);
    assert.equal(egld.update.seq, 5820);
    const markets = expectKind(frames[5] as DydxFrame, 'markets');
    const m = markets.markets[0];
    assert.ok(m);
    assert.equal(m.symbol, 'BTC/USD');
    assert.equal(m.atomicResolution, -10);
    assert.equal(d(m.tickSize), '1');
    assert.equal(d(m.stepSize), '0.0001');
    assert.equal(d(m.volume24hUsd), '247515340.0835');
    const oracle = expectKind(frames[7] as DydxFrame, 'markets');
    assert.equal(oracle.oraclePrices[0]?.symbol, 'ETH/USD');
    assert.equal(d(oracle.oraclePrices[0]?.price), '2623.3521');
    assert.equal(oracle.oraclePrices[0]?.height, 23455252);
  });
});

describe('parseFrame: exact values', () => {
  it('connected carries the connection id and message_id 0', () => {
    const f = expectKind(ws('connected.json'), 'connected');
    assert.equal(f.connectionId, '7ad53844-1f2c-4d86-83d1-42f6562844f3');
    assert.equal(f.messageId, 0);
  });

  it('error carries the server message', () => {
    const f = expectKind(ws('error.json'), 'error');
    assert.equal(f.message, 'Internal error, could not fetch data for subscription: v4_orderbook.');
  });

  it('unsubscribed names channel and id', () => {
    const f = expectKind(ws('unsubscribed.json'), 'unsubscribed');
    assert.equal(f.channel, 'v4_trades');
    assert.equal(f.id, 'ETH-USD');
  });

  it('trades: ids as text, no seq, both timestamps', () => {
    const f = expectKind(ws('v4_trades.json'), 'trades');
    assert.equal(f.symbol, 'ETH/USD');
    assert.equal(f.snapshot, false);
    assert.equal(f.trades.length, 2);
    const [a, b] = f.trades;
    assert.deepEqual([a?.id, b?.id], ['014206cf0000000200000002', '014206cf000000020000000e']);
    assert.equal(a?.seq, undefined);
    assert.equal(a?.venue, 'dydx');
    assert.equal(a?.side, 'buy');
    assert.equal(d(a?.price), '3392.9');
    assert.equal(d(a?.size), '0.01');
    assert.equal(d(b?.size), '1.738');
    assert.equal(a?.time, Date.parse('2024-07-24T19:12:35.705Z'));
    assert.equal(b?.time, a?.time, 'trades of one block share createdAt');
    assert.equal(a?.receivedAt, RECEIVED);
  });

  it('a DELEVERAGED trade counts, its long price kept exactly', () => {
    const f = expectKind(ws('trade_deleveraged.json'), 'trades');
    assert.equal(f.trades.length, 3);
    const last = f.trades[2];
    assert.equal(last?.side, 'sell');
    assert.equal(d(last?.price), '2340.7442700369913687');
    assert.equal(d(last?.size), '0.811');
  });

  it('book snapshot: 100 levels a side, raw strings', () => {
    const f = expectKind(ws('v4_orderbook_snapshot.json'), 'book');
    assert.equal(f.update.kind, 'snapshot');
    assert.equal(f.update.symbol, 'ETH/USD');
    assert.equal(f.update.bids.length, 100);
    assert.equal(f.update.asks.length, 100);
    assert.deepEqual(f.update.bids[0], { price: '3393.2', size: '7.795' });
    assert.deepEqual(f.update.asks[0], { price: '3393.5', size: '4.946' });
    assert.deepEqual(f.update.bids[99], { price: '3260', size: '0.15' });
    assert.equal(f.update.seq, 4);
    assert.equal(f.update.prevSeq, undefined);
    assert.equal(f.update.checksum, undefined);
  });

  it('book update with one side missing', () => {
    const f = expectKind(ws('v4_orderbook.json'), 'book');
    assert.equal(f.update.kind, 'delta');
    assert.equal(f.update.symbol, 'BTC/USD');
    assert.deepEqual(f.update.bids, [{ price: '65920', size: '0' }]);
    assert.deepEqual(f.update.asks, []);
    assert.equal(f.update.seq, 3219);
    assert.equal(f.update.time, RECEIVED);
  });

  it('batched book data becomes one delta where the last change of a price wins', () => {
    const f = expectKind(ws('v4_orderbook_batched_data.json'), 'book');
    assert.equal(f.update.kind, 'delta');
    assert.equal(f.update.seq, 17);
    assert.equal(f.update.bids.length, 16);
    assert.equal(f.update.asks.length, 13);
    assert.deepEqual(f.update.bids.slice(0, 3), [
      { price: '2396.1', size: '1.074' },
      { price: '2396', size: '5.174' },
      { price: '2396.3', size: '4.788' },
    ]);
    assert.deepEqual(f.update.asks.slice(0, 3), [
      { price: '2397.1', size: '23.768' },
      { price: '2397.4', size: '0.412' },
      { price: '2501.1', size: '12.893' },
    ]);
  });

  it('candles snapshot: 1000 bars, ascending, all closed, no taker split', () => {
    const f = expectKind(ws('v4_candles.json'), 'candles');
    assert.equal(f.interval, '1m');
    assert.equal(f.symbol, 'ETH/USD');
    assert.equal(f.snapshot, true);
    assert.equal(f.candles.length, 1000);
    const first = f.candles[0];
    const last = f.candles[999];
    assert.equal(first?.bar.time, Date.parse('2024-07-26T01:18:00.000Z'));
    assert.equal(d(first?.bar.open), '3182.1');
    assert.equal(d(first?.bar.high), '3186');
    assert.equal(d(first?.bar.low), '3182.1');
    assert.equal(d(first?.bar.close), '3183.3');
    assert.equal(d(first?.bar.volume), '72.398');
    assert.equal(d(first?.bar.quoteVolume), '230516.1263');
    assert.equal(first?.bar.trades, 68);
    assert.equal(d(first?.bar.takerBuyVolume), '0');
    assert.equal(last?.bar.time, Date.parse('2024-07-26T17:57:00.000Z'));
    for (let i = 1; i < f.candles.length; i++) {
      assert.equal((f.candles[i]?.bar.time ?? 0) - (f.candles[i - 1]?.bar.time ?? 0), 60_000);
    }
    assert.ok(f.candles.every((c) => c.closed));
  });

  it('zero-volume candles are flat', () => {
    const f = expectKind(ws('v4_candles_subscribed.json'), 'candles');
    assert.equal(f.candles.length, 100);
    const newest = f.candles[99];
    assert.equal(newest?.bar.trades, 0);
    assert.equal(d(newest?.bar.volume), '0');
    assert.equal(d(newest?.bar.open), '2625.6');
    assert.equal(d(newest?.bar.close), '2625.6');
  });

  it('a candle update is the bar in progress until its interval has passed', () => {
    const t = Date.parse('2024-07-26T17:54:00.000Z');
    const live = expectKind(parseFrame(text(WS_DIR + 'v4_candles_channel_data.json'), t + 30_000), 'candles');
    assert.equal(live.candles.length, 1);
    assert.equal(live.candles[0]?.closed, false);
    assert.equal(d(live.candles[0]?.bar.close), '3247.6');
    assert.equal(live.candles[0]?.bar.trades, 10);
    const done = expectKind(parseFrame(text(WS_DIR + 'v4_candles_channel_data.json'), t + 60_000), 'candles');
    assert.equal(done.candles[0]?.closed, true);
  });

  it('markets snapshot holds every market, with units', () => {
    const f = expectKind(ws('v4_markets_subscribed.json'), 'markets');
    assert.equal(f.snapshot, true);
    assert.ok(f.markets.length >= 90);
    const eth = f.markets.find((m) => m.ticker === 'ETH-USD');
    assert.equal(eth?.symbol, 'ETH/USD');
    assert.equal(eth?.atomicResolution, -9);
  });

  it('markets updates: trading changes and oracle prices', () => {
    const trading = expectKind(ws('v4_markets_trading_data.json'), 'markets');
    assert.deepEqual(
      trading.changes.map((c) => [c.ticker, d(c.openInterest)]),
      [['CRO-USD', undefined]],
    );
    const v8 = expectKind(ws('v4_markets_channel_data_v8.json'), 'markets');
    assert.equal(v8.changes[0]?.symbol, 'TRY/USD');
    assert.equal(v8.changes[0]?.status, 'ACTIVE');
    assert.equal(d(v8.changes[0]?.openInterest), '1257800');
    const oracle = expectKind(ws('v4_markets_oracle_price.json'), 'markets');
    assert.deepEqual(
      oracle.oraclePrices.map((o) => [o.symbol, d(o.price), o.time, o.height]),
      [['FTM/USD', '0.3866273177', Date.parse('2024-08-17T17:50:25.837Z'), 19183704]],
    );
  });
});

describe('parseFrame: bad input never throws', () => {
  const cases: [string, string, DydxFrame['kind'], string?][] = [
    ['invalid JSON', '{"type":', 'unknown', 'invalid-json'],
    ['an array', '[1,2]', 'unknown', 'not-an-object'],
    ['an unknown type', '{"type":"hello","message_id":3}', 'unknown', 'hello'],
    [
      'an unknown channel',
      '{"type":"channel_data","channel":"v5_x","version":"1.0.0","contents":{}}',
      'unknown',
    ],
    [
      'an unsupported version major',
      '{"type":"channel_data","channel":"v4_trades","id":"BTC-USD","version":"3.0.0","message_id":9,"contents":{"trades":[]}}',
      'unknown',
      'v4_trades:version',
    ],
    [
      'a trade with a float price',
      '{"type":"channel_data","channel":"v4_trades","id":"BTC-USD","version":"2.1.0","message_id":9,"contents":{"trades":[{"id":"a","side":"BUY","price":1.5,"size":"1","createdAt":"2024-01-01T00:00:00Z"}]}}',
      'unknown',
      'v4_trades:channel_data',
    ],
    [
      'a batch whose contents is not an array',
      '{"type":"channel_batch_data","channel":"v4_orderbook","id":"BTC-USD","version":"1.0.0","message_id":9,"contents":{}}',
      'unknown',
    ],
    [
      'a book tuple with a bad size',
      '{"type":"channel_data","channel":"v4_orderbook","id":"BTC-USD","version":"1.0.0","message_id":9,"contents":{"bids":[["1","x"]]}}',
      'unknown',
    ],
    [
      'a 30MINS candle',
      '{"type":"channel_data","channel":"v4_candles","id":"BTC-USD/30MINS","version":"1.0.0","message_id":9,"contents":{}}',
      'ignored',
    ],
    [
      'a ticker with no canonical form',
      '{"type":"channel_data","channel":"v4_trades","id":"BUFFI,UNISWAP_V3,0X4C-USD","version":"2.1.0","message_id":9,"contents":{"trades":[]}}',
      'ignored',
    ],
  ];
  for (const [name, frame, kind, key] of cases) {
    it(`${name} → ${kind}`, () => {
      const f = parseFrame(frame, RECEIVED);
      assert.equal(f.kind, kind);
      if (key !== undefined && (f.kind === 'unknown' || f.kind === 'ignored')) assert.equal(f.key, key);
    });
  }

  it('keeps the message_id of frames it cannot read, for gap detection', () => {
    const f = parseFrame(
      '{"type":"channel_data","channel":"v4_trades","version":"9.0.0","message_id":41}',
      0,
    );
    assert.equal(f.messageId, 41);
  });

  it('a pong', () => {
    const f = expectKind(parseFrame('{"type":"pong","id":7,"message_id":5}', 0), 'pong');
    assert.equal(f.id, 7);
  });
});

describe('REST bodies from the HTTP captures', () => {
  it('parses every market of each /v4/perpetualMarkets capture', () => {
    for (const name of [
      'list_perpetual_markets.json',
      'list_perpetual_markets_v8.json',
      'list_perpetual_markets_empty_oracle_price.json',
    ]) {
      const body = JSON.parse(text(HTTP_DIR + name)) as { markets: Record<string, unknown> };
      const markets = parseMarketsBody(body);
      assert.equal(markets.length, Object.keys(body.markets).length, name);
    }
    const v8 = parseMarketsBody(JSON.parse(text(HTTP_DIR + 'list_perpetual_markets_v8.json')));
    assert.equal(v8[0]?.symbol, 'BTC/USD');
    assert.equal(d(v8[0]?.oraclePrice), '104952.44975');
    assert.equal(v8[0]?.trades24h, 7366);
    const empty = parseMarketsBody(
      JSON.parse(text(HTTP_DIR + 'list_perpetual_markets_empty_oracle_price.json')),
    );
    const odd = empty.find((m) => m.ticker.startsWith('BUFFI'));
    assert.ok(odd);
    assert.equal(odd.symbol, undefined);
    assert.equal(odd.oraclePrice, undefined);
  });

  it('the account captures are not market bodies: parsing them fails with a clear error', () => {
    for (const name of readdirSync(HTTP_DIR).filter((f) => !f.startsWith('list_perpetual_markets'))) {
      const body = JSON.parse(text(HTTP_DIR + name)) as unknown;
      assert.throws(() => parseMarketsBody(body), /markets/, name);
      assert.throws(() => parseCandlesBody(body), /candles/, name);
    }
  });

  it('a REST trade item with its height', () => {
    const item = {
      id: '0165e5e40000000200000002',
      side: 'SELL',
      size: '0.002',
      price: '60397',
      type: 'LIMIT',
      createdAt: '2024-08-22T23:59:59.851Z',
      createdAtHeight: '23455000',
    };
    const t = parseTrade(item, 'BTC/USD', 5);
    assert.equal(t.side, 'sell');
    assert.equal(t.receivedAt, 5);
    assert.equal(tradeHeight(item), 23455000);
    assert.equal(tradeHeight({ ...item, createdAtHeight: undefined }), undefined);
    assert.throws(() => tradeHeight({ ...item, createdAtHeight: 'x' }), /height/);
    assert.throws(() => parseTrade({ ...item, side: 'buy' }, 'BTC/USD', 5), /side/);
  });

  it('a REST book body', () => {
    const b = parseBookSnapshot(
      { bids: [{ price: '67000', size: '1.5' }], asks: [{ price: '67001', size: '0.1000' }] },
      'BTC/USD',
      9,
    );
    assert.equal(b.kind, 'snapshot');
    assert.deepEqual(b.asks, [{ price: '67001', size: '0.1000' }]);
    assert.throws(() => parseBookSnapshot({ bids: [['1', '2']] }, 'BTC/USD', 9), /price, size/);
  });
});
