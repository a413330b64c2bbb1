import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import type { BookUpdate } from '../../domain/book.ts';
import type { Ticker } from '../../domain/ticker.ts';
import type { Trade } from '../../domain/trade.ts';
import { startSimulator, type Simulator } from '../../sim/simulator.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import type { MarketStream, StreamEvent, StreamStatus } from '../venue.ts';
import { createBinanceAdapter, type BinanceAdapterOptions } from './index.ts';

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

class Recorder {
  readonly trades: Trade[] = [];
  readonly tickers: Ticker[] = [];
  readonly books: BookUpdate[] = [];
  readonly statuses: StreamStatus[] = [];
  readonly events: StreamEvent[] = [];
  readonly handlers = {
    trade: (t: Trade) => this.trades.push(t),
    ticker: (t: Ticker) => this.tickers.push(t),
    book: (u: BookUpdate) => this.books.push(u),
    status: (s: StreamStatus) => this.statuses.push(s),
    event: (e: StreamEvent) => this.events.push(e),
  };
  ofKind<K extends StreamEvent['kind']>(kind: K): Extract<StreamEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<StreamEvent, { kind: K }> => e.kind === kind);
  }
  /** Trades of `symbol` are strictly ascending by aggregate id: nothing delivered twice. */
  assertNoDuplicates(symbol: string): void {
    const seqs = this.trades.filter((t) => t.symbol === symbol).map((t) => t.seq ?? -1);
    for (let i = 1; i < seqs.length; i++)
      assert.ok((seqs[i] as number) > (seqs[i - 1] as number), `trade ${seqs[i]} after ${seqs[i - 1]}`);
  }
}

