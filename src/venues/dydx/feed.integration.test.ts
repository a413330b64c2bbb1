import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { BookUpdate } from '../../domain/book.ts';
import { add, toPlainString, ZERO } from '../../domain/decimal.ts';
import { MINUTE_MS } from '../../domain/interval.ts';
import type { Trade } from '../../domain/trade.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../sim/simulator.ts';
import { waitUntil } from '../../sim/test-kit.ts';
import { ManualClock } from '../../util/clock.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { createVenueAdapter } from '../registry.ts';
import { applyBookUpdate, recorder, type Recorder } from '../stream-recorder.test-support.ts';
import type { VenueCandle } from '../venue.ts';
import { createDydxAdapter, DYDX_BOOK_RULES, type DydxAdapter, type DydxAdapterOptions } from './index.ts';

/** The book a client holds after applying `updates` of one symbol in order. */
function replay(updates: readonly BookUpdate[]): { bids: Map<string, string>; asks: Map<string, string> } {
  const bids = new Map<string, string>();
  const asks = new Map<string, string>();
  for (const u of updates) {
    applyBookUpdate(bids, asks, u);
  }
  return { bids, asks };
}

/**
 * Simulated time, moved by the test: the venue generates trades only while `running`, so a test can stop the market,
 * let the last updates arrive, and compare what the client holds with the venue's state.
 */
class Pump {
  readonly clock = new ManualClock(Date.now());
  sim: Simulator | undefined;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.timer ??= setInterval(() => {
      this.clock.advance(40);
      this.sim?.advance();
    }, 20);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

type Levels = Map<string, string>;

const sameLevels = (a: Levels, b: Levels): boolean =>
  a.size === b.size && [...a].every(([price, size]) => b.get(price) === size);

/**
 * Stops the market and returns the book the venue holds for `symbol` (over REST) and the book `r` holds, once the
 * last updates have arrived: with the market stopped the venue's book no longer moves, so the held book has caught
 * up when it equals it. If it never does within the wait, the caller's comparison shows the difference.
 */
async function settledBook(pump: Pump, r: Recorder, symbol: string, adapter: DydxAdapter) {
  pump.stop();
  const snapshot = await adapter.rest.fetchBookSnapshot(symbol, 100);
  const venue = {
    bids: new Map(snapshot.bids.map((l) => [l.price, l.size])),
    asks: new Map(snapshot.asks.map((l) => [l.price, l.size])),
  };
  const current = () => {
    const updates = r.books.filter((u) => u.symbol === symbol);
    const lastSnapshot = updates.map((u) => u.kind).lastIndexOf('snapshot');
    return { updates, held: replay(updates.slice(Math.max(0, lastSnapshot))) };
  };
  await waitUntil(() => {
    const { held } = current();
    return sameLevels(held.bids, venue.bids) && sameLevels(held.asks, venue.asks);
  }).catch(() => undefined);
  return { ...current(), venue };
}

const pumps: Pump[] = [];
const sims: Simulator[] = [];
const adapters: DydxAdapter[] = [];
const closers: (() => Promise<void>)[] = [];

async function setup(
  simOptions: Partial<SimulatorOptions> = {},
  adapterOptions: Partial<DydxAdapterOptions> = {},
): Promise<{ sim: Simulator; adapter: DydxAdapter; pump: Pump }> {
  const pump = new Pump();
  pumps.push(pump);
  const sim = await startSimulator({
    now: pump.clock.now,
    symbols: ['BTC/USD', 'ETH/USD'],
    seed: 9,
    historyDays: 1,
    tradesPerSecond: 20,
    tickMs: 20,
    // The tests read the minutes they run in: individual trades of a few minutes, not the default two hours that
    // the simulator would make for every symbol at each start.
    tradeWindowMs: 5 * 60_000,
    ...simOptions,
  });
  sims.push(sim);
  const adapter = createDydxAdapter({
    wsUrl: sim.urls.dydx.wsUrl,
    restUrl: sim.urls.dydx.restUrl,
    logger: silentLogger(),
    runner: { backoff: { initialMs: 20, maxMs: 100 }, resubscribeDelayMs: 50 },
    rest: { requestsPerSecond: 1000 },
    ...adapterOptions,
  });
  adapters.push(adapter);
  pump.sim = sim;
  pump.start();
  return { sim, adapter, pump };
}

describe('dYdX market stream against the simulator', () => {
  after(async () => {
    for (const p of pumps) p.stop();
    await Promise.all(closers.map((c) => c()));
    await Promise.all(sims.map((s) => s.close()));
  });

  it('delivers trades, candles, tickers and a book whose snapshot + updates equal the venue book', async () => {
    const { adapter, pump } = await setup();
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USD', 'ETH/USD'], r, {
      channels: ['trades', 'candles', 'book', 'ticker'],
    });
    closers.push(() => stream.close());
    await waitUntil(() => r.trades.length > 200 && r.books.length > 50 && r.candles.length > 100);
    await waitUntil(() => r.tickers.length > 0, 8000);
    assert.equal(r.statuses[0]?.kind, 'connected');
    const btc = r.trades.filter((t) => t.symbol === 'BTC/USD');
    assert.ok(btc.length > 0);
    assert.ok(btc.every((t) => t.venue === 'dydx' && t.seq === undefined && t.fills === 1));
    // Human USD prices, not subticks: within a factor of two of the simulator's BTC start price (the seeded walk
    // drifts with the time of day the test runs, so a tighter band would flake).
    const btcPrice = Number(toPlainString(btc[0]?.price ?? ZERO));
    assert.ok(btcPrice > 67_000 / 2 && btcPrice < 67_000 * 2, `BTC/USD price ${btcPrice}`);
    // Candles: the 1MIN snapshot (closed history) and live updates of the bar in progress.
    assert.ok(r.candles.some((c) => c.closed) && r.candles.some((c) => !c.closed));
    assert.ok(r.candles.every((c) => c.interval === '1m'));
    assert.equal(r.tickers[0]?.venue, 'dydx');

    // The book: stop the market, let the last updates arrive, compare with the venue's REST book.
    const { updates: eth, held, venue } = await settledBook(pump, r, 'ETH/USD', adapter);
    assert.equal(eth[0]?.kind, 'snapshot');
    assert.ok(eth.length > 10);
    assert.ok(
      eth.slice(1).every((u) => u.kind === 'delta' && u.prevSeq === undefined && u.seq !== undefined),
    );
    pump.start();
    assert.deepEqual(held.bids, venue.bids);
    assert.deepEqual(held.asks, venue.asks);
    assert.equal(stream.status().connected, true);
    assert.equal(stream.counters().messageIdGaps, 0);
  });

