import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BookLevel, BookUpdate } from '../../domain/book.ts';
import type { Trade } from '../../domain/trade.ts';
import { startSimulator, type Simulator } from '../../sim/simulator.ts';
import { waitUntil } from '../../sim/test-kit.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { applyBookUpdate, recorder } from '../stream-recorder.test-support.ts';
import type { VenueCandle } from '../venue.ts';
import { createOkxAdapter, type OkxAdapter } from './index.ts';
import { okxBookChecksum } from './parse.ts';

/** Replays book updates of one symbol as a client would: per update, whether chain and checksum held. */
function replay(updates: readonly BookUpdate[]): { chain: boolean; checksum: boolean; kind: string }[] {
  const bids = new Map<string, string>();
  const asks = new Map<string, string>();
  let seq: number | undefined;
  const sorted = (m: Map<string, string>, desc: boolean): BookLevel[] =>
    [...m]
      .map(([price, size]) => ({ price, size }))
      .sort((a, b) => (Number(a.price) - Number(b.price)) * (desc ? -1 : 1));
  return updates.map((u) => {
    const chain = u.kind === 'snapshot' ? u.prevSeq === undefined : u.prevSeq === seq;
    applyBookUpdate(bids, asks, u);
    seq = u.seq;
    return {
      chain,
      checksum: okxBookChecksum(sorted(bids, true), sorted(asks, false)) === u.checksum,
      kind: u.kind,
    };
  });
}