describe('Binance adapter under simulator faults', () => {
  let sim: Simulator;
  let stream: MarketStream | undefined;
  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      historyDays: 0,
      tradesPerSecond: 30,
      seed: 5,
    });
  });
  after(() => sim.close());
  afterEach(async () => {
    await stream?.close();
    stream = undefined;
    sim.faults.resumeStream();
    sim.faults.unfreezeSymbol('binance');
  });

  function adapter(options: Partial<BinanceAdapterOptions> = {}) {
    return createBinanceAdapter({
      ...sim.urls.binance,
      logger: silentLogger(),
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      rest: { http: { retryBaseMs: 5, retryMaxMs: 20, maxRetries: 0 } },
      ...options,
    });
  }

  it('recycles a stalled connection through the watchdog and reports the gap when data returns', async () => {
    const rec = new Recorder();
    const s = (stream = adapter({ silenceTimeoutMs: 300 }).openMarketStream(['BTC/USDT'], rec.handlers));
    await waitFor('trades', () => rec.trades.length > 5);
    sim.faults.stall('binance', 600);
    // At least one: on a loaded machine the reconnected socket can also fall silent before the stall ends.
    await waitFor('recycle', () => rec.ofKind('recycle').length >= 1, 3000);
    assert.match(rec.ofKind('recycle')[0]?.reason ?? '', /^silence: no frame for \d+ ms$/);
    await waitFor('gap', () => rec.ofKind('gap').length >= 1, 5000);
    const before = rec.trades.length;
    await waitFor('trades again', () => rec.trades.length > before + 3);
    const status = s.status();
    assert.ok(status && status.reconnect_count >= 1 && status.connected);
    assert.match(status.last_error ?? '', /no frame for/);
    rec.assertNoDuplicates('BTC/USDT');
  });

  it('detects one frozen symbol on the live connection and sees it recover', async () => {
    const rec = new Recorder();
    // A stale window well above any pause of a loaded test machine, so only the frozen symbol can cross it.
    const s = (stream = adapter({ staleSymbolMs: 1500 }).openMarketStream(
      ['BTC/USDT', 'ETH/USDT'],
      rec.handlers,
      {
        channels: ['trades', 'ticker'],
      },
    ));
    await waitFor('both symbols', () => new Set(rec.trades.map((t) => t.symbol)).size === 2);
    sim.faults.freezeSymbol('binance', 'ETH/USDT');
    await waitFor('stale', () => rec.ofKind('stale').length === 1, 6000);
    assert.equal(rec.ofKind('stale')[0]?.symbol, 'ETH/USDT');
    assert.deepEqual(s.status().stale_symbols, ['ETH/USDT']);
    assert.equal(s.status().is_healthy, false);
    assert.equal(s.status().reconnect_count, 0, 'the socket itself stays');
    sim.faults.unfreezeSymbol('binance', 'ETH/USDT');
    await waitFor('fresh', () => rec.ofKind('fresh').length === 1, 3000);
    assert.deepEqual(s.status().stale_symbols, []);
  });

  it('counts malformed frames without losing the connection', async () => {
    const rec = new Recorder();
    const s = (stream = adapter().openMarketStream(['BTC/USDT'], rec.handlers));
    await waitFor('trades', () => rec.trades.length > 0);
    sim.faults.malformedFrames('binance', 6);
    await waitFor('counted', () => s.status().malformed_frames === 6);
    const before = rec.trades.length;
    await waitFor('trades continue', () => rec.trades.length > before + 3);
    assert.equal(s.status().reconnect_count, 0);
  });

  it("shows a refused subscription's Binance error in status and recovers by resubscribing", async () => {
    const rec = new Recorder();
    sim.faults.rejectSubscriptions('binance', 1);
    const s = (stream = adapter().openMarketStream(['BTC/USDT'], rec.handlers));
    await waitFor('refusal', () => rec.ofKind('rejected').length === 1);
    assert.equal(rec.ofKind('rejected')[0]?.message, 'binance error 2: Invalid request: invalid stream');
    const status = s.status();
    assert.equal(status?.rejected_subscriptions, 1);
    assert.equal(status?.last_error, 'binance error 2: Invalid request: invalid stream');
    await waitFor('trades after the resend', () => rec.trades.length > 3, 8000);
  });

  it('follows the venue recycle: reconnects at once and resubscribes every stream', async () => {
    const rec = new Recorder();
    const s = (stream = adapter({ reconnect: { initialDelayMs: 5000, maxDelayMs: 5000 } }).openMarketStream(
      ['BTC/USDT', 'ETH/USDT'],
      rec.handlers,
    ));
    await waitFor('both symbols', () => new Set(rec.trades.map((t) => t.symbol)).size === 2);
    sim.faults.forceRecycle('binance');
    await waitFor('reconnected', () => s.status().reconnect_count === 1 && s.status().connected, 2000);
    assert.equal(rec.ofKind('recycle')[0]?.reason, 'server shutdown');
    const before = new Map(
      ['BTC/USDT', 'ETH/USDT'].map((x) => [x, rec.trades.filter((t) => t.symbol === x).length]),
    );
    await waitFor(
      'both symbols again',
      () =>
        ['BTC/USDT', 'ETH/USDT'].every(
          (x) => rec.trades.filter((t) => t.symbol === x).length > (before.get(x) ?? 0),
        ),
      3000,
    );
    rec.assertNoDuplicates('BTC/USDT');
    rec.assertNoDuplicates('ETH/USDT');
  });

  it('maps @depth diffs to book deltas that chain onto the REST snapshot (seq = u, prevSeq = U - 1)', async () => {
    const rec = new Recorder();
    const a = adapter();
    stream = a.openMarketStream(['BTC/USDT'], rec.handlers, { channels: ['book'] });
    await waitFor('deltas', () => rec.books.length >= 2);
    const snapshot = await a.rest.fetchBookSnapshot('BTC/USDT', 100);
    assert.equal(snapshot.kind, 'snapshot');
    // The simulated book holds about 50 levels a side (a few more at times); the limit caps what is served.
    assert.ok(snapshot.bids.length >= 50 && snapshot.bids.length <= 100, `${snapshot.bids.length} bids`);
    const L = snapshot.seq as number;
    await waitFor('a delta past the snapshot', () => rec.books.some((u) => (u.seq ?? 0) > L));
    const deltas = rec.books.filter((u) => (u.seq ?? 0) > L);
    const first = deltas[0] as BookUpdate;
    assert.ok(
      (first.prevSeq as number) <= L && L < (first.seq as number),
      'first kept delta spans the snapshot id',
    );
    for (let i = 1; i < deltas.length; i++) assert.equal(deltas[i]?.prevSeq, deltas[i - 1]?.seq);
    assert.equal(first.kind, 'delta');
    assert.equal(first.venue, 'binance');
    assert.match(first.bids[0]?.price ?? '', /^\d+\.\d{8}$/, 'levels keep the venue text');
    assert.deepEqual(a.bookRules, {
      snapshotSource: 'rest',
      sequence: 'binance-range',
      checksum: 'none',
      checksumSnapshots: false,
      uncross: false,
      snapshotDepth: 1000,
    });
  });

  it('delivers 24 h tickers, over the stream and over REST', async () => {
    const rec = new Recorder();
    const a = adapter();
    stream = a.openMarketStream(['ETH/USDT'], rec.handlers, { channels: ['ticker'] });
    await waitFor('ticker', () => rec.tickers.length > 0, 4000);
    const t = rec.tickers[0] as Ticker;
    assert.equal(t.symbol, 'ETH/USDT');
    assert.ok(t.bid !== undefined && t.ask !== undefined && t.volume24h !== undefined);
    const polled = await a.rest.fetchTicker('ETH/USDT');
    assert.equal(polled.venue, 'binance');
    assert.ok(polled.high24h !== undefined && polled.low24h !== undefined);
  });

  it('falls back to REST polling when the stream cannot connect, resuming trades without duplicates', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const rec = new Recorder();
    const s = (stream = adapter({
      wsUrl: `ws://127.0.0.1:${port}/binance`,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
      fallback: { afterFailures: 3, pollIntervalMs: 200, pricePollIntervalMs: 100 },
    }).openMarketStream(['BTC/USDT'], rec.handlers, { channels: ['trades', 'ticker'] }));
    await waitFor('polling', () => s.status().mode === 'polling');
    assert.equal(rec.ofKind('mode')[0]?.mode, 'polling');
    await waitFor('polled trades', () => rec.trades.length > 0);
    await waitFor('polled tickers', () => rec.tickers.length >= 2);
    const first = rec.trades.length;
    await waitFor('later polls add only new trades', () => rec.trades.length > first, 3000);
    rec.assertNoDuplicates('BTC/USDT');
    // A REST failure during polling is counted and polling goes on.
    sim.faults.restFailures({ status: 429, count: 2, retryAfterSec: 1 }, 'binance');
    const errors = s.status().errors;
    await waitFor('poll error counted', () => s.status().errors > errors + 1);
    assert.match(s.status().last_error ?? '', /poll|ECONNREFUSED/);
    const after = rec.trades.length;
    await waitFor('polling recovers', () => rec.trades.length > after, 3000);
    rec.assertNoDuplicates('BTC/USDT');
  });
});