  it('live 1m candle updates agree with the trades received in that minute', async () => {
    const { adapter } = await setup({ symbols: ['SOL/USD'], tradesPerSecond: 40 });
    const r = recorder();
    const stream = adapter.openMarketStream(['SOL/USD'], r);
    closers.push(() => stream.close());
    await waitUntil(() => r.trades.length > 0 && r.candles.some((c) => !c.closed));
    const since = r.trades.length;
    await waitUntil(() => r.trades.length > since + 30);
    const last = r.trades.at(-1) as Trade;
    const minute = Math.floor(last.time / MINUTE_MS) * MINUTE_MS;
    const bar = r.candles.filter((c) => c.bar.time === minute).at(-1)?.bar;
    assert.ok(bar);
    const inMinute = r.trades.filter((t) => Math.floor(t.time / MINUTE_MS) * MINUTE_MS === minute);
    // The stream's trades of the minute are all in the bar: same count when the subscribe snapshot covered it.
    const volume = inMinute.reduce((sum, t) => add(sum, t.size), ZERO);
    assert.ok(bar.trades >= new Set(inMinute.map((t) => t.id)).size);
    assert.ok(Number(toPlainString(bar.volume)) >= Number(toPlainString(volume)) - 1e-9);
    assert.equal(toPlainString(bar.close), toPlainString(last.price));
  });

