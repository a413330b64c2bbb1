/**
 * The contract every venue adapter meets, run for each venue of the registry by venue-contract.integration.test.ts. It reads
 * the venue's captured frames (test/fixtures/<venue>/) into well-formed domain data; against the exchange
 * simulator it subscribes every channel, resends a refused subscription, keeps the venue's heartbeat, replaces a
 * connection that falls silent, reconnects and resubscribes after drops and recycles; and over REST it backfills
 * exactly what the stream carried and pages history that the trades add up to. What is special to one venue (its
 * book rule, its quirks, its exact figures) stays in that venue's own tests.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { FIXTURES_DIR } from '../../test/fixtures/index.ts';
import type { BookUpdate } from '../domain/book.ts';
import {
  add,
  compare,
  eq,
  max,
  min,
  normalize,
  parseDecimal,
  toPlainString,
  ZERO,
  type Decimal,
} from '../domain/decimal.ts';
import { bucketStart, isInterval, MINUTE_MS } from '../domain/interval.ts';
import type { Ticker } from '../domain/ticker.ts';
import type { Trade } from '../domain/trade.ts';
import type { SimVenueSettings } from '../sim/registry.ts';
import { startSimulator, type Simulator } from '../sim/simulator.ts';
import { waitUntil } from '../sim/test-kit.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { recorder, type Recorder } from './stream-recorder.test-support.ts';
import type {
  MarketChannel,
  MarketStream,
  VenueAdapter,
  VenueCandle,
  VenueModule,
  VenueUrls,
} from './venue.ts';

/** One frame captured from the venue, as its socket delivered it. */
export interface CapturedFrame {
  /** The capture file, relative to test/fixtures/<venue>/. */
  readonly file: string;
  readonly text: string;
}

/** A frame as the suite reads it: the domain data it carries, or why the venue's parser did not understand it. */
export interface ParsedFrame {
  readonly trades: readonly Trade[];
  readonly candles: readonly VenueCandle[];
  readonly tickers: readonly Ticker[];
  readonly books: readonly BookUpdate[];
  /** Set when the parser did not understand the frame (the feed counts it and logs each `key` once). */
  readonly unknown?: { readonly key: string; readonly reason: string };
}

/**
 * What the suite needs of a venue beyond its registry entry. Each venue's folder exports one as
 * `contractSubject` from contract.test-support.ts.
 */
/**
 * Runner timings for the suite's adapters: short enough that reconnects, refused subscriptions and a silent
 * socket play out in seconds against the simulator.
 */
export const CONTRACT_RUNNER_TIMINGS = {
  backoff: { initialMs: 20, maxMs: 200 },
  resubscribeDelayMs: 50,
  silenceTimeoutMs: 1000,
  staleSymbolMs: 3000,
  recycleWhenAllStale: true,
} as const;

export interface VenueContractSubject {
  /** Every stream frame captured in test/fixtures/<venue>/ (REST captures excluded). */
  captures(): readonly CapturedFrame[];
  /** The venue's parser on one frame, subscribed to every symbol of the captures. Never throws. */
  parse(text: string, receivedAt: number): ParsedFrame;
  /** Simulator settings of this venue: every channel pushed often, a heartbeat deadline of `heartbeatDeadlineMs`. */
  readonly simulator: SimVenueSettings;
  /** The heartbeat deadline set in `simulator`: the venue drops a connection that keeps no heartbeat this long. */
  readonly heartbeatDeadlineMs: number;
  /**
   * The adapter with test timings: reconnects within a few hundred ms, keeps its heartbeat well within the
   * deadline, replaces a connection that stays silent for about a second, and one on which its symbols stay
   * silent for a few seconds (a subscription a half-dead venue swallowed).
   */
  adapter(urls: VenueUrls): VenueAdapter;
}

const EVERY_CHANNEL: readonly MarketChannel[] = ['trades', 'candles', 'ticker', 'book'];
/** The simulated instrument: the first of these the venue lists. */
const SYMBOL_CANDIDATES = ['BTC/USDT', 'BTC/USD'];
const RECEIVED = 1_700_000_000_000;
/** No exchange time of a captured or simulated event is older than this (2017-01-01). */
const EARLIEST = Date.UTC(2017, 0, 1);
/** 1m bars asked for in one history request: more than one page on every venue. */
const HISTORY_BARS = 250;
/** Generous: the machine running the suite may be loaded. */
const EVENT_TIMEOUT_MS = 15_000;

