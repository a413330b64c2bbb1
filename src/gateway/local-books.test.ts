import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { MemoryBus } from '../bus/memory-bus.ts';
import { BOOK_CHANNEL, decodeBookSnapshot } from '../bus/market-message.ts';
import type { BookLevel } from '../domain/book.ts';
import { CompositeCandles } from '../ingest/composite-candles.ts';
import { FakeVenue, settle, T0 } from '../ingest/fake-venue.test-support.ts';
import { BOOK_LINGER_MS, localBookSource, VenueIngest } from '../ingest/venue-ingest.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import type { MarketStream, MarketStreamHandlers, MarketStreamOptions } from '../venues/venue.ts';
import { BusIntake } from './bus-intake.ts';
import { MarketRooms } from './market-rooms.ts';
import { ParsedSink } from './parsed-sink.test-support.ts';
import { unlimitedTurns } from '../util/turn-budget.test-support.ts';

const SYMBOL = 'BTC/USDT';

/** A fake venue whose stream also delivers book updates. */
class BookVenue extends FakeVenue {
  private bookHandler: MarketStreamHandlers['book'] | undefined;
  override openMarketStream(symbols: readonly string[], handlers: MarketStreamHandlers): MarketStream {
    this.bookHandler = handlers.book;
    return super.openMarketStream(symbols, handlers);
  }
  /** The venue's book of SYMBOL: a full snapshot, or a delta of the given levels. */
  book(kind: 'snapshot' | 'delta', bids: BookLevel[], asks: BookLevel[], at: number): void {
    this.bookHandler?.({ venue: this.venue, symbol: SYMBOL, kind, bids, asks, time: at, receivedAt: at });
  }
}

/**
 * A fake venue that subscribes books one by one, as the real ones do: it sends a book only while it is subscribed,
 * and a subscribe brings a snapshot (a stream snapshot source).
 */
class OnDemandBookVenue extends BookVenue {
  /** The books subscribed when the stream opened, then every subscribe (true) and unsubscribe (false). */
  opened: readonly string[] | undefined;
  readonly calls: [string, boolean][] = [];
  readonly subscribed = new Set<string>();
  override openMarketStream(
    symbols: readonly string[],
    handlers: MarketStreamHandlers,
    options?: MarketStreamOptions,
  ): MarketStream {
    this.opened = options?.books;
    for (const s of options?.books ?? symbols) this.subscribed.add(s);
    const stream = super.openMarketStream(symbols, handlers);
    return {
      ...stream,
      subscribeBook: (symbol, on) => {
        this.calls.push([symbol, on]);
        if (on) this.subscribed.add(symbol);
        else this.subscribed.delete(symbol);
      },
    };
  }
  /** The venue's book of SYMBOL, sent only while subscribed. */
  override book(kind: 'snapshot' | 'delta', bids: BookLevel[], asks: BookLevel[], at: number): void {
    if (this.subscribed.has(SYMBOL)) super.book(kind, bids, asks, at);
  }
  /** The same book sent whether or not it is subscribed (a message on its way when the unsubscribe left). */
  late(bids: BookLevel[], at: number): void {
    super.book('delta', bids, [], at);
  }
}

/** Records what a client would receive; `books()`: its book messages. */
class Sink extends ParsedSink {
  books(): { bids: number[][] }[] {
    return this.ofType('book') as unknown as { bids: number[][] }[];
  }
}

const levels = (best: number, n: number): BookLevel[] =>
  Array.from({ length: n }, (_, i) => ({ price: (best - i).toFixed(2), size: '1.000' }));