  it('closes a candle when an update starts a later one, with the last state seen of it (lastSeen)', async () => {
    const { adapter, pump, sim } = await setup({ symbols: ['SOL/USD'] });
    const r = recorder();
    const stream = adapter.openMarketStream(['SOL/USD'], r, { channels: ['trades', 'candles'] });
    closers.push(() => stream.close());
    await waitUntil(() => r.candles.some((c) => !c.closed));
    pump.stop();
    const minute = (r.candles.filter((c) => !c.closed).at(-1) as VenueCandle).bar.time;
    const next = minute + MINUTE_MS;
    // The market moves on across the minute's end, a tenth of a second at a time.
    for (let at = Math.max(pump.clock.now(), next - 2_000); at <= next + 2_000; at += 100) {
      pump.clock.advanceTo(at);
      sim.advance();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await waitUntil(() => r.candles.some((c) => c.bar.time === next));
    const closes = r.candles.filter((c) => c.closed && c.bar.time === minute);
    assert.equal(closes.length, 1, 'closed once');
    assert.equal(
      closes[0]?.lastSeen,
      true,
      'the indexer never sends a final state: the last one seen stands for it',
    );
    const lastUpdate = r.candles.filter((c) => !c.closed && c.bar.time === minute).at(-1);
    assert.deepEqual(closes[0]?.bar, lastUpdate?.bar);
  });

  it('reads batched subscriptions (channel_batch_data)', async () => {
    const { adapter } = await setup({ dydx: { batchFlushMs: 100 } }, { batched: true });
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USD'], r, { channels: ['trades', 'book'] });
    closers.push(() => stream.close());
    await waitUntil(() => r.trades.length > 150 && r.books.length > 5);
    assert.equal(stream.status().malformed_frames, 0);
    assert.equal(stream.counters().messageIdGaps, 0);
    assert.equal(new Set(r.trades.map((t) => t.id)).size, r.trades.length);
  });

  it('reconnects after dropped connections and resubscribes everything', async () => {
    const { sim, adapter } = await setup();
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USD', 'ETH/USD'], r, { channels: ['trades', 'book'] });
    closers.push(() => stream.close());
    await waitUntil(() => r.books.filter((u) => u.kind === 'snapshot').length === 2);
    assert.equal(sim.faults.dropConnections('dydx'), 1);
    await waitUntil(() => r.statuses.filter((s) => s.kind === 'connected').length === 2);
    await waitUntil(() => r.books.filter((u) => u.kind === 'snapshot').length === 4);
    const before = r.trades.length;
    await waitUntil(() => r.trades.length > before + 20);
    assert.ok(r.statuses.some((s) => s.kind === 'disconnected'));
    assert.equal(stream.status().reconnect_count, 1);
  });

  it('a skipped message_id raises a gap event and resubscribes the books (fresh snapshot)', async () => {
    const { sim, adapter, pump } = await setup();
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USD', 'ETH/USD'], r, { channels: ['trades', 'book'] });
    closers.push(() => stream.close());
    await waitUntil(() => r.books.filter((u) => u.kind === 'snapshot').length === 2);
    // Past the one-second subscribe pacing of each book, so that the resync is sent at once rather than deferred.
    // Kept as a sleep: the pacing reads the adapter's clock, which is the system clock here (the pump's clock
    // would also run the connection's timers at twice real speed).
    await new Promise((res) => setTimeout(res, 1_100));
    sim.faults.skipBookSeq('dydx', 'ETH/USD');
    await waitUntil(() => stream.counters().messageIdGaps === 1);
    const gap = r.events.find((e) => e.kind === 'gap');
    assert.ok(gap && gap.kind === 'gap');
    assert.match(gap.reason, /message_id jumped/);
    await waitUntil(() => r.books.filter((u) => u.kind === 'snapshot').length === 4);
    assert.equal(stream.counters().bookResyncs, 2);
    // The resubscribed book is again the venue's.
    const { held, venue } = await settledBook(pump, r, 'ETH/USD', adapter);
    pump.start();
    assert.deepEqual(held.bids, venue.bids);
  });

  it('resends a subscription the venue refused', async () => {
    const { sim, adapter } = await setup();
    sim.faults.rejectSubscriptions('dydx', 1);
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USD'], r, { channels: ['book', 'trades'] });
    closers.push(() => stream.close());
    await waitUntil(() => r.books.some((u) => u.kind === 'snapshot') && r.trades.length > 0, 8000);
    assert.ok(r.events.some((e) => e.kind === 'rejected' && /could not fetch data/.test(e.message)));
    assert.equal(stream.status().rejected_subscriptions, 1);
  });

  it('spreads symbols over connections beyond the per-channel subscription cap', async () => {
    const { adapter } = await setup({ dydx: { marketsPushMs: 100 } }, { maxSubscriptionsPerChannel: 1 });
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USD', 'ETH/USD'], r, { channels: ['trades', 'ticker'] });
    closers.push(() => stream.close());
    await waitUntil(
      () =>
        ['BTC/USD', 'ETH/USD'].every((s) => r.trades.some((t) => t.symbol === s)) &&
        ['BTC/USD', 'ETH/USD'].every((s) => r.tickers.some((t) => t.symbol === s)),
    );
    const connections = stream.connectionStatuses();
    assert.equal(connections.length, 2);
    assert.deepEqual(
      connections.map((c) => c.subscriptions),
      [['v4_trades:BTC-USD', 'v4_markets'], ['v4_trades:ETH-USD']],
    );
    assert.equal(stream.status().subscriptions.length, 3);
  });

  it('recycles a stalled connection (no pong to its pings) and one the venue closes, then recovers', async () => {
    const { sim, adapter } = await setup(
      {},
      { pingIntervalMs: 100, pongTimeoutMs: 200, runner: { backoff: { initialMs: 20, maxMs: 100 } } },
    );
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USD'], r, { channels: ['trades'] });
    closers.push(() => stream.close());
    await waitUntil(() => r.trades.length > 0 && (stream.status().latency_ms ?? null) !== null);
    sim.faults.stall('dydx', 600);
    await waitUntil(() => r.events.some((e) => e.kind === 'recycle'), 5000);
    await waitUntil(() => r.statuses.filter((s) => s.kind === 'connected').length >= 2, 5000);
    sim.faults.forceRecycle('dydx');
    await waitUntil(() => r.statuses.filter((s) => s.kind === 'connected').length >= 3, 5000);
    const count = r.trades.length;
    await waitUntil(() => r.trades.length > count);
    assert.ok(stream.status().reconnect_count >= 2);
  });

  it('reports a frozen symbol as stale while the other keeps flowing', async () => {
    const { sim, adapter } = await setup({ tradesPerSecond: 40 }, { runner: { staleSymbolMs: 1_000 } });
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USD', 'ETH/USD'], r, { channels: ['trades'] });
    closers.push(() => stream.close());
    await waitUntil(() => r.trades.some((t) => t.symbol === 'ETH/USD'));
    sim.faults.freezeSymbol('dydx', 'ETH/USD');
    await waitUntil(() => r.events.some((e) => e.kind === 'stale' && e.symbol === 'ETH/USD'));
    assert.ok(stream.status().stale_symbols.includes('ETH/USD'));
    assert.ok(!r.events.some((e) => e.kind === 'stale' && e.symbol === 'BTC/USD'));
    sim.faults.unfreezeSymbol('dydx');
    await waitUntil(() => r.events.some((e) => e.kind === 'fresh' && e.symbol === 'ETH/USD'));
  });

  it('falls back to REST polling while the socket cannot connect', async () => {
    const { sim } = await setup();
    const adapter = createDydxAdapter({
      wsUrl: 'ws://127.0.0.1:1/dydx/v4/ws',
      restUrl: sim.urls.dydx.restUrl,
      logger: silentLogger(),
      runner: {
        backoff: { initialMs: 10, maxMs: 20 },
        fallback: { afterFailures: 1, pollIntervalMs: 100, pricePollIntervalMs: 100 },
      },
      rest: { requestsPerSecond: 1000 },
    });
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USD'], r, {
      channels: ['trades', 'book', 'candles', 'ticker'],
    });
    closers.push(() => stream.close());
    await waitUntil(
      () => r.trades.length > 0 && r.books.length > 0 && r.candles.length > 0 && r.tickers.length > 0,
    );
    assert.ok(r.events.some((e) => e.kind === 'mode' && e.mode === 'polling'));
    assert.equal(stream.status().mode, 'polling');
    assert.equal(r.books[0]?.kind, 'snapshot');
    const count = r.trades.length;
    await waitUntil(() => r.trades.length > count);
  });

  it('counts malformed frames without failing, and is created through the registry', async () => {
    const { sim } = await setup();
    const adapter = createVenueAdapter(
      'dydx',
      { wsUrl: sim.urls.dydx.wsUrl, restUrl: sim.urls.dydx.restUrl },
      silentLogger(),
    );
    assert.deepEqual(adapter.bookRules, DYDX_BOOK_RULES);
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USD'], r, { channels: ['trades'] });
    closers.push(() => stream.close());
    await waitUntil(() => r.trades.length > 0);
    sim.faults.malformedFrames('dydx', 3);
    await waitUntil(() => stream.status().malformed_frames === 3);
    const count = r.trades.length;
    await waitUntil(() => r.trades.length > count);
    assert.equal(stream.status().connected, true);
  });
});