export function venueContract(venue: VenueModule, subject: VenueContractSubject): void {
  const probe = venue.createAdapter({
    wsUrl: 'ws://127.0.0.1:1',
    restUrl: 'http://127.0.0.1:1',
    logger: silentLogger(),
  });
  const lists = (symbol: string): boolean => probe.supportsSymbol?.(symbol) ?? true;

  describe(`venue contract: ${venue.id}`, () => {
    describe(`captured frames (test/fixtures/${venue.id}/)`, () => {
      let parsed: { readonly capture: CapturedFrame; readonly frame: ParsedFrame }[] = [];
      before(() => {
        parsed = subject
          .captures()
          .map((capture) => ({ capture, frame: subject.parse(capture.text, RECEIVED) }));
      });

      it('reads every capture file of the folder', () => {
        const read = new Set(parsed.map((p) => p.capture.file));
        const folder = readdirSync(join(FIXTURES_DIR, venue.id)).filter((f) => /\.jsonl?$/.test(f));
        assert.ok(folder.length > 0, `no capture in test/fixtures/${venue.id}/`);
        for (const file of folder) assert.ok(read.has(file), `${file} is not read`);
      });

      it('maps market frames to well-formed domain data of symbols the venue lists', () => {
        const all = collect(parsed.map((p) => p.frame));
        assert.ok(all.trades.length > 0, 'no trade among the captures');
        assert.ok(all.candles.length > 0, 'no candle among the captures');
        assert.ok(all.books.length > 0, 'no book update among the captures');
        const check = checker(venue.id, lists);
        for (const t of all.trades) check.trade(t, RECEIVED);
        for (const c of all.candles) check.candle(c, RECEIVED);
        for (const t of all.tickers) check.ticker(t, RECEIVED);
        for (const u of all.books) check.book(u, RECEIVED);
      });

      it('names the kind and the reason of every frame it does not understand', () => {
        for (const { capture, frame } of parsed) {
          if (frame.unknown === undefined) continue;
          assert.ok(frame.unknown.key !== '', `${capture.file}: unknown frame without a key`);
          assert.ok(frame.unknown.reason !== '', `${capture.file}: unknown frame without a reason`);
        }
      });
    });

    describe('against the exchange simulator', () => {
      const symbol = SYMBOL_CANDIDATES.find(lists);
      let sim: Simulator;
      let adapter: VenueAdapter;
      let stream: MarketStream | undefined;
      const check = checker(venue.id, (s) => s === symbol);

      before(async () => {
        assert.ok(symbol !== undefined, `${venue.id} lists none of ${SYMBOL_CANDIDATES.join(', ')}`);
        sim = await startSimulator({
          symbols: [symbol],
          seed: 11,
          historyDays: 0.25,
          tradesPerSecond: 20,
          // The tests read recent trades only: half an hour of individual trades instead of the default two hours,
          // which cost CPU at start.
          tradeWindowMs: 30 * 60_000,
          tickMs: 20,
          ...subject.simulator,
        });
        adapter = subject.adapter((sim.urls as Readonly<Record<string, VenueUrls>>)[venue.id] as VenueUrls);
      });
      afterEach(async () => {
        await stream?.close();
        stream = undefined;
        sim.faults.resumeStream(venue.id);
      });
      after(() => sim.close());

      function open(channels: readonly MarketChannel[]): Recorder {
        const r = recorder();
        stream = adapter.openMarketStream([symbol as string], r, { channels });
        return r;
      }

      /** Resolves once every channel has delivered more than it had at `mark`. */
      async function everyChannelFlows(r: Recorder, mark: Counts = counts(r)): Promise<void> {
        await waitUntil(
          () =>
            r.trades.length > mark.trades &&
            r.candles.length > mark.candles &&
            r.tickers.length > mark.tickers &&
            r.books.length > mark.books,
          EVENT_TIMEOUT_MS,
        );
      }

      /** Resolves once the stream has been replaced after `statusMark` and trades flow again. */
      async function reconnected(r: Recorder, statusMark: number): Promise<void> {
        await waitUntil(
          () => r.statuses.slice(statusMark).some((s) => s.kind === 'disconnected'),
          EVENT_TIMEOUT_MS,
        );
        const down = r.statuses.findIndex((s, i) => i >= statusMark && s.kind === 'disconnected');
        await waitUntil(() => r.statuses.slice(down).some((s) => s.kind === 'connected'), EVENT_TIMEOUT_MS);
        const trades = r.trades.length;
        await waitUntil(() => r.trades.length > trades, EVENT_TIMEOUT_MS);
      }

      it('subscribes every channel and delivers well-formed data of the symbol on each', async () => {
        const r = open(EVERY_CHANNEL);
        await everyChannelFlows(r);
        const s = stream as MarketStream;
        assert.equal(s.status().connected, true);
        assert.ok(s.status().subscriptions.length >= EVERY_CHANNEL.length, 'a subscription per channel');
        assert.equal(r.statuses[0]?.kind, 'connected');
        for (const t of r.trades) check.trade(t);
        for (const c of r.candles) check.candle(c);
        for (const t of r.tickers) check.ticker(t);
        for (const u of r.books) check.book(u);
        if (probe.bookRules.snapshotSource === 'stream')
          assert.equal(r.books[0]?.kind, 'snapshot', 'the book rule says the stream starts with a snapshot');
      });

      it('subscribes a book on demand, unsubscribes it, and a new connection subscribes only the books on', async () => {
        const r = recorder();
        stream = adapter.openMarketStream([symbol as string], r, { channels: EVERY_CHANNEL, books: [] });
        const s = stream as MarketStream;
        assert.ok(s.subscribeBook !== undefined, 'the stream subscribes books one by one');
        /** Resolves once `tickers` more tickers came with no book among them: book messages have stopped. */
        const noBookFor = async (tickers: number): Promise<void> => {
          let books = r.books.length;
          let from = r.tickers.length;
          await waitUntil(() => {
            if (r.books.length !== books) [books, from] = [r.books.length, r.tickers.length];
            return r.tickers.length - from >= tickers;
          }, EVENT_TIMEOUT_MS);
        };
        await waitUntil(() => r.trades.length > 0 && r.tickers.length > 0, EVENT_TIMEOUT_MS);
        await noBookFor(3);
        assert.equal(r.books.length, 0, 'no book is received before it is subscribed');
        const withoutBook = s.status().subscriptions.length;

        s.subscribeBook(symbol as string, true);
        assert.equal(s.status().subscriptions.length, withoutBook + 1);
        await waitUntil(() => r.books.length > 0, EVENT_TIMEOUT_MS);
        for (const u of r.books) check.book(u);
        if (probe.bookRules.snapshotSource === 'stream')
          assert.equal(r.books[0]?.kind, 'snapshot', 'a book subscribed later starts with a snapshot too');

        s.subscribeBook(symbol as string, false);
        assert.equal(s.status().subscriptions.length, withoutBook);
        // Book messages already on their way may still come; then they stop while the other channels flow.
        await noBookFor(3);
        const statusMark = r.statuses.length;
        assert.ok(sim.faults.dropConnections(venue.id) >= 1);
        await reconnected(r, statusMark);
        const booksAfterReconnect = r.books.length;
        const tickers = r.tickers.length;
        await waitUntil(() => r.tickers.length > tickers + 3, EVENT_TIMEOUT_MS);
        assert.equal(r.books.length, booksAfterReconnect, 'the new connection did not subscribe the book');

        s.subscribeBook(symbol as string, true);
        await waitUntil(() => r.books.length > booksAfterReconnect, EVENT_TIMEOUT_MS);
      });

      it('resends a subscription the venue refused', async () => {
        sim.faults.rejectSubscriptions(venue.id, 1);
        const r = open(['trades']);
        await waitUntil(
          () => r.events.some((e) => e.kind === 'rejected') && r.trades.length > 0,
          EVENT_TIMEOUT_MS,
        );
      });

      it('reconnects after a dropped connection and resubscribes every channel', async () => {
        const r = open(EVERY_CHANNEL);
        await everyChannelFlows(r);
        const statusMark = r.statuses.length;
        assert.ok(sim.faults.dropConnections(venue.id) >= 1);
        await reconnected(r, statusMark);
        await everyChannelFlows(r);
        assert.ok((stream as MarketStream).status().reconnect_count >= 1);
        assert.ok(
          r.events.some((e) => e.kind === 'gap'),
          'the outage is reported as a gap to backfill',
        );
      });

      it('reconnects when the venue recycles the connection', async () => {
        const r = open(['trades']);
        await waitUntil(() => r.trades.length > 0, EVENT_TIMEOUT_MS);
        const statusMark = r.statuses.length;
        sim.faults.forceRecycle(venue.id);
        await reconnected(r, statusMark);
      });

      it('keeps the venue heartbeat: the connection outlives several heartbeat deadlines', async () => {
        const r = open(['trades']);
        await waitUntil(() => r.trades.length > 0, EVENT_TIMEOUT_MS);
        const from = Date.now();
        const span = 4 * subject.heartbeatDeadlineMs;
        await waitUntil(() => (r.trades.at(-1)?.receivedAt ?? 0) > from + span, span + EVENT_TIMEOUT_MS);
        assert.deepEqual(
          r.statuses.map((s) => s.kind),
          ['connected'],
          `no reconnect while the heartbeat is kept: ${JSON.stringify(r.statuses)}`,
        );
      });

      it('replaces a connection that falls silent (no data, no heartbeat answer) and resumes', async () => {
        const r = open(['trades']);
        await waitUntil(() => r.trades.length > 0, EVENT_TIMEOUT_MS);
        const statusMark = r.statuses.length;
        sim.faults.stall(venue.id, 1500);
        await reconnected(r, statusMark);
      });

      it('serves over REST every trade the stream delivered, identical, for backfill', async () => {
        const r = open(['trades']);
        await waitUntil(
          () =>
            r.trades.length >= 30 && (r.trades.at(-1) as Trade).time - (r.trades[0] as Trade).time >= 2000,
          EVENT_TIMEOUT_MS,
        );
        await stream?.close();
        const live = [...r.trades];
        const first = live[0] as Trade;
        const last = live.at(-1) as Trade;
        const rest = await adapter.rest.fetchTrades(symbol as string, {
          startTime: first.time,
          endTime: last.time,
        });
        for (let i = 1; i < rest.length; i++)
          assert.ok((rest[i] as Trade).time >= (rest[i - 1] as Trade).time, 'REST trades are ascending');
        const byId = new Map(rest.map((t) => [t.id, t]));
        for (const t of live) {
          const twin = byId.get(t.id);
          assert.ok(twin, `trade ${t.id} of the stream is not served over REST`);
          check.trade(twin);
          assert.deepEqual(summary(twin), summary(t), `trade ${t.id}`);
        }
        if (probe.contiguousTradeSeq !== false) {
          const seq = first.seq;
          assert.ok(seq !== undefined, 'contiguous trade ids are carried as seq');
          const resumed = await adapter.rest.fetchTrades(symbol as string, { afterSeq: seq, limit: 20 });
          assert.ok(resumed.length > 0);
          assert.deepEqual(
            resumed.map((t) => t.seq),
            resumed.map((_, i) => seq + 1 + i),
            'resumed after a seq, without a hole',
          );
        }
      });

      it('pages closed 1m history into contiguous bars that the trades of a minute add up to', async () => {
        const end = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 2 * MINUTE_MS;
        const start = end - (HISTORY_BARS - 1) * MINUTE_MS;
        const bars = await adapter.rest.fetchCandles(symbol as string, '1m', {
          startTime: start,
          endTime: end,
        });
        assert.equal(bars.length, HISTORY_BARS);
        bars.forEach((bar, i) => {
          assert.equal(bar.time, start + i * MINUTE_MS);
          check.candle({
            venue: venue.id,
            symbol: symbol as string,
            interval: '1m',
            bar,
            closed: true,
            receivedAt: 0,
          });
        });
        const trades = await adapter.rest.fetchTrades(symbol as string, {
          startTime: end,
          endTime: end + MINUTE_MS - 1,
        });
        const last = bars.at(-1);
        assert.ok(last && trades.length > 0, `no trade in the minute of ${new Date(end).toISOString()}`);
        const prices = trades.map((t) => t.price);
        assert.ok(eq(last.open, prices[0] as Decimal), 'open');
        assert.ok(eq(last.close, prices.at(-1) as Decimal), 'close');
        assert.ok(eq(last.high, prices.reduce(max)), 'high');
        assert.ok(eq(last.low, prices.reduce(min)), 'low');
        assert.ok(eq(last.volume, trades.map((t) => t.size).reduce(add, ZERO)), 'volume');
      });

      it("retries history through the venue's rate-limit answer", async () => {
        sim.faults.restFailures({ status: 429, count: 1, retryAfterSec: 1 }, venue.id);
        const bars = await adapter.rest.fetchCandles(symbol as string, '1m', { limit: 10 });
        assert.equal(bars.length, 10);
      });
    });
  });
}

