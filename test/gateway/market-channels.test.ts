import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import {
  BOOK_CHANNEL,
  encodeBookSnapshot,
  encodeTicker,
  encodeTrades,
  TICKER_CHANNEL,
  TRADES_CHANNEL,
  type BookSnapshot,
} from '../../src/bus/market-message.ts';
import { BookSync } from '../../src/book/book-sync.ts';
import { configSchema, DEFAULT_CONFIG } from '../../src/config/config.ts';
import { parseDecimal } from '../../src/domain/decimal.ts';
import type { VenueId } from '../../src/domain/instrument.ts';
import type { Trade } from '../../src/domain/trade.ts';
import { startGateway, type Gateway } from '../../src/gateway/gateway.ts';
import { MemoryCandleStore } from '../../src/store/memory-candle-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { ManualClock } from '../../src/util/clock.ts';
import { readCapture, levelsOf } from '../../src/book/fixture-books.test-support.ts';
import { TestClient, waitFor, type JsonMessage } from './helpers.ts';

interface Harness {
  gateway: Gateway;
  bus: MemoryBus;
  store: MemoryCandleStore;
  close(): Promise<void>;
}

async function start(
  venues: VenueId[] = ['binance', 'okx', 'bitget'],
  clock?: ManualClock,
): Promise<Harness> {
  const config = configSchema.parse({
    ...DEFAULT_CONFIG,
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    symbols: ['BTC/USDT', 'NKN/USDT'],
    venues,
    // The tests ping after each step of the clock; the message limit has its own tests.
    gateway: { ...DEFAULT_CONFIG.gateway, maxSubscriptionsPerConnection: 5, maxMessagesPerSecond: 10_000 },
  });
  const bus = new MemoryBus();
  const store = new MemoryCandleStore();
  const gateway = await startGateway({
    config,
    bus,
    store,
    logger: silentLogger(),
    ...(clock ? { clock } : {}),
  });
  return { gateway, bus, store, close: () => gateway.close() };
}

function trade(venue: VenueId, id: number): Trade {
  return {
    venue,
    symbol: 'BTC/USDT',
    id: String(id),
    seq: id,
    price: parseDecimal(`67000.${String(id).padStart(2, '0')}`),
    size: parseDecimal('0.001'),
    side: id % 3 === 0 ? 'sell' : 'buy',
    fills: 1,
    time: 1_729_764_000_000 + id,
    receivedAt: 1_729_764_000_000 + id,
  };
}

function snapshot(venue: VenueId, best: number, seq: number): BookSnapshot {
  return {
    venue,
    symbol: 'BTC/USDT',
    bids: Array.from({ length: 50 }, (_, i) => ({ price: `${best - i}.50`, size: `${i + 1}.000` })),
    asks: Array.from({ length: 50 }, (_, i) => ({ price: `${best + i + 1}.00`, size: '0.25' })),
    seq,
    time: 1_729_764_000_000 + seq,
    receivedAt: 1_729_764_000_000 + seq,
  };
}

const ofType = (c: TestClient, type: string): JsonMessage[] => c.messages.filter((m) => m.type === type);

