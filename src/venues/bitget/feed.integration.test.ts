import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BookLevel, BookUpdate } from '../../domain/book.ts';
import { add, max, min, toPlainString, type Decimal } from '../../domain/decimal.ts';
import { MINUTE_MS } from '../../domain/interval.ts';
import type { Ticker } from '../../domain/ticker.ts';
import type { Trade } from '../../domain/trade.ts';
import { startSimulator, type Simulator } from '../../sim/simulator.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import type {
  MarketChannel,
  MarketStreamHandlers,
  StreamEvent,
  StreamStatus,
  VenueCandle,
} from '../venue.ts';
import { bitgetChecksum } from './checksum.ts';
import { openBitgetMarketStream, type BitgetMarketStream, type BitgetStreamOptions } from './feed.ts';
import { BitgetRest } from './rest.ts';

async function waitUntil(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Records everything a stream hands out, and keeps a checked book per symbol. */
class Recorder {
  readonly trades: Trade[] = [];
  readonly tickers: Ticker[] = [];
  readonly candles: VenueCandle[] = [];
  readonly books: BookUpdate[] = [];
  readonly statuses: StreamStatus[] = [];
  readonly events: StreamEvent[] = [];
  readonly book = new Map<
    string,
    { bids: Map<string, string>; asks: Map<string, string>; seq: number | undefined }
  >();
  /** Deltas whose pseq or checksum did not match, as the book module would see them. */
  readonly bookFaults: string[] = [];
  checkedDeltas = 0;

  trade = (t: Trade): void => void this.trades.push(t);
  ticker = (t: Ticker): void => void this.tickers.push(t);
  candle = (c: VenueCandle): void => void this.candles.push(c);
  status = (s: StreamStatus): void => void this.statuses.push(s);
  event = (e: StreamEvent): void => void this.events.push(e);
  book_ = (u: BookUpdate): void => {
    this.books.push(u);
    if (u.kind === 'snapshot') {
      const state = { bids: new Map<string, string>(), asks: new Map<string, string>(), seq: u.seq };
      apply(state.bids, u.bids);
      apply(state.asks, u.asks);
      this.book.set(u.symbol, state);
      return;
    }
    const state = this.book.get(u.symbol);
    if (state === undefined) return;
    if (u.prevSeq !== state.seq) {
      this.bookFaults.push(`seq ${u.symbol}`);
      this.book.delete(u.symbol);
      return;
    }
    apply(state.bids, u.bids);
    apply(state.asks, u.asks);
    state.seq = u.seq;
    if (bitgetChecksum(top(state.bids, true), top(state.asks, false)) !== u.checksum) {
      this.bookFaults.push(`checksum ${u.symbol}`);
      this.book.delete(u.symbol);
      return;
    }
    this.checkedDeltas++;
  };
  get handlers(): MarketStreamHandlers {
    return {
      trade: this.trade,
      ticker: this.ticker,
      candle: this.candle,
      book: this.book_,
      status: this.status,
      event: this.event,
    };
  }
}

function apply(side: Map<string, string>, levels: readonly BookLevel[]): void {
  for (const { price, size } of levels) {
    if (Number(size) === 0) side.delete(price);
    else side.set(price, size);
  }
}

function top(side: Map<string, string>, descending: boolean): BookLevel[] {
  return [...side]
    .sort((a, b) => (descending ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])))
    .slice(0, 25)
    .map(([price, size]) => ({ price, size }));
}

const ALL: MarketChannel[] = ['trades', 'ticker', 'book', 'candles'];