/** One venue's ingest and a gateway's market rooms on one in-process bus; `local`: the rooms say what they watch. */
async function setup<V extends BookVenue = BookVenue>(
  t: TestContext,
  local: boolean,
  venue: V = new BookVenue('binance') as V,
) {
  const clock = new ManualClock(T0);
  const bus = new MemoryBus();
  const logger = silentLogger();
  const store = new MemoryCandleStore();
  const ingest = new VenueIngest({
    adapter: venue,
    symbols: [SYMBOL],
    candles: new CompositeCandles({ store, bus, logger, activeOf: () => venue.venue }),
    bus,
    logger,
    closeGraceMs: 2000,
    historyBars: 3,
    clock,
  });
  const rooms = new MarketRooms(
    { bookMs: 200, writeTurns: unlimitedTurns() },
    clock,
    undefined,
    local ? localBookSource([ingest]) : undefined,
  );
  const stopListening = rooms.listen(new BusIntake(bus, logger));
  const published: number[] = [];
  bus.subscribe(BOOK_CHANNEL, (m) => published.push(Number(decodeBookSnapshot(m).bids[0]?.price)));
  t.after(async () => {
    stopListening();
    rooms.stop();
    await ingest.close();
  });
  const started = ingest.start();
  venue.connect(clock.now());
  await settle();
  await started;
  /** The venue's best bid moves to `best`, then time moves on past the next snapshot. */
  const move = async (best: number): Promise<void> => {
    venue.book('delta', [{ price: best.toFixed(2), size: '2.000' }], [], clock.now());
    clock.advance(250);
    await settle();
  };
  return { clock, venue, ingest, rooms, published, move };
}

const BOOK_SUB = {
  type: 'channel-subscribe',
  channel: 'book',
  venue: 'binance',
  symbol: SYMBOL,
  depth: 5,
} as const;
const BOOK_UNSUB = {
  type: 'channel-unsubscribe',
  channel: 'book',
  venue: 'binance',
  symbol: SYMBOL,
} as const;