interface Counts {
  readonly trades: number;
  readonly candles: number;
  readonly tickers: number;
  readonly books: number;
}

function counts(r: Recorder): Counts {
  return {
    trades: r.trades.length,
    candles: r.candles.length,
    tickers: r.tickers.length,
    books: r.books.length,
  };
}

function collect(frames: readonly ParsedFrame[]): {
  trades: Trade[];
  candles: VenueCandle[];
  tickers: Ticker[];
  books: BookUpdate[];
} {
  return {
    trades: frames.flatMap((f) => f.trades),
    candles: frames.flatMap((f) => f.candles),
    tickers: frames.flatMap((f) => f.tickers),
    books: frames.flatMap((f) => f.books),
  };
}

/**
 * What a backfilled trade must repeat of the live one: prices and sizes by value, whatever their scale. Not
 * `fills`: a venue's REST may not say how many fills a trade stands for (OKX history-trades has no count).
 */
function summary(t: Trade): unknown[] {
  const value = (d: Decimal): string => toPlainString(normalize(d));
  return [t.id, t.seq, t.time, t.side, value(t.price), value(t.size)];
}

/** Assertions that domain data of `venue` is well formed and of a symbol `lists` accepts. */
function checker(venue: string, lists: (symbol: string) => boolean) {
  const positive = (d: Decimal, what: string): void => assert.ok(compare(d, ZERO) > 0, `${what} must be > 0`);
  const notNegative = (d: Decimal, what: string): void =>
    assert.ok(compare(d, ZERO) >= 0, `${what} must be ≥ 0`);
  const time = (t: number, what: string): void =>
    assert.ok(Number.isSafeInteger(t) && t >= EARLIEST, `${what} must be a time in ms, got ${t}`);
  const optionalInteger = (n: number | undefined, what: string): void =>
    assert.ok(n === undefined || Number.isSafeInteger(n), `${what} must be an integer`);
  const of = (item: { venue: string; symbol: string }, what: string): void => {
    assert.equal(item.venue, venue, `${what} venue`);
    assert.ok(lists(item.symbol), `${what} of ${item.symbol}, which ${venue} does not list`);
  };
  const received = (at: number, expected: number | undefined, what: string): void => {
    if (expected !== undefined) assert.equal(at, expected, `${what} receivedAt`);
    else time(at, `${what} receivedAt`);
  };
  return {
    trade(t: Trade, receivedAt?: number): void {
      const what = `trade ${t.id}`;
      of(t, what);
      assert.ok(typeof t.id === 'string' && t.id !== '', `${what}: id`);
      positive(t.price, `${what} price`);
      notNegative(t.size, `${what} size`);
      assert.ok(t.side === 'buy' || t.side === 'sell', `${what} side`);
      assert.ok(Number.isSafeInteger(t.fills) && t.fills >= 1, `${what} fills`);
      optionalInteger(t.seq, `${what} seq`);
      time(t.time, `${what} time`);
      received(t.receivedAt, receivedAt, what);
    },
    candle(c: VenueCandle, receivedAt?: number): void {
      const what = `${c.interval} candle at ${c.bar.time}`;
      of(c, what);
      assert.ok(isInterval(c.interval), `${what}: interval`);
      time(c.bar.time, `${what} time`);
      assert.equal(bucketStart(c.interval, c.bar.time), c.bar.time, `${what} starts its interval`);
      const { open, high, low, close } = c.bar;
      for (const [name, price] of Object.entries({ open, high, low, close }))
        positive(price, `${what} ${name}`);
      assert.ok(
        compare(low, min(open, close)) <= 0 && compare(max(open, close), high) <= 0,
        `${what}: low ≤ open, close ≤ high`,
      );
      notNegative(c.bar.volume, `${what} volume`);
      notNegative(c.bar.quoteVolume, `${what} quote volume`);
      assert.ok(Number.isSafeInteger(c.bar.trades) && c.bar.trades >= 0, `${what} trades`);
      assert.equal(typeof c.closed, 'boolean', `${what} closed`);
      if (receivedAt !== undefined) received(c.receivedAt, receivedAt, what);
    },
    ticker(t: Ticker, receivedAt?: number): void {
      const what = `ticker of ${t.symbol} at ${t.time}`;
      of(t, what);
      positive(t.last, `${what} last`);
      if (t.bid !== undefined && t.ask !== undefined)
        assert.ok(compare(t.bid, t.ask) <= 0, `${what}: bid ≤ ask`);
      time(t.time, `${what} time`);
      received(t.receivedAt, receivedAt, what);
    },
    book(u: BookUpdate, receivedAt?: number): void {
      const what = `book ${u.kind} of ${u.symbol} at ${u.time}`;
      of(u, what);
      assert.ok(u.kind === 'snapshot' || u.kind === 'delta', `${what}: kind`);
      for (const [side, levels] of [
        ['bid', u.bids],
        ['ask', u.asks],
      ] as const) {
        for (const level of levels) {
          positive(parseDecimal(level.price), `${what} ${side} price`);
          notNegative(parseDecimal(level.size), `${what} ${side} size`);
        }
      }
      optionalInteger(u.seq, `${what} seq`);
      optionalInteger(u.prevSeq, `${what} prevSeq`);
      optionalInteger(u.checksum, `${what} checksum`);
      time(u.time, `${what} time`);
      received(u.receivedAt, receivedAt, what);
    },
  };
}