describe('OKX market stream against the simulator', () => {
  let sim: Simulator;
  let adapter: OkxAdapter;

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      seed: 5,
      historyDays: 1,
      tradesPerSecond: 30,
      tickMs: 20,
      // The tests read the minutes they run in: a few minutes of individual trades, not the default two hours.
      tradeWindowMs: 5 * 60_000,
      okx: {
        tickerPushMs: 50,
        candlePushMs: 50,
        bookPushMs: 25,
        recycleCloseMs: 30_000,
        maxConnectionsPerSecond: 50,
      },
    });
    adapter = createOkxAdapter({
      wsUrl: sim.urls.okx.wsUrl,
      restUrl: sim.urls.okx.restUrl,
      logger: silentLogger(),
      pingIntervalMs: 500,
      runner: { backoff: { initialMs: 20, maxMs: 200 }, resubscribeDelayMs: 50 },
    });
  });
  after(() => sim.close());

  it('delivers trades, candles, tickers and checksummed, chained book updates', async () => {
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USDT', 'ETH/USDT'], r, {
      channels: ['trades', 'candles', 'ticker', 'book'],
    });
    try {
      await waitUntil(
        () => r.trades.length > 20 && r.candles.length > 2 && r.tickers.length > 2 && r.books.length > 40,
        10_000,
      );
      const t = r.trades[0] as Trade;
      assert.equal(t.venue, 'okx');
      assert.ok(t.symbol === 'BTC/USDT' || t.symbol === 'ETH/USDT');
      assert.equal(t.seq, Number(t.id));
      assert.ok(t.fills >= 1);
      assert.ok(
        r.trades.some((x) => x.fills > 1),
        'aggregated trades carry count > 1',
      );
      const c = r.candles[0] as VenueCandle;
      assert.equal(c.interval, '1m');
      assert.equal(c.bar.time % 60_000, 0);
      assert.ok(r.tickers.every((x) => x.venue === 'okx' && x.bid !== undefined && x.ask !== undefined));
      for (const symbol of ['BTC/USDT', 'ETH/USDT']) {
        const mine = r.books.filter((u) => u.symbol === symbol);
        assert.equal(mine[0]?.kind, 'snapshot');
        assert.equal(mine[0]?.bids.length, 400);
        const checks = replay(mine);
        assert.ok(
          checks.every((x) => x.chain && x.checksum),
          JSON.stringify(checks.find((x) => !x.chain || !x.checksum)),
        );
        assert.ok(
          mine
            .slice(1)
            .every((u) => u.seq !== undefined && u.prevSeq !== undefined && u.checksum !== undefined),
        );
      }
      const stats = stream.status();
      assert.equal(stats.connected, true);
      assert.deepEqual([...stats.subscriptions].sort(), [
        'books:BTC-USDT',
        'books:ETH-USDT',
        'candle1m:BTC-USDT',
        'candle1m:ETH-USDT',
        'tickers:BTC-USDT',
        'tickers:ETH-USDT',
        'trades:BTC-USDT',
        'trades:ETH-USDT',
      ]);
      assert.ok((stream.connectionStatuses().public?.latency_ms ?? null) !== null);
      const status = stream.status();
      assert.equal(status.connected, true);
      assert.equal(status.subscriptions.length, 8);
      assert.equal(status.mode, 'websocket');
    } finally {
      await stream.close();
    }
  });

  it('derives both endpoints from a URL that names /ws/v5/public (the configured default form)', async () => {
    const named = createOkxAdapter({
      wsUrl: `${sim.urls.okx.wsUrl}/ws/v5/public`,
      restUrl: sim.urls.okx.restUrl,
      logger: silentLogger(),
    });
    const r = recorder();
    const stream = named.openMarketStream(['BTC/USDT'], r, { channels: ['trades', 'candles'] });
    try {
      await waitUntil(() => r.trades.length > 0 && r.candles.length > 0, 5000);
      assert.deepEqual(
        [stream.connectionStatuses().public?.ws_url, stream.connectionStatuses().business?.ws_url],
        [`${sim.urls.okx.wsUrl}/ws/v5/public`, `${sim.urls.okx.wsUrl}/ws/v5/business`],
      );
    } finally {
      await stream.close();
    }
  });

  it('reconnects after dropped connections and resubscribes', async () => {
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USDT'], r, { channels: ['trades', 'candles'] });
    try {
      await waitUntil(() => r.trades.length > 3 && r.candles.length > 0, 5000);
      assert.ok(sim.faults.dropConnections('okx') >= 2);
      await waitUntil(() => r.statuses.filter((s) => s.kind === 'disconnected').length >= 2, 5000);
      const before = r.trades.length;
      const candlesBefore = r.candles.length;
      await waitUntil(() => r.trades.length > before + 3 && r.candles.length > candlesBefore, 5000);
      assert.ok(stream.status().reconnect_count >= 2);
      assert.ok(r.events.some((e) => e.kind === 'gap'));
    } finally {
      await stream.close();
    }
  });

  it('reconnects at once on notice 64008 instead of waiting for the server to close', async () => {
    const r = recorder();
    const stream = adapter.openMarketStream(['ETH/USDT'], r, { channels: ['trades'] });
    try {
      await waitUntil(() => r.trades.length > 2, 5000);
      sim.faults.forceRecycle('okx');
      await waitUntil(() => r.events.some((e) => e.kind === 'recycle'), 3000);
      const recycle = r.events.find((e) => e.kind === 'recycle');
      assert.match(recycle?.kind === 'recycle' ? recycle.reason : '', /64008/);
      const before = r.trades.length;
      await waitUntil(() => r.trades.length > before + 2 && stream.status().connected, 5000);
    } finally {
      await stream.close();
    }
  });

  it('resends a refused subscription, resyncs one book, counts malformed frames', async () => {
    const r = recorder();
    sim.faults.rejectSubscriptions('okx', 1);
    const stream = adapter.openMarketStream(['BTC/USDT'], r, { channels: ['book'] });
    try {
      await waitUntil(() => r.books.length > 5, 5000);
      assert.ok(r.events.some((e) => e.kind === 'rejected' && /60014/.test(e.message)));
      assert.equal(stream.connectionStatuses().public?.rejected_subscriptions, 1);
      const snapshots = (): number => r.books.filter((u) => u.kind === 'snapshot').length;
      assert.equal(snapshots(), 1);
      assert.equal(stream.resyncBook('BTC/USDT'), true);
      assert.equal(stream.resyncBook('ETH/USDT'), false);
      await waitUntil(() => snapshots() === 2, 3000);
      const afterResync = r.books.slice(r.books.findLastIndex((u) => u.kind === 'snapshot'));
      assert.ok(replay(afterResync).every((x) => x.chain && x.checksum));
      sim.faults.malformedFrames('okx', 3);
      await waitUntil(() => stream.status().malformed_frames >= 3, 3000);
      assert.equal(stream.status().connected, true);
    } finally {
      await stream.close();
    }
  });

  it('a skipped book sequence and a corrupt checksum are visible to the consumer', async () => {
    const r = recorder();
    const stream = adapter.openMarketStream(['ETH/USDT'], r, { channels: ['book'] });
    try {
      await waitUntil(() => r.books.length > 5, 5000);
      sim.faults.skipBookSeq('okx', 'ETH/USDT');
      await waitUntil(() => replay(r.books).some((x) => !x.chain), 3000);
      stream.resyncBook('ETH/USDT');
      await waitUntil(() => r.books.filter((u) => u.kind === 'snapshot').length === 2, 3000);
      const from = r.books.length;
      sim.faults.corruptChecksum('okx', 'ETH/USDT');
      await waitUntil(() => r.books.length > from + 3, 3000);
      const tail = replay(r.books.slice(r.books.findLastIndex((u) => u.kind === 'snapshot')));
      assert.ok(tail.some((x) => !x.checksum));
    } finally {
      await stream.close();
    }
  });
  it('recycles a stalled connection (no pong) and reports a frozen symbol stale while the other flows', async () => {
    const watchful = createOkxAdapter({
      wsUrl: sim.urls.okx.wsUrl,
      restUrl: sim.urls.okx.restUrl,
      logger: silentLogger(),
      pingIntervalMs: 200,
      pongTimeoutMs: 300,
      // A stale window well above any pause of a loaded test machine, so only the frozen symbol can cross it.
      runner: { backoff: { initialMs: 20, maxMs: 200 }, staleSymbolMs: 1500, silenceTimeoutMs: 5000 },
    });
    const r = recorder();
    const stream = watchful.openMarketStream(['BTC/USDT', 'ETH/USDT'], r, { channels: ['trades'] });
    try {
      await waitUntil(() => r.trades.length > 5, 5000);
      sim.faults.freezeSymbol('okx', 'ETH/USDT', 4000);
      await waitUntil(() => r.events.some((e) => e.kind === 'stale' && e.symbol === 'ETH/USDT'), 6000);
      assert.ok(!r.events.some((e) => e.kind === 'stale' && e.symbol === 'BTC/USDT'));
      assert.deepEqual(stream.status().stale_symbols, ['ETH/USDT']);
      await waitUntil(() => r.events.some((e) => e.kind === 'fresh' && e.symbol === 'ETH/USDT'), 8000);
      const disconnects = r.statuses.filter((s) => s.kind === 'disconnected').length;
      sim.faults.stall('okx', 800);
      await waitUntil(() => r.statuses.filter((s) => s.kind === 'disconnected').length > disconnects, 3000);
      const before = r.trades.length;
      await waitUntil(() => r.trades.length > before + 3 && stream.status().connected, 5000);
    } finally {
      await stream.close();
    }
  });

  it('reconnects a connection opened during a stall, whose subscribes the venue dropped, once the stall ends', async () => {
    // The stalled venue answers nothing and drops what it receives: a socket opened meanwhile carries no
    // subscription afterwards. No ping goes out during the test (20 s period), so only the unanswered subscribes
    // can show it before the silence watchdog (30 s).
    const adapter = createOkxAdapter({
      wsUrl: sim.urls.okx.wsUrl,
      restUrl: sim.urls.okx.restUrl,
      logger: silentLogger(),
      runner: { backoff: { initialMs: 20, maxMs: 200 }, subscribeAnswerTimeoutMs: 500 },
    });
    const r = recorder();
    const stream = adapter.openMarketStream(['BTC/USDT'], r, { channels: ['trades'] });
    try {
      await waitUntil(() => r.trades.length > 3, 5000);
      const connects = r.statuses.filter((st) => st.kind === 'connected').length;
      sim.faults.stall('okx', 1500);
      sim.faults.dropConnections('okx');
      await waitUntil(() => r.statuses.filter((st) => st.kind === 'connected').length > connects, 5000);
      await sleep(1600);
      const before = r.trades.length;
      await waitUntil(() => r.trades.length > before + 3, 8000);
      assert.ok(r.events.some((e) => e.kind === 'recycle' && /subscribe\(s\) unanswered/.test(e.reason)));
    } finally {
      await stream.close();
    }
  });

  it('falls back to REST polling while the socket cannot connect, without losing trades', async () => {
    const broken = createOkxAdapter({
      wsUrl: `${sim.urls.okx.wsUrl}/nowhere`,
      restUrl: sim.urls.okx.restUrl,
      logger: silentLogger(),
      runner: {
        backoff: { initialMs: 20, maxMs: 100 },
        fallback: { afterFailures: 2, pollIntervalMs: 200, pricePollIntervalMs: 100 },
      },
    });
    const r = recorder();
    const stream = broken.openMarketStream(['BTC/USDT'], r, { channels: ['trades', 'ticker', 'candles'] });
    try {
      await waitUntil(() => r.trades.length > 100 && r.tickers.length > 1 && r.candles.length > 0, 8000);
      assert.ok(r.events.some((e) => e.kind === 'mode' && e.mode === 'polling'));
      const ids = r.trades.map((t) => t.seq as number);
      for (let i = 1; i < ids.length; i++)
        assert.ok(ids[i]! > ids[i - 1]!, 'polled trades repeat or go back');
      assert.equal(stream.status().mode, 'polling');
    } finally {
      await stream.close();
    }
  });
});