describe('Bitget market stream against the Bitget simulator', () => {
  let sim: Simulator;
  const streams: BitgetMarketStream[] = [];

  const open = (
    symbols: string[],
    rec: Recorder,
    extra: Partial<BitgetStreamOptions> = {},
  ): BitgetMarketStream => {
    const stream = openBitgetMarketStream(symbols, rec.handlers, {
      wsUrl: sim.urls.bitget.wsUrl,
      logger: silentLogger(),
      channels: ALL,
      pingIntervalMs: 200,
      pongTimeoutMs: 2_000,
      runner: { backoff: { initialMs: 50, maxMs: 200 }, resubscribeDelayMs: 50 },
      ...extra,
    });
    streams.push(stream);
    return stream;
  };

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      seed: 3,
      historyDays: 1,
      tradesPerSecond: 20,
      tickMs: 20,
      // The tests read the minutes they run in: a few minutes of individual trades, not the default two hours.
      tradeWindowMs: 5 * 60_000,
      bitget: { bookPushMs: 40, tickerPushMs: 100, candlePushMs: 100, pingTimeoutMs: 1_000 },
    });
  });

  after(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await sim.close();
  });

  test('trades, tickers, books (pseq chain and checksum hold) and candles of spot and perpetual', async () => {
    const rec = new Recorder();
    const stream = open(['BTC/USDT', 'ETH/USDT:USDT'], rec);
    await waitUntil(
      () =>
        rec.checkedDeltas >= 20 &&
        rec.tickers.some((t) => t.symbol === 'ETH/USDT:USDT') &&
        rec.trades.some((t) => t.symbol === 'ETH/USDT:USDT') &&
        rec.candles.some((c) => c.symbol === 'BTC/USDT' && !c.closed),
      10_000,
      'data on every channel',
    );
    assert.deepEqual(rec.bookFaults, []);
    assert.ok(rec.books.filter((b) => b.kind === 'snapshot').length >= 2, 'one snapshot per book');
    const t = rec.trades.find((x) => x.symbol === 'BTC/USDT');
    assert.ok(t && t.venue === 'bitget' && t.seq === undefined && /^[0-9]{19,}$/.test(t.id));
    const snapshotCandles = rec.candles.filter((c) => c.symbol === 'BTC/USDT' && c.interval === '1m');
    assert.ok(snapshotCandles.length > 100, 'the candle snapshot carries history');
    const lastState = new Map<number, boolean>();
    for (const c of snapshotCandles) lastState.set(c.bar.time, c.closed);
    const newest = Math.max(...lastState.keys());
    for (const [time, closed] of lastState) assert.equal(closed, time < newest, `bar ${time}`);
    const status = stream.status();
    assert.ok(status?.connected && status.subscriptions.length === 8);
    assert.equal(status.ws_url, sim.urls.bitget.wsUrl);
    await waitUntil(() => stream.status().latency_ms !== null, 5_000, 'a pong');
    assert.equal(stream.status().malformed_frames, 0);
    await stream.close();
  });

  test('reconnects after dropped connections and resubscribes; a corrupted checksum is caught and resyncBook rebuilds the book', async () => {
    const rec = new Recorder();
    const stream = open(['ETH/USDT'], rec);
    await waitUntil(() => rec.checkedDeltas >= 5, 10_000, 'book deltas');
    sim.faults.dropConnections('bitget');
    await waitUntil(
      () => stream.status().reconnect_count >= 1 && stream.status().connected,
      10_000,
      'reconnect',
    );
    const after = rec.trades.length;
    const deltas = rec.checkedDeltas;
    await waitUntil(
      () => rec.trades.length > after + 5 && rec.checkedDeltas > deltas + 5,
      10_000,
      'data after reconnect',
    );
    assert.ok(rec.statuses.some((s) => s.kind === 'disconnected'));

    sim.faults.corruptChecksum('bitget', 'ETH/USDT');
    await waitUntil(() => rec.bookFaults.includes('checksum ETH/USDT'), 5_000, 'checksum fault seen');
    const snapshots = rec.books.filter((b) => b.kind === 'snapshot').length;
    assert.ok(stream.resyncBook('ETH/USDT'));
    await waitUntil(
      () => rec.books.filter((b) => b.kind === 'snapshot').length > snapshots,
      5_000,
      'fresh snapshot',
    );
    const checked = rec.checkedDeltas;
    await waitUntil(() => rec.checkedDeltas > checked + 5, 5_000, 'deltas after resync');

    sim.faults.skipBookSeq('bitget', 'ETH/USDT');
    await waitUntil(() => rec.bookFaults.includes('seq ETH/USDT'), 5_000, 'sequence gap seen');
    assert.equal(stream.resyncBook('BTC/USDT'), false, 'a book not subscribed cannot be resynced');
    await stream.close();
  });

  test('the server closes a connection that does not ping; the runner reconnects', async () => {
    const rec = new Recorder();
    const stream = open(['BTC/USDT'], rec, { channels: ['trades'], pingIntervalMs: 60_000 });
    await waitUntil(() => rec.statuses.some((s) => s.kind === 'disconnected'), 5_000, 'server close');
    await waitUntil(
      () => stream.status().connected && stream.status().reconnect_count >= 1,
      5_000,
      'reconnect',
    );
    await stream.close();
  });

  test('refused subscriptions (30006) are sent again; malformed frames are counted, not fatal; a recycle reconnects', async () => {
    sim.faults.rejectSubscriptions('bitget', 1);
    const rec = new Recorder();
    const stream = open(['BTC/USDT'], rec, { channels: ['trades', 'ticker'] });
    await waitUntil(() => rec.trades.length > 0 && rec.tickers.length > 0, 10_000, 'data after resubscribe');
    const status = stream.status();
    assert.equal(status?.rejected_subscriptions, 2);
    assert.ok(rec.events.some((e) => e.kind === 'rejected' && e.message.includes('30006')));

    sim.faults.malformedFrames('bitget', 4);
    await waitUntil(() => stream.status().malformed_frames >= 4, 5_000, 'malformed counted');
    const before = rec.trades.length;
    await waitUntil(() => rec.trades.length > before, 5_000, 'stream continues');

    const reconnects = stream.status().reconnect_count;
    sim.faults.forceRecycle('bitget');
    await waitUntil(
      () => stream.status().reconnect_count > reconnects && stream.status().connected,
      5_000,
      'recycled',
    );
  });

  test('without a reachable socket, the REST poll delivers trades and candles', async () => {
    const rec = new Recorder();
    const rest = new BitgetRest({ restUrl: sim.urls.bitget.restUrl, requestsPerSecond: 50 });
    open(['BTC/USDT'], rec, {
      wsUrl: sim.urls.bitget.wsUrl.replace('/v2/ws/public', '/nowhere'),
      channels: ['trades', 'candles', 'ticker'],
      rest,
      runner: {
        backoff: { initialMs: 20, maxMs: 50 },
        fallback: { afterFailures: 2, pollIntervalMs: 100, pricePollIntervalMs: 100 },
      },
    });
    await waitUntil(
      () => rec.trades.length > 0 && rec.candles.length > 0 && rec.tickers.length > 0,
      10_000,
      'polled data',
    );
    assert.ok(rec.events.some((e) => e.kind === 'mode' && e.mode === 'polling'));
  });
});