describe('books of the in-process ingest, published while a gateway room watches them', () => {
  it('publishes nothing unwatched, the current book at once on subscribe, updates while watched, nothing after', async (t) => {
    const { venue, rooms, published, move, clock } = await setup(t, true);
    venue.book('snapshot', levels(100, 60), levels(200, 60).reverse(), clock.now());
    await move(101);
    await move(102);
    assert.deepEqual(published, [], 'no book is published while no room watches it');

    const sink = new Sink();
    rooms.subscribe(sink, BOOK_SUB);
    // Before any timer: the current book came with `subscribed`.
    assert.deepEqual(
      sink.got.map((m) => m['type']),
      ['subscribed', 'book'],
    );
    assert.deepEqual(sink.books()[0]?.bids.slice(0, 2), [
      [102, 2],
      [101, 2],
    ]);
    assert.deepEqual(published, [102]);

    await move(103);
    await move(104);
    assert.deepEqual(published, [102, 103, 104], 'updates are published while the room is open');
    assert.deepEqual(
      sink.books().map((b) => b.bids[0]?.[0]),
      [102, 103, 104],
    );

    rooms.unsubscribe(sink, BOOK_UNSUB);
    await move(105);
    await move(106);
    assert.deepEqual(published, [102, 103, 104], 'nothing is published after the last room closed');
    assert.equal(sink.books().length, 3);
  });

  it('answers a request for the latest book of an unwatched instrument with its current state', async (t) => {
    const { venue, rooms, published, move, clock } = await setup(t, true);
    assert.equal(rooms.currentMessage('book', 'binance', SYMBOL, 5), undefined, 'no book synced yet');
    venue.book('snapshot', levels(100, 60), levels(200, 60).reverse(), clock.now());
    await move(101);
    const first = JSON.parse(rooms.currentMessage('book', 'binance', SYMBOL, 5) ?? '{}') as {
      bids: number[][];
    };
    assert.deepEqual(first.bids[0], [101, 2]);
    await move(107);
    const later = JSON.parse(rooms.currentMessage('book', 'binance', SYMBOL, 5) ?? '{}') as {
      bids: number[][];
    };
    assert.deepEqual(later.bids[0], [107, 2], 'not a stale copy kept from the first request');
    assert.deepEqual(published, [101, 107], 'one snapshot per request, none between');
  });

  it('publishes every book when no gateway says what it watches (a bus read by other processes)', async (t) => {
    const { venue, published, move, clock } = await setup(t, false);
    venue.book('snapshot', levels(100, 60), levels(200, 60).reverse(), clock.now());
    await move(101);
    await move(102);
    assert.deepEqual(published, [100, 101, 102]);
  });

  it('subscribes a book at the venue only while a room watches it and for a linger time after, keeping its counters', async (t) => {
    const { venue, ingest, rooms, published, move, clock } = await setup(
      t,
      true,
      new OnDemandBookVenue('binance'),
    );
    const snapshot = (best: number): void =>
      venue.book('snapshot', levels(best, 60), levels(200, 60).reverse(), clock.now());
    const state = (): string | undefined => ingest.stats().books.find((b) => b.symbol === SYMBOL)?.state;
    assert.deepEqual(venue.opened, [], 'the stream opens with no book subscribed');
    snapshot(100);
    await move(101);
    assert.deepEqual(
      published,
      [],
      'nothing arrives and nothing is published before a room watches the book',
    );

    const sink = new Sink();
    rooms.subscribe(sink, BOOK_SUB);
    assert.deepEqual(venue.calls, [[SYMBOL, true]], 'the first room subscribes the book at the venue');
    assert.deepEqual(
      sink.got.map((m) => m['type']),
      ['subscribed'],
      'no book yet: its snapshot is on its way',
    );
    snapshot(110);
    await move(111);
    assert.deepEqual(
      sink.books().map((b) => b.bids[0]?.[0]),
      [110, 111],
      'the book once its snapshot came, then updates',
    );

    rooms.unsubscribe(sink, BOOK_UNSUB);
    clock.advance(BOOK_LINGER_MS - 1000);
    await settle();
    assert.deepEqual(venue.calls, [[SYMBOL, true]], 'still subscribed within the linger time');
    const again = new Sink();
    rooms.subscribe(again, BOOK_SUB);
    assert.deepEqual(
      again.got.map((m) => m['type']),
      ['subscribed', 'book'],
      'a room within it gets the book at once',
    );
    assert.deepEqual(venue.calls, [[SYMBOL, true]], 'without a new subscription');
    rooms.unsubscribe(again, BOOK_UNSUB);
    clock.advance(BOOK_LINGER_MS);
    await settle();
    assert.deepEqual(
      venue.calls,
      [
        [SYMBOL, true],
        [SYMBOL, false],
      ],
      'unsubscribed once the linger time passed',
    );
    assert.equal(state(), 'unsubscribed');
    const before = published.length;
    venue.late([{ price: '150.00', size: '1.000' }], clock.now());
    await move(112);
    assert.equal(state(), 'unsubscribed', 'a message still on its way is ignored');
    assert.equal(published.length, before);
    assert.equal(
      ingest.stats().books.find((b) => b.symbol === SYMBOL)?.snapshots,
      1,
      'its counters are kept',
    );

    const third = new Sink();
    rooms.subscribe(third, BOOK_SUB);
    assert.deepEqual(venue.calls.at(-1), [SYMBOL, true], 'a room after it subscribes the book again');
    snapshot(120);
    await move(121);
    assert.deepEqual(
      third.books().map((b) => b.bids[0]?.[0]),
      [120, 121],
    );
    assert.equal(state(), 'synced');
  });

  it('subscribes an unwatched book that is asked for, for the linger time, and answers once it came', async (t) => {
    const { venue, rooms, move, clock } = await setup(t, true, new OnDemandBookVenue('binance'));
    assert.equal(rooms.currentMessage('book', 'binance', SYMBOL, 5), undefined, 'not subscribed yet: none');
    assert.deepEqual(venue.calls, [[SYMBOL, true]]);
    venue.book('snapshot', levels(100, 60), levels(200, 60).reverse(), clock.now());
    await move(101);
    const answer = JSON.parse(rooms.currentMessage('book', 'binance', SYMBOL, 5) ?? '{}') as {
      bids: number[][];
    };
    assert.deepEqual(answer.bids[0], [101, 2]);
    clock.advance(BOOK_LINGER_MS - 1000);
    await settle();
    assert.ok(
      rooms.currentMessage('book', 'binance', SYMBOL, 5) !== undefined,
      'a request keeps it subscribed',
    );
    clock.advance(BOOK_LINGER_MS - 1000);
    await settle();
    assert.deepEqual(venue.calls, [[SYMBOL, true]], 'counted from the last request');
    clock.advance(2000);
    await settle();
    assert.deepEqual(venue.calls, [
      [SYMBOL, true],
      [SYMBOL, false],
    ]);
  });
});
