import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeBookSnapshot,
  encodeTrades,
  type BookSnapshot,
  type TradeBatch,
} from '../bus/market-message.ts';
import { parseDecimal } from '../domain/decimal.ts';
import type { Ticker } from '../domain/ticker.ts';
import type { Trade } from '../domain/trade.ts';
import { resolveTicker } from '../feed/conflict-resolution.ts';
import { MarketRooms, type CompositeTickerResolver, type MarketSink } from './market-rooms.ts';
import { ManualClock } from '../util/clock.ts';
import { unlimitedTurns } from '../util/turn-budget.test-support.ts';

/** Records what a client would receive, parsed. */
class Sink implements MarketSink {
  readonly got: Record<string, unknown>[] = [];
  readonly raw: (Buffer | string)[] = [];
  /** The conflation key of each message, by type ('-' for none). */
  readonly keys: string[] = [];
  corks = 0;
  send(payload: Buffer | string, conflateKey?: string): void {
    this.raw.push(payload);
    this.keys.push(`${(JSON.parse(payload.toString()) as { type: string }).type}:${conflateKey ?? '-'}`);
    this.got.push(JSON.parse(payload.toString()) as Record<string, unknown>);
  }
  cork(): boolean {
    this.corks++;
    return true;
  }
  uncork(): void {}
  ofType(type: string): Record<string, unknown>[] {
    return this.got.filter((m) => m['type'] === type);
  }
}

const trade = (id: number, price = '100.5'): Trade => ({
  venue: 'binance',
  symbol: 'BTC/USDT',
  id: String(id),
  price: parseDecimal(price),
  size: parseDecimal('0.010'),
  side: id % 2 === 0 ? 'buy' : 'sell',
  fills: 1,
  time: 1000 + id,
  receivedAt: 1000 + id,
});
const batch = (...ids: number[]): TradeBatch => ({
  venue: 'binance',
  symbol: 'BTC/USDT',
  trades: ids.map((i) => trade(i)),
});
const ticker = (last: string, time: number): Ticker => ({
  venue: 'okx',
  symbol: 'BTC/USDT',
  last: parseDecimal(last),
  time,
  receivedAt: time,
});
const book = (best: number, seq: number): BookSnapshot => ({
  venue: 'bitget',
  symbol: 'BTC/USDT',
  bids: Array.from({ length: 50 }, (_, i) => ({ price: (best - i).toFixed(2), size: '1.000' })),
  asks: Array.from({ length: 50 }, (_, i) => ({ price: (best + 1 + i).toFixed(2), size: '2' })),
  seq,
  time: seq,
  receivedAt: seq,
});

function setup(): { clock: ManualClock; rooms: MarketRooms } {
  const clock = new ManualClock();
  return {
    clock,
    rooms: new MarketRooms(
      { tradesMs: 100, tickerMs: 250, bookMs: 200, writeTurns: unlimitedTurns() },
      clock,
    ),
  };
}