describe('Bitget stream candles equal the aggregation of the streamed trades', () => {
  test('a closed 1m bar from the socket matches its trades exactly', async () => {
    const start = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 5 * MINUTE_MS;
    let clock = start;
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 11,
      historyDays: 1,
      tradesPerSecond: 10,
      now: () => clock,
      tickMs: 10_000,
      bitget: { candlePushMs: 50 },
    });
    const rec = new Recorder();
    const stream = openBitgetMarketStream(['BTC/USDT'], rec.handlers, {
      wsUrl: sim.urls.bitget.wsUrl,
      logger: silentLogger(),
      channels: ['trades', 'candles'],
      pingIntervalMs: 1_000,
    });
    try {
      await waitUntil(() => rec.candles.length > 0, 5_000, 'candle snapshot');
      for (let s = 0; s < 61; s++) {
        clock += 1_000;
        sim.advance();
        await new Promise((r) => setTimeout(r, 5));
      }
      await waitUntil(() => rec.candles.some((c) => c.closed && c.bar.time === start), 5_000, 'closed bar');
      const bar = rec.candles.filter((c) => c.closed && c.bar.time === start).at(-1)?.bar;
      assert.ok(bar);
      const ids = new Set<string>();
      let agg: { o: Decimal; h: Decimal; l: Decimal; c: Decimal; v: Decimal; q: Decimal } | undefined;
      for (const t of rec.trades) {
        if (t.time < start || t.time >= start + MINUTE_MS || ids.has(t.id)) continue;
        ids.add(t.id);
        const q = { coef: t.price.coef * t.size.coef, scale: t.price.scale + t.size.scale };
        agg =
          agg === undefined
            ? { o: t.price, h: t.price, l: t.price, c: t.price, v: t.size, q }
            : {
                o: agg.o,
                h: max(agg.h, t.price),
                l: min(agg.l, t.price),
                c: t.price,
                v: add(agg.v, t.size),
                q: add(agg.q, q),
              };
      }
      assert.ok(agg && ids.size > 100, `trades in the minute: ${ids.size}`);
      assert.deepEqual(
        [bar.open, bar.high, bar.low, bar.close, bar.volume, bar.quoteVolume].map(toPlainString),
        [agg.o, agg.h, agg.l, agg.c, agg.v, agg.q].map(toPlainString),
      );
      assert.equal(
        rec.candles.some((c) => c.closed && c.bar.time === start && c.lastSeen === true),
        false,
        'the final row came with the next bar',
      );

      // The stream is silent across the next minute's end: the next bar's first push closes the bar with the last
      // state seen of it, which says so.
      const next = start + MINUTE_MS;
      const step = async (to: number): Promise<void> => {
        for (; clock < to; clock += 1_000) {
          sim.advance();
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      await step(next + 50_000);
      sim.faults.pauseStream('bitget');
      await step(next + 70_000);
      sim.faults.resumeStream('bitget');
      await step(next + 75_000);
      await waitUntil(() => rec.candles.some((c) => c.bar.time === next + MINUTE_MS), 5_000, 'the next bar');
      const closedNext = rec.candles.filter((c) => c.closed && c.bar.time === next);
      assert.equal(closedNext.length, 1);
      assert.equal(closedNext[0]?.lastSeen, true);
    } finally {
      await stream.close();
      await sim.close();
    }
  });
});