describe('gateway: market channels end to end over the bus', () => {
  let h: Harness;
  // The gateway's clock, moved by hand: each tick happens when a test says so.
  const clock = new ManualClock(Date.UTC(2024, 9, 24, 10));
  before(async () => {
    h = await start(undefined, clock);
  });
  after(() => h.close());

  it('delivers every published trade in order, batched, only to the subscribed venue', async () => {
    const c = await TestClient.connect(h.gateway.url);
    c.send({ type: 'subscribe', channel: 'trades', venue: 'okx', symbol: 'BTC/USDT' });
    assert.deepEqual(await c.nextOfType('subscribed'), {
      type: 'subscribed',
      channel: 'trades',
      venue: 'okx',
      symbol: 'BTC/USDT',
    });
    let id = 0;
    for (let round = 0; round < 20; round++) {
      const batch = Array.from({ length: 10 }, () => trade('okx', ++id));
      h.bus.publish(TRADES_CHANNEL, encodeTrades('okx', 'BTC/USDT', batch));
      h.bus.publish(TRADES_CHANNEL, encodeTrades('binance', 'BTC/USDT', [trade('binance', 10_000 + round)]));
      clock.advance(5);
      await c.roundTrip();
    }
    const got = (): { id: string; price: number; side: string; time: number }[] =>
      ofType(c, 'trades').flatMap(
        (m) => m['trades'] as { id: string; price: number; side: string; time: number }[],
      );
    clock.advance(100);
    await waitFor(() => got().length >= 200, 3000, '200 trades');
    clock.advance(250);
    await c.roundTrip();
    const trades = got();
    assert.deepEqual(
      trades.map((t) => Number(t.id)),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    assert.deepEqual(trades[4], {
      id: '5',
      price: 67000.05,
      size: 0.001,
      side: 'buy',
      time: 1_729_764_000_005,
    });
    assert.ok(ofType(c, 'trades').length < 40, 'batched per tick, not one message per trade');
    assert.ok(ofType(c, 'trades').every((m) => m['venue'] === 'okx' && m['symbol'] === 'BTC/USDT'));
    c.close();
  });

  it('conflates tickers and answers a late subscriber with the newest at once', async () => {
    const c = await TestClient.connect(h.gateway.url);
    c.send({ type: 'subscribe', channel: 'ticker', venue: 'binance', symbol: 'BTC/USDT' });
    await c.nextOfType('subscribed');
    for (let i = 1; i <= 100; i++) {
      h.bus.publish(
        TICKER_CHANNEL,
        encodeTicker({
          venue: 'binance',
          symbol: 'BTC/USDT',
          last: parseDecimal(`67000.${i}`),
          bid: parseDecimal('66999.9'),
          ask: parseDecimal('67000.95'),
          time: i,
          receivedAt: i,
        }),
      );
    }
    clock.advance(250);
    await waitFor(() => ofType(c, 'ticker').at(-1)?.['time'] === 100, 2000, 'newest ticker');
    assert.ok(ofType(c, 'ticker').length <= 2, `100 tickers conflated into ${ofType(c, 'ticker').length}`);
    assert.deepEqual(ofType(c, 'ticker').at(-1), {
      type: 'ticker',
      venue: 'binance',
      symbol: 'BTC/USDT',
      last: 67000.1,
      bid: 66999.9,
      ask: 67000.95,
      time: 100,
    });
    const late = await TestClient.connect(h.gateway.url);
    late.send({ type: 'subscribe', channel: 'ticker', venue: 'binance', symbol: 'BTC/USDT' });
    const first = await late.nextOfType('ticker');
    assert.equal(first['time'], 100);
    c.close();
    late.close();
  });

  it('sends top-N book snapshots at most every 200 ms per room, cut to each client depth', async () => {
    const five = await TestClient.connect(h.gateway.url);
    const fifty = await TestClient.connect(h.gateway.url);
    five.send({ type: 'subscribe', channel: 'book', venue: 'bitget', symbol: 'BTC/USDT', depth: 5 });
    fifty.send({ type: 'subscribe', channel: 'book', venue: 'bitget', symbol: 'BTC/USDT', depth: 50 });
    assert.equal((await five.nextOfType('subscribed'))['depth'], 5);
    await fifty.nextOfType('subscribed');
    // Each book is stamped with the clock time in which the gateway sent it.
    const arrivals: number[] = [];
    const step = async (ms: number): Promise<void> => {
      clock.advance(ms);
      await five.roundTrip();
      while (arrivals.length < ofType(five, 'book').length) arrivals.push(clock.now());
    };
    const startedAt = clock.now();
    let seq = 0;
    while (clock.now() - startedAt < 700) {
      h.bus.publish(BOOK_CHANNEL, encodeBookSnapshot(snapshot('bitget', 67000 + ++seq, seq)));
      await step(10);
    }
    await step(200);
    await fifty.roundTrip();
    await waitFor(() => ofType(five, 'book').at(-1)?.['seq'] === seq, 1000, 'newest book');
    const books = ofType(five, 'book');
    assert.ok(books.length >= 2 && books.length <= 6, `${seq} snapshots conflated into ${books.length}`);
    for (let i = 1; i < arrivals.length; i++) {
      // The throttle never sends two within half a period (and at most n + 1 in n periods, counted above);
      // arrivals are seen at the test's 10 ms steps, the first one a step after it left.
      assert.ok(
        (arrivals[i] as number) - (arrivals[i - 1] as number) >= 90,
        `spaced by the book period: ${arrivals.join(', ')}`,
      );
    }
    const last = books.at(-1) as unknown as {
      bids: number[][];
      asks: number[][];
      depth: number;
      time: number;
    };
    assert.equal(last.depth, 5);
    assert.deepEqual(last.bids, [
      [67000 + seq + 0.5, 1],
      [67000 + seq - 1 + 0.5, 2],
      [67000 + seq - 2 + 0.5, 3],
      [67000 + seq - 3 + 0.5, 4],
      [67000 + seq - 4 + 0.5, 5],
    ]);
    assert.deepEqual(last.asks[0], [67000 + seq + 1, 0.25]);
    const deep = ofType(fifty, 'book').at(-1) as unknown as { bids: number[][]; asks: number[][] };
    assert.equal(deep.bids.length, 50);
    assert.equal(deep.asks.length, 50);
    five.close();
    fifty.close();
  });

  it('rejects unknown channel, unconfigured venue and bad depth with their codes and keeps the connection', async () => {
    const c = await TestClient.connect(h.gateway.url);
    const cases: [Record<string, unknown>, string, string][] = [
      [
        { channel: 'quotes', venue: 'okx' },
        'INVALID_CHANNEL',
        'Invalid channel: quotes. Valid: candles, trades, ticker, book, alerts, dashboard, account, positions, orders, performance',
      ],
      [
        { channel: 'book', venue: 'dydx' },
        'INVALID_VENUE',
        'Invalid venue: dydx. Valid: binance, okx, bitget',
      ],
      [{ channel: 'trades' }, 'INVALID_VENUE', 'Missing venue. Valid: binance, okx, bitget'],
      [
        { channel: 'book', venue: 'okx', depth: 51 },
        'INVALID_DEPTH',
        'Invalid depth: 51. Must be an integer from 1 to 50.',
      ],
      [
        { channel: 'ticker', venue: 'okx', symbol: 'ETH/USDT' },
        'INVALID_SYMBOL',
        'Invalid symbol: ETH/USDT. Only BTC/USDT, NKN/USDT are supported.',
      ],
    ];
    for (const [extra, code, message] of cases) {
      const next = c.nextOfType('error');
      c.send({ type: 'subscribe', symbol: 'BTC/USDT', ...extra });
      assert.deepEqual(await next, { type: 'error', message, code });
    }
    c.send({ type: 'ping' });
    assert.deepEqual(await c.nextOfType('pong'), { type: 'pong' });
    const codes = h.gateway.stats().gateway.errorsByCode;
    assert.equal(codes.INVALID_CHANNEL, 1);
    assert.equal(codes.INVALID_VENUE, 2);
    assert.equal(codes.INVALID_DEPTH, 1);
    c.close();
  });

  it('counts candle rooms and market subscriptions against one limit', async () => {
    const c = await TestClient.connect(h.gateway.url);
    c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 0 });
    await c.nextOfType('initial');
    for (const channel of ['trades', 'ticker', 'book']) {
      c.send({ type: 'subscribe', channel, venue: 'okx', symbol: 'BTC/USDT' });
      await c.nextOfType('subscribed');
    }
    c.send({ type: 'subscribe', channel: 'book', venue: 'okx', symbol: 'BTC/USDT', depth: 20 });
    assert.equal((await c.nextOfType('subscribed'))['depth'], 20, 'a new depth replaces, it does not add');
    c.send({ type: 'subscribe', channel: 'trades', venue: 'binance', symbol: 'BTC/USDT' });
    await c.nextOfType('subscribed');
    const next = c.nextOfType('error');
    c.send({ type: 'subscribe', channel: 'trades', venue: 'bitget', symbol: 'BTC/USDT' });
    assert.deepEqual(await next, {
      type: 'error',
      message: 'Too many subscriptions: at most 5 per connection. Unsubscribe from one first.',
      code: 'TOO_MANY_SUBSCRIPTIONS',
      channel: 'trades',
      venue: 'bitget',
      symbol: 'BTC/USDT',
    });
    const keys = h.gateway
      .stats()
      .broadcaster.rooms.map((r) => r.key)
      .sort();
    assert.deepEqual(keys, [
      'BTC/USDT:1m',
      'book:okx:BTC/USDT:20',
      'ticker:okx:BTC/USDT',
      'trades:binance:BTC/USDT',
      'trades:okx:BTC/USDT',
    ]);
    c.send({ type: 'unsubscribe', channel: 'book', venue: 'okx', symbol: 'BTC/USDT' });
    c.send({ type: 'ping' });
    await c.nextOfType('pong');
    h.bus.publish(BOOK_CHANNEL, encodeBookSnapshot(snapshot('okx', 100, 1)));
    clock.advance(300);
    await c.roundTrip();
    assert.equal(ofType(c, 'book').length, 0, 'nothing after unsubscribe');
    c.close();
    await waitFor(() => h.gateway.stats().broadcaster.totalRooms === 0, 2000, 'rooms closed with the client');
  });

  it('skips and counts an undecodable bus message, and the stream goes on', async () => {
    const c = await TestClient.connect(h.gateway.url);
    c.send({ type: 'subscribe', channel: 'ticker', venue: 'okx', symbol: 'BTC/USDT' });
    await c.nextOfType('subscribed');
    const before = h.gateway.stats().gateway.badBusMessages;
    h.bus.publish(TICKER_CHANNEL, '{"v":"okx","s":"BTC/USDT","l":"abc","t":1,"r":1}');
    h.bus.publish(BOOK_CHANNEL, 'not json');
    h.bus.publish(TRADES_CHANNEL, '{"v":"okx"}');
    h.bus.publish(
      TICKER_CHANNEL,
      encodeTicker({
        venue: 'okx',
        symbol: 'BTC/USDT',
        last: parseDecimal('5'),
        time: 9e12,
        receivedAt: 9e12,
      }),
    );
    const next = c.nextOfType('ticker');
    clock.advance(250);
    const t = await next;
    assert.equal(t['last'], 5);
    assert.equal(h.gateway.stats().gateway.badBusMessages, before + 3);
    c.close();
  });

  it('leaves the candle subscribe and its messages unchanged beside the market channels', async () => {
    const c = await TestClient.connect(h.gateway.url);
    c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '5m', initialBars: 10 });
    assert.deepEqual(await c.nextOfType('initial'), {
      type: 'initial',
      symbol: 'BTC/USDT',
      interval: '5m',
      bars: [],
    });
    c.send({ type: 'subscribe', channel: 'candles', symbol: 'BTC/USDT', interval: '1m', initialBars: 0 });
    assert.deepEqual(await c.nextOfType('initial'), {
      type: 'initial',
      symbol: 'BTC/USDT',
      interval: '1m',
      bars: [],
    });
    c.close();
  });
});