describe('MarketRooms', () => {
  it("marks tickers and books (never trades) as conflatable in a client's send queue", () => {
    const { clock, rooms } = setup();
    const a = new Sink();
    rooms.join(a, { type: 'channel-subscribe', channel: 'ticker', venue: 'okx', symbol: 'BTC/USDT' });
    rooms.join(a, { type: 'channel-subscribe', channel: 'trades', venue: 'binance', symbol: 'BTC/USDT' });
    rooms.join(a, {
      type: 'channel-subscribe',
      channel: 'book',
      venue: 'bitget',
      symbol: 'BTC/USDT',
      depth: 5,
    });
    clock.advance(1000);
    rooms.onTicker(ticker('100', 1));
    rooms.onTrades(batch(1));
    rooms.onBook(book(100, 1));
    clock.advance(1000);
    assert.deepEqual(a.keys.slice(3), [
      'ticker:ticker:okx:BTC/USDT',
      'trades:-',
      'book:book:bitget:BTC/USDT:5',
    ]);
  });

  it('batches every trade per tick, in order, and never drops one', () => {
    const { clock, rooms } = setup();
    const a = new Sink();
    rooms.join(a, { type: 'channel-subscribe', channel: 'trades', venue: 'binance', symbol: 'BTC/USDT' });
    assert.deepEqual(a.got, [
      { type: 'subscribed', channel: 'trades', venue: 'binance', symbol: 'BTC/USDT' },
    ]);
    for (let i = 1; i <= 30; i++) {
      rooms.onTrades(batch(i));
      clock.advance(10);
    }
    clock.advance(200);
    const ids = a.ofType('trades').flatMap((m) => (m['trades'] as { id: string }[]).map((t) => Number(t.id)));
    assert.deepEqual(
      ids,
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    const messages = a.ofType('trades').length;
    // At most n + 1 batches in n periods: trades from 0 to 290 ms leave by 350 ms in 4 or 5 batches.
    assert.ok(messages >= 4 && messages <= 5, `30 trades over 300 ms leave in ${messages} batches`);
    assert.equal(rooms.counters.tradesRelayed, 30);
    assert.equal(rooms.counters.tradesBroadcast, messages);
    // Other instruments and channels do not reach this room.
    rooms.onTrades({ ...batch(99), venue: 'okx', trades: [{ ...trade(99), venue: 'okx' }] });
    clock.advance(500);
    assert.equal(a.ofType('trades').length, messages);
  });

  it('conflates tickers to the newest per period and answers a subscribe with the current one', () => {
    const { clock, rooms } = setup();
    rooms.onTicker(ticker('1', 1));
    const a = new Sink();
    rooms.join(a, { type: 'channel-subscribe', channel: 'ticker', venue: 'okx', symbol: 'BTC/USDT' });
    assert.deepEqual(
      a.got.map((m) => m['type']),
      ['subscribed', 'ticker'],
    );
    assert.equal(a.got[1]?.['last'], 1);
    for (let i = 2; i <= 20; i++) rooms.onTicker(ticker(String(i), i));
    rooms.onTicker(ticker('0.5', 3));
    clock.advance(1000);
    const lasts = a.ofType('ticker').map((m) => m['last']);
    assert.deepEqual(
      lasts,
      [1, 20],
      'one tick with the newest state; an older exchange time never replaces it',
    );
    assert.equal(rooms.counters.tickersBroadcast, 1);
  });

  it('resolves the composite ticker across venues with the median, ignoring an outlier and a stale venue', () => {
    const clock = new ManualClock();
    clock.advanceTo(100_000);
    const median: CompositeTickerResolver = (tickers, at) => {
      const r = resolveTicker('average', tickers, at, { active: 'binance', staleAfterMs: 10_000 });
      if (r === undefined) return undefined;
      const info = {
        resolution: 'average',
        sources: r.sources,
        baseVenue: r.ticker.venue,
        fallback: r.fallback,
      };
      return { ticker: r.ticker, info };
    };
    const rooms = new MarketRooms({ tickerMs: 250, writeTurns: unlimitedTurns() }, clock, median);
    const quote = (venue: Ticker['venue'], last: string, receivedAt: number): Ticker => ({
      venue,
      symbol: 'BTC/USDT',
      last: parseDecimal(last),
      bid: parseDecimal('99'),
      time: receivedAt,
      receivedAt,
    });
    rooms.onTicker(quote('binance', '100.10', 99_000));
    rooms.onTicker(quote('okx', '100.30', 99_500));
    rooms.onTicker(quote('bitget', '140', 99_800)); // an outlier
    rooms.onTicker(quote('dydx', '100.20', 80_000)); // stale
    const a = new Sink();
    const single = new Sink();
    rooms.join(a, { type: 'channel-subscribe', channel: 'ticker', venue: undefined, symbol: 'BTC/USDT' });
    rooms.join(single, { type: 'channel-subscribe', channel: 'ticker', venue: 'okx', symbol: 'BTC/USDT' });
    assert.deepEqual(a.got[0], { type: 'subscribed', channel: 'ticker', symbol: 'BTC/USDT' });
    assert.deepEqual(a.got[1], {
      type: 'ticker',
      symbol: 'BTC/USDT',
      resolution: 'average',
      sources: ['binance', 'okx'],
      baseVenue: 'binance',
      fallback: false,
      last: 100.2,
      bid: 99,
      time: 99_000,
    });
    assert.equal(single.got[1]?.['last'], 100.3, 'a venue room still gets that venue alone');
    // A new quote from any venue refreshes the composite at the next tick.
    rooms.onTicker(quote('okx', '100.50', 100_100));
    clock.advance(1000);
    assert.equal(a.ofType('ticker').at(-1)?.['last'], 100.3);
  });

  it('serves one book room per depth from one snapshot, at most once per period', () => {
    const { clock, rooms } = setup();
    const five = new Sink();
    const twenty = new Sink();
    const alsoFive = new Sink();
    rooms.join(five, {
      type: 'channel-subscribe',
      channel: 'book',
      venue: 'bitget',
      symbol: 'BTC/USDT',
      depth: 5,
    });
    rooms.join(twenty, {
      type: 'channel-subscribe',
      channel: 'book',
      venue: 'bitget',
      symbol: 'BTC/USDT',
      depth: 20,
    });
    rooms.join(alsoFive, {
      type: 'channel-subscribe',
      channel: 'book',
      venue: 'bitget',
      symbol: 'BTC/USDT',
      depth: 5,
    });
    assert.equal(rooms.roomCount, 2);
    assert.equal(five.ofType('book').length, 0, 'no book known yet');
    for (let s = 1; s <= 10; s++) {
      rooms.onBook(book(100 + s, s));
      clock.advance(50);
    }
    clock.advance(500);
    const books = five.ofType('book');
    // At most n + 1 in n periods: snapshots from 0 to 450 ms leave by 600 ms (three periods) in at most 5.
    assert.ok(
      books.length >= 3 && books.length <= 5,
      `500 ms of 50 ms snapshots leave in ${books.length} messages`,
    );
    const last = books.at(-1) as { bids: number[][]; asks: number[][]; seq: number; depth: number };
    assert.equal(last.seq, 10);
    assert.equal(last.depth, 5);
    assert.equal(last.bids.length, 5);
    assert.deepEqual(last.bids[0], [110, 1]);
    assert.deepEqual(last.asks[0], [111, 2]);
    const deep = twenty.ofType('book').at(-1) as { bids: number[][] };
    assert.equal(deep.bids.length, 20);
    assert.deepEqual(deep.bids[19], [91, 1]);
    // Members of one room get the very same bytes.
    assert.equal(five.raw.at(-1), alsoFive.raw.at(-1));
    const late = new Sink();
    rooms.join(late, {
      type: 'channel-subscribe',
      channel: 'book',
      venue: 'bitget',
      symbol: 'BTC/USDT',
      depth: 5,
    });
    assert.equal(late.ofType('book').at(-1)?.['seq'], 10, 'a late subscriber gets the current book at once');
  });

  it('closes a room with its last member and stops its timer', () => {
    const { clock, rooms } = setup();
    const a = new Sink();
    const room = rooms.join(a, {
      type: 'channel-subscribe',
      channel: 'trades',
      venue: 'binance',
      symbol: 'BTC/USDT',
    });
    rooms.onTrades(batch(1));
    assert.equal(clock.pending, 1);
    rooms.leave(a, room);
    assert.equal(rooms.roomCount, 0);
    assert.equal(clock.pending, 0);
    rooms.onTrades(batch(2));
    clock.advance(1000);
    assert.equal(a.ofType('trades').length, 0);
  });

  it('keeps book messages without a room undecoded, and serves the newest at once when a room opens', () => {
    const { clock, rooms } = setup();
    for (let s = 1; s <= 3; s++) rooms.onBookMessage(encodeBookSnapshot(book(100 + s, s)));
    // A malformed message of an instrument without a room is only found out when a room needs it.
    rooms.onBookMessage(
      encodeBookSnapshot({ ...book(200, 9), symbol: 'ETH/USDT' }).replace('"b":[', '"b":{'),
    );
    const a = new Sink();
    const subscribe = { type: 'channel-subscribe', channel: 'book', venue: 'bitget', depth: 5 } as const;
    rooms.join(a, { ...subscribe, symbol: 'BTC/USDT' });
    const first = a.ofType('book');
    assert.equal(first.length, 1, 'the newest book, at once');
    assert.equal((first[0] as { seq: number }).seq, 3);
    clock.advance(1000);
    assert.equal(a.ofType('book').length, 1, 'and not again until it changes');
    // With a room open, each message is decoded on arrival; a malformed one throws for the intake to count.
    rooms.onBookMessage(encodeBookSnapshot(book(110, 4)));
    clock.advance(1000);
    assert.equal((a.ofType('book').at(-1) as { seq: number }).seq, 4);
    assert.throws(() => rooms.onBookMessage(encodeBookSnapshot(book(111, 5)).replace('"b":[', '"b":{')));
    // The malformed kept message is dropped: that room starts without a book.
    const b = new Sink();
    rooms.join(b, { ...subscribe, symbol: 'ETH/USDT' });
    assert.equal(b.ofType('book').length, 0);
  });

  it('decodes a trades message only when a room of its instrument is open', () => {
    const { clock, rooms } = setup();
    const a = new Sink();
    rooms.join(a, { type: 'channel-subscribe', channel: 'trades', venue: 'binance', symbol: 'BTC/USDT' });
    const batch = (symbol: string, id: number): string => {
      const t = trade(id);
      return encodeTrades('binance', symbol, [{ ...t, symbol }]);
    };
    // Malformed after a well-formed start: never decoded without a room, so never thrown on.
    rooms.onTradesMessage(batch('ETH/USDT', 1).replace('"t":[', '"t":{'));
    assert.throws(() => rooms.onTradesMessage(batch('BTC/USDT', 2).replace('"t":[', '"t":{')));
    rooms.onTradesMessage(batch('BTC/USDT', 3));
    clock.advance(100);
    const ids = a.ofType('trades').flatMap((m) => (m['trades'] as { id: string }[]).map((t) => t.id));
    assert.deepEqual(ids, ['3']);
  });
});