describe('gateway: book channel fed from a venue book kept by BookSync', () => {
  it('serves the top levels of the captured Binance book exactly as the synced book holds them', async () => {
    const h = await start(['binance']);
    try {
      const c = await TestClient.connect(h.gateway.url);
      c.send({ type: 'subscribe', channel: 'book', venue: 'binance', symbol: 'NKN/USDT', depth: 20 });
      await c.nextOfType('subscribed');
      // The ingest side's role, written out: keep the book, publish its top 50.
      const sync = new BookSync(
        'binance',
        {
          snapshotSource: 'rest',
          sequence: 'binance-range',
          checksum: 'none',
          checksumSnapshots: false,
          uncross: false,
        },
        { requestSnapshot: () => {}, resync: () => assert.fail('no resync expected') },
      );
      const lines = readCapture('binance/cryptofeed_binance_spot_combined_stream_2021-10-11.jsonl')
        .filter(
          (l) =>
            (l.t === 'recv' && l.data?.includes('nknusdt@depth') === true) ||
            l.url?.includes('NKNUSDT') === true,
        )
        .map((l, i) => ({ l, i }))
        .sort((x, y) => (x.l.ts ?? 0) - (y.l.ts ?? 0) || x.i - y.i)
        .map((x) => x.l);
      let seq = 0;
      for (const line of lines) {
        const raw = JSON.parse(line.data ?? '') as
          | { lastUpdateId: number; bids: string[][]; asks: string[][] }
          | { data: { E: number; U: number; u: number; b: string[][]; a: string[][] } };
        if ('lastUpdateId' in raw) {
          sync.apply({
            venue: 'binance',
            symbol: 'NKN/USDT',
            kind: 'snapshot',
            bids: levelsOf(raw.bids),
            asks: levelsOf(raw.asks),
            seq: raw.lastUpdateId,
            time: 0,
            receivedAt: 0,
          });
        } else {
          const d = raw.data;
          sync.apply({
            venue: 'binance',
            symbol: 'NKN/USDT',
            kind: 'delta',
            bids: levelsOf(d.b),
            asks: levelsOf(d.a),
            seq: d.u,
            prevSeq: d.U - 1,
            time: d.E,
            receivedAt: d.E,
          });
        }
      }
      const book = sync.book('NKN/USDT');
      assert.ok(book !== undefined);
      seq = book.seq ?? 0;
      const top = book.top(50);
      h.bus.publish(
        BOOK_CHANNEL,
        encodeBookSnapshot({
          venue: 'binance',
          symbol: 'NKN/USDT',
          ...top,
          seq,
          time: book.time,
          receivedAt: book.time,
        }),
      );
      const msg = (await c.nextOfType('book')) as unknown as {
        bids: number[][];
        asks: number[][];
        seq: number;
      };
      assert.equal(msg.seq, seq);
      const want = book.top(20);
      assert.deepEqual(
        msg.bids,
        want.bids.map((l) => [Number(l.price), Number(l.size)]),
      );
      assert.deepEqual(
        msg.asks,
        want.asks.map((l) => [Number(l.price), Number(l.size)]),
      );
      assert.ok((msg.bids[0]?.[0] ?? 0) < (msg.asks[0]?.[0] ?? 0));
      c.close();
    } finally {
      await h.close();
    }
  });
});
