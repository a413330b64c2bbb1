import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { MemoryBus } from '../bus/memory-bus.ts';
import type { CandleUpdate } from '../domain/candle.ts';
import { toPlainString } from '../domain/decimal.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { CompositeCandles } from './composite-candles.ts';
import { bar, FakeVenue, minute, recordBus, settle, T0, trade } from './fake-venue.test-support.ts';
import { raiseAlert } from './raise-alert.ts';
import { VenueIngest } from './venue-ingest.ts';

const SYMBOL = 'BTC/USDT';

interface SetupOptions {
  readonly venue?: FakeVenue;
  readonly symbols?: readonly string[];
  readonly historyConcurrency?: number;
  readonly onHistoryLoaded?: (symbol: string) => void;
  readonly historyTurn?: (owner: object) => Promise<void>;
}

function setup(t: TestContext, options: SetupOptions = {}) {
  const {
    venue = new FakeVenue('binance'),
    symbols = [SYMBOL],
    historyConcurrency,
    onHistoryLoaded,
    historyTurn,
  } = options;
  const clock = new ManualClock(T0);
  const bus = new MemoryBus();
  const store = new MemoryCandleStore();
  const record = recordBus(bus);
  const logger = silentLogger();
  const ingest = new VenueIngest({
    adapter: venue,
    symbols,
    candles: new CompositeCandles({ store, bus, logger, activeOf: () => venue.venue }),
    bus,
    logger,
    closeGraceMs: 2000,
    historyBars: 3,
    clock,
    alert: (input) => raiseAlert(bus, logger, input, clock.now),
    ...(historyConcurrency !== undefined ? { historyConcurrency } : {}),
    ...(onHistoryLoaded ? { onHistoryLoaded } : {}),
    ...(historyTurn ? { historyTurn } : {}),
  });
  t.after(() => ingest.close());
  /** Starts the ingest with the stream connected at once, and waits until it is live. */
  const goLive = async (): Promise<void> => {
    const started = ingest.start();
    venue.connect(clock.now());
    await settle();
    await started;
  };
  /** Lets pending REST answers arrive, then moves time on to `to` and lets what its timers did finish. */
  const advanceTo = async (to: number): Promise<void> => {
    await settle();
    clock.advanceTo(to);
    await settle();
    await ingest.flush();
  };
  const stored = (): { time: number; volume: string; backfilled: boolean }[] =>
    store.recentSync(SYMBOL, '1m', 1000).map((s) => ({
      time: s.bar.time,
      volume: toPlainString(s.bar.volume),
      backfilled: s.backfilled === true,
    }));
  const published = (state: CandleUpdate['state']): { time: number; volume: string }[] =>
    record.candles
      .filter((u) => u.interval === '1m' && u.state === state)
      .map((u) => ({ time: u.bar.time, volume: toPlainString(u.bar.volume) }));
  const publishedSeqs = (): number[] => record.trades.flatMap((b) => b.trades.map((tr) => Number(tr.seq)));
  return { clock, venue, ingest, store, record, goLive, advanceTo, stored, published, publishedSeqs };
}

const minutes = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => minute(0, from + i));

describe('VenueIngest', () => {
  it('loads history, applies the trades held during the load after it, and continues live without a gap or a duplicate', async (t) => {
    const s = setup(t);
    s.venue.rest.bars.set(
      '1m',
      minutes(0, 9).map((time) => bar(time)),
    );
    // Trades of the minute in progress before the stream opened: REST has them, the stream does not.
    s.venue.miss(trade('binance', { seq: 101, time: minute(0, 10, 5) }));
    s.venue.miss(trade('binance', { seq: 102, time: minute(0, 10, 10) }));
    s.venue.rest.holdTrades();
    const started = s.ingest.start();
    s.venue.connect(T0);
    await settle();

    // While the REST answer is on its way the stream delivers the last trade again, then a new one.
    s.clock.advance(1000);
    s.venue.redeliver(s.venue.tape[1]!);
    s.venue.trade(trade('binance', { seq: 103, time: T0 + 1000 }));
    await s.ingest.flush();
    assert.deepEqual(s.publishedSeqs(), [], 'no trade is applied before the history');
    assert.equal(s.ingest.stats().instruments[SYMBOL]?.accepted, 0);

    s.venue.rest.release();
    await started;
    assert.deepEqual(s.publishedSeqs(), [101, 102, 103], 'REST trades first, then the held ones, once each');
    assert.equal(s.ingest.stats().instruments[SYMBOL]?.duplicates, 1);
    assert.deepEqual(s.ingest.stats().instruments[SYMBOL]?.openGaps, []);
    assert.deepEqual(
      s.stored(),
      [
        ...minutes(0, 9).map((time) => ({ time, volume: '1', backfilled: true })),
        { time: minute(0, 10), volume: '3', backfilled: true },
      ],
      'every history bar is stored, and the live bar holds the three trades',
    );
    assert.deepEqual(s.published('closed'), [], 'start-up history is stored, not published');
    assert.deepEqual(s.published('live'), [{ time: minute(0, 10), volume: '3' }]);

    await s.advanceTo(minute(0, 11, 1));
    s.venue.trade(trade('binance', { seq: 104, time: minute(0, 11, 1) }));
    await s.advanceTo(minute(0, 11, 2));
    assert.deepEqual(s.published('closed'), [{ time: minute(0, 10), volume: '3' }]);
    assert.deepEqual(
      s.stored().map((b) => [b.time, b.volume]),
      [...minutes(0, 9).map((time) => [time, '1']), [minute(0, 10), '3'], [minute(0, 11), '1']],
      'the live bars continue the history minute by minute',
    );
    assert.deepEqual(s.publishedSeqs(), [101, 102, 103, 104]);
  });

  it('retries a failed history load after 1 s, then 2 s, goes live, then loads the older history', async (t) => {
    const s = setup(t);
    s.venue.rest.bars.set(
      '1m',
      minutes(0, 9).map((time) => bar(time)),
    );
    const startupCalls = ['candles 1m', 'candles 1h', 'candles 4h', 'candles 1D', 'candles 1W'];
    // The first attempt's five requests fail, then the first of the second attempt.
    s.venue.rest.failures = 6;
    let done = false;
    const started = s.ingest.start().then(() => (done = true));
    s.venue.connect(T0);
    await settle();
    assert.deepEqual(s.venue.rest.calls, startupCalls);

    s.clock.advance(999);
    await settle();
    assert.equal(s.venue.rest.calls.length, 5, 'no retry before 1 s');
    s.clock.advance(1);
    await settle();
    assert.deepEqual(s.venue.rest.calls, [...startupCalls, ...startupCalls], 'the second attempt fails too');

    s.clock.advance(1999);
    await settle();
    assert.equal(s.venue.rest.calls.length, 10, 'no retry before 2 s more');
    s.clock.advance(1);
    await started;
    assert.equal(done, true);
    assert.deepEqual(s.venue.rest.calls.slice(10, 16), [
      ...startupCalls,
      `trades {"startTime":${minute(0, 10)},"endTime":${T0 + 3000}}`,
    ]);
    assert.ok(
      s.venue.rest.calls.slice(16).every((c) => c.startsWith('candles ')),
      'then the background history',
    );
    assert.equal(s.stored().length, 11, 'ten closed minutes and the live one');
  });

  it('goes live before the older history loads, and says when that has loaded', async (t) => {
    const loadedHistory: string[] = [];
    const s = setup(t, { onHistoryLoaded: (symbol) => loadedHistory.push(symbol) });
    s.venue.rest.bars.set(
      '1m',
      minutes(0, 9).map((time) => bar(time)),
    );
    const twoWeeksBack = minute(0, 0) - 14 * 86_400_000;
    s.venue.rest.bars.set('1W', [bar(twoWeeksBack)]);
    // The venue answers the older history (here the weeks before last) only when released.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const fetchCandles = s.venue.rest.fetchCandles.bind(s.venue.rest);
    s.venue.rest.fetchCandles = async (symbol, interval, query) => {
      if (interval === '1W' && (query.startTime ?? 0) <= twoWeeksBack) await released;
      return fetchCandles(symbol, interval, query);
    };
    let done = false;
    const started = s.ingest.start().then(() => (done = true));
    s.venue.connect(T0);
    await settle();
    s.venue.trade(trade('binance', { seq: 1, time: T0 + 100 }));
    await s.advanceTo(T0 + 200);
    assert.deepEqual(s.published('live').at(-1), { time: minute(0, 10), volume: '1' }, 'live bars flow');
    assert.equal(done, false, 'the older history is still loading');
    assert.deepEqual(loadedHistory, []);
    const weeks = (): number[] => s.store.recentSync(SYMBOL, '1W', 10).map((b) => b.bar.time);
    assert.ok(!weeks().includes(twoWeeksBack), 'the older weeks are not stored yet');

    release();
    await started;
    assert.deepEqual(loadedHistory, [SYMBOL]);
    assert.ok(weeks().includes(twoWeeksBack), 'the older weeks are stored');
  });

  it('closes bars on the clock only while the stream is connected, and fills the outage from REST on reconnect', async (t) => {
    const s = setup(t);
    s.venue.miss(trade('binance', { seq: 101, time: minute(0, 10, 10) }));
    await s.goLive();

    await s.advanceTo(minute(0, 11, 2) + 250);
    assert.deepEqual(s.published('closed'), [{ time: minute(0, 10), volume: '1' }], 'closed by the clock');
    s.venue.trade(trade('binance', { seq: 102, time: minute(0, 11, 5) }));
    await s.advanceTo(minute(0, 11, 10));
    s.venue.disconnect(s.clock.now());

    // While the stream is down the venue goes on trading; the bars it falls in must not close as they are.
    s.venue.miss(trade('binance', { seq: 103, time: minute(0, 11, 30), size: '2' }));
    s.venue.miss(trade('binance', { seq: 104, time: minute(0, 12, 30), size: '4' }));
    await s.advanceTo(minute(0, 13, 30));
    assert.deepEqual(
      s.published('closed'),
      [{ time: minute(0, 10), volume: '1' }],
      'no bar closed while down',
    );

    s.venue.connect(s.clock.now());
    await s.advanceTo(minute(0, 13, 31));
    assert.ok(s.venue.rest.calls.includes('trades {"afterSeq":102,"limit":1000}'), 'backfill after seq 102');
    assert.deepEqual(s.published('closed'), [
      { time: minute(0, 10), volume: '1' },
      { time: minute(0, 11), volume: '3' },
      { time: minute(0, 12), volume: '4' },
    ]);
    assert.deepEqual(s.publishedSeqs(), [101, 102, 103, 104]);
    assert.deepEqual(
      s.record.alerts.map((a) => [a.kind, a.details?.['trades']]),
      [['backfill_done', 2]],
    );
    assert.deepEqual(
      s.stored().find((b) => b.time === minute(0, 12)),
      { time: minute(0, 12), volume: '4', backfilled: true },
    );
  });

  it("compares the venue's closed kline with our bar once ours has closed, though the kline came before the minute's last trade", async (t) => {
    const s = setup(t);
    await s.goLive();
    s.venue.trade(trade('binance', { seq: 101, time: minute(0, 10, 40) }));
    await s.advanceTo(minute(0, 11) + 200);
    // The venue closes its kline (two trades) before its last trade of the minute reaches us.
    s.venue.kline(SYMBOL, bar(minute(0, 10), '100', '2'), true, s.clock.now());
    s.venue.trade(trade('binance', { seq: 102, time: minute(0, 10, 59) }));
    await s.advanceTo(minute(0, 11, 2) + 250);
    assert.deepEqual(s.published('closed'), [{ time: minute(0, 10), volume: '2' }]);
    assert.equal(s.ingest.stats().klineMismatches, 0);

    // A kline that differs from our final bar is counted, and only a closed one is compared.
    s.venue.trade(trade('binance', { seq: 103, time: minute(0, 11, 30) }));
    s.venue.kline(SYMBOL, bar(minute(0, 11), '100', '5'), false, s.clock.now());
    await s.advanceTo(minute(0, 12) + 100);
    s.venue.kline(SYMBOL, bar(minute(0, 11), '100', '3'), true, s.clock.now());
    await s.advanceTo(minute(0, 12, 1));
    assert.equal(s.ingest.stats().klineMismatches, 0, 'our bar of 00:11 is still open');
    await s.advanceTo(minute(0, 12, 2) + 250);
    assert.equal(s.ingest.stats().klineMismatches, 1);
  });

  it('backfills a hole in the trade sequence by trade id', async (t) => {
    const s = setup(t);
    await s.goLive();
    s.venue.trade(trade('binance', { seq: 201, time: T0 + 1000 }));
    s.venue.miss(
      trade('binance', { seq: 202, time: T0 + 2000 }),
      trade('binance', { seq: 203, time: T0 + 3000 }),
    );
    s.venue.trade(trade('binance', { seq: 204, time: T0 + 4000 }));
    await s.advanceTo(T0 + 5000);

    assert.ok(s.venue.rest.calls.includes('trades {"afterSeq":201,"limit":1000}'));
    assert.deepEqual(
      s.publishedSeqs().sort((a, b) => a - b),
      [201, 202, 203, 204],
      'every trade published once',
    );
    const stats = s.ingest.stats();
    assert.equal(stats.backfills, 1);
    assert.equal(stats.backfilledTrades, 2);
    assert.equal(stats.backfilledBars, 1);
    assert.deepEqual(stats.instruments[SYMBOL]?.openGaps, []);
    assert.deepEqual(s.stored().at(-1), { time: minute(0, 10), volume: '4', backfilled: true });
  });

  it('backfills by time after a reconnect where the venue has no contiguous trade ids', async (t) => {
    const s = setup(t, { venue: new FakeVenue('dydx', { contiguousTradeSeq: false }) });
    await s.goLive();
    const at = (id: string, time: number) => trade('dydx', { id, time });
    s.venue.trade(at('a', minute(0, 10, 40)));
    await s.advanceTo(minute(0, 10, 45));
    s.venue.disconnect(s.clock.now());
    s.venue.miss(at('b', minute(0, 10, 50)), at('c', minute(0, 11, 10)));
    await s.advanceTo(minute(0, 11, 20));
    s.venue.connect(s.clock.now());
    await s.advanceTo(minute(0, 11, 21));

    assert.ok(
      s.venue.rest.calls.includes(`trades {"startTime":${minute(0, 10, 40)},"endTime":${minute(0, 11, 20)}}`),
      'the trades since the newest one held',
    );
    assert.deepEqual(tradeIds(s.record.trades), ['a', 'b', 'c'], 'the one seen live is not applied twice');
    assert.deepEqual(
      s.stored().map((b) => [b.time, b.volume]),
      [
        [minute(0, 10), '2'],
        [minute(0, 11), '1'],
      ],
    );
  });

  it('fetches the trades between the REST answer and a stream that joined late, once, and not when the two overlap', async (t) => {
    // dYdX: no contiguous ids, so only the overlap can show that the stream continues the REST trades.
    const s = setup(t, { venue: new FakeVenue('dydx', { contiguousTradeSeq: false }) });
    const at = (id: string, time: number) => trade('dydx', { id, time });
    s.venue.miss(at('a', minute(0, 10, 5)));
    // The REST answer ends at T0 (00:10:30); the stream connects, but its subscription takes effect only later.
    await s.goLive();
    s.clock.advance(500);
    s.venue.miss(at('b', T0 + 400));
    s.venue.trade(at('c', T0 + 600));
    await s.advanceTo(T0 + 1000);
    s.venue.trade(at('d', T0 + 1000));
    await s.advanceTo(T0 + 2000);
    assert.deepEqual(tradeIds(s.record.trades), ['a', 'c', 'b', 'd'], 'b fetched, each trade once');
    assert.deepEqual(
      s.venue.rest.calls.filter((c) => c.startsWith('trades')),
      [
        `trades {"startTime":${minute(0, 10)},"endTime":${T0}}`,
        `trades {"startTime":${T0},"endTime":${T0 + 500}}`,
      ],
      'one fetch from where the REST answer ended',
    );
    assert.deepEqual(s.published('live').at(-1), { time: minute(0, 10), volume: '4' });
    assert.deepEqual(
      s.record.alerts.map((a) => [a.kind, a.details?.['trades']]),
      [['backfill_done', 1]],
    );

    // A second instrument's stream that overlaps its REST answer (a redelivered trade) needs no fetch.
    const o = setup(t, { venue: new FakeVenue('dydx', { contiguousTradeSeq: false }) });
    o.venue.miss(at('a', minute(0, 10, 5)));
    await o.goLive();
    o.venue.redeliver(o.venue.tape[0]!);
    o.venue.trade(at('b', T0 + 600));
    await o.advanceTo(T0 + 1000);
    assert.deepEqual(tradeIds(o.record.trades), ['a', 'b']);
    assert.equal(
      o.venue.rest.calls.filter((c) => c.startsWith('trades')).length,
      1,
      'only the start-up fetch',
    );
  });

  it('fetches the trades a stream that joined late skipped, where trade ids are numbers that only increase', async (t) => {
    // OKX: ids increase with gaps between them, so a jump is no sign of a missed trade and only the overlap shows
    // that the stream continues the REST trades. The trades fetched after the stream's first one are lower than it.
    const s = setup(t, { venue: new FakeVenue('okx', { contiguousTradeSeq: false }) });
    const at = (seq: number, time: number, size = '1') => trade('okx', { seq, time, size });
    s.venue.miss(at(10, minute(0, 10, 5)));
    await s.goLive();
    s.clock.advance(500);
    s.venue.miss(at(20, T0 + 100, '2'), at(30, T0 + 400, '3'));
    s.venue.trade(at(40, T0 + 600, '4'));
    await s.advanceTo(T0 + 1000);
    s.venue.trade(at(50, T0 + 1000, '5'));
    await s.advanceTo(T0 + 2000);
    assert.deepEqual(s.publishedSeqs(), [10, 40, 20, 30, 50], '20 and 30 fetched, each trade once');
    assert.deepEqual(s.published('live').at(-1), { time: minute(0, 10), volume: '15' });
    assert.deepEqual(
      s.record.alerts.map((a) => [a.kind, a.details?.['trades']]),
      [['backfill_done', 2]],
    );
    assert.deepEqual(s.ingest.stats().instruments[SYMBOL]?.openGaps, [], 'nothing left waiting once fetched');

    // Binance numbers its trades without holes, but a REST answer without a trade gives the stream's first one
    // nothing to continue: the trades before it are fetched by time, and they are lower than it.
    const b = setup(t);
    const bAt = (seq: number, time: number) => trade('binance', { seq, time });
    await b.goLive();
    b.clock.advance(500);
    b.venue.miss(bAt(7, T0 + 100), bAt(8, T0 + 400));
    b.venue.trade(bAt(9, T0 + 600));
    await b.advanceTo(T0 + 1000);
    assert.deepEqual(b.publishedSeqs(), [9, 7, 8]);
    assert.deepEqual(b.published('live').at(-1), { time: minute(0, 10), volume: '3' });
  });

  it('fetches the trades between its fetch after an outage and a stream that delivers again only later', async (t) => {
    // The fetch after a reconnect ends when it is made; the resubscription (or a stream that was silent, not gone)
    // may deliver again only after that. Without contiguous ids only the next trade's overlap can tell.
    for (const [venue, at] of [
      ['dydx', (n: number, time: number) => trade('dydx', { id: `t${n}`, time })],
      ['okx', (n: number, time: number) => trade('okx', { seq: n * 10, time })],
    ] as const) {
      const s = setup(t, { venue: new FakeVenue(venue, { contiguousTradeSeq: false }) });
      await s.goLive();
      s.venue.trade(at(1, T0 + 1000));
      await s.advanceTo(T0 + 2000);
      s.venue.disconnect(s.clock.now());
      s.venue.miss(at(2, T0 + 3000));
      await s.advanceTo(T0 + 5000);
      s.venue.connect(s.clock.now());
      await s.advanceTo(T0 + 5500);
      s.venue.miss(at(3, T0 + 5600));
      await s.advanceTo(T0 + 6000);
      s.venue.trade(at(4, T0 + 6000));
      await s.advanceTo(T0 + 7000);
      assert.deepEqual(
        s.record.trades.flatMap((b) => b.trades.map((tr) => tr.id)),
        [1, 2, 4, 3].map((n) => at(n, 0).id),
        `${venue}: the trade between the two fetched too`,
      );
      assert.deepEqual(s.published('live').at(-1), { time: minute(0, 10), volume: '4' }, venue);
      assert.deepEqual(
        s.venue.rest.calls.filter((c) => c.startsWith('trades')).slice(-2),
        [
          `trades {"startTime":${T0 + 1000},"endTime":${T0 + 5000}}`,
          `trades {"startTime":${T0 + 5000},"endTime":${T0 + 6000}}`,
        ],
        venue,
      );
    }
  });

  it('fetches the trades a silent stream lost when the venue kline of their minute has more volume than our bar', async (t) => {
    // The stream stayed open and went on without a trade: no reconnect, no sequence to show it. The venue's
    // closed kline of the minute does.
    // dYdX's ids are no numbers; OKX's are numbers that only increase, and the lost one is below the newest.
    for (const venue of ['okx', 'dydx'] as const) {
      const s = setup(t, { venue: new FakeVenue(venue, { contiguousTradeSeq: false }) });
      const at = (seq: number, time: number, size: string) =>
        trade(venue, venue === 'okx' ? { seq, time, size } : { id: `t${seq}`, time, size });
      await s.goLive();
      s.venue.trade(at(10, minute(0, 10, 35), '1'));
      s.venue.miss(at(20, minute(0, 10, 40), '2'));
      s.venue.trade(at(30, minute(0, 10, 45), '4'));
      await s.advanceTo(minute(0, 11) + 200);
      s.venue.kline(SYMBOL, bar(minute(0, 10), '100', '7'), true, s.clock.now());
      await s.advanceTo(minute(0, 11, 3));
      assert.equal(s.ingest.stats().klineMismatches, 1, venue);
      assert.deepEqual(s.published('closed').at(-1), { time: minute(0, 10), volume: '5' }, venue);
      assert.deepEqual(
        s.published('revised').at(-1),
        { time: minute(0, 10), volume: '7' },
        `${venue}: revised to the venue`,
      );
      assert.deepEqual(
        tradeIds(s.record.trades),
        [10, 30, 20].map((n) => at(n, 0, '1').id),
        venue,
      );
    }

    const s = setup(t, { venue: new FakeVenue('dydx', { contiguousTradeSeq: false }) });
    const at = (id: string, time: number, size: string) => trade('dydx', { id, time, size });
    await s.goLive();

    // More volume in our bar than in the kline: fetching cannot take a trade away; it is reported only.
    s.venue.trade(at('d', minute(0, 11, 10), '1'));
    await s.advanceTo(minute(0, 12) + 200);
    const calls = s.venue.rest.calls.length;
    s.venue.kline(SYMBOL, bar(minute(0, 11), '100', '0.5'), true, s.clock.now());
    await s.advanceTo(minute(0, 12, 3));
    assert.equal(s.ingest.stats().klineMismatches, 1);
    assert.equal(s.venue.rest.calls.length, calls, 'nothing fetched');
  });

  it("fetches the venue's klines of the minutes whose closed kline a silent stream lost, and repairs those bars too", async (t) => {
    // The stream went silent across the end of 00:11 and went on: the trades of the silence and the closed kline of 00:11,
    // sent once when that minute ended, are lost. The next closed kline shows the minute skipped.
    const s = setup(t, { venue: new FakeVenue('okx', { contiguousTradeSeq: false }) });
    const at = (seq: number, time: number, size: string) => trade('okx', { seq, time, size });
    await s.goLive();
    s.venue.trade(at(10, minute(0, 10, 35), '1'));
    await s.advanceTo(minute(0, 11) + 200);
    s.venue.kline(SYMBOL, bar(minute(0, 10), '100', '1'), true, s.clock.now());
    s.venue.trade(at(20, minute(0, 11, 20), '1'));
    s.venue.miss(at(30, minute(0, 11, 50), '2'), at(40, minute(0, 12, 10), '4'));
    s.venue.rest.bars.set('1m', [bar(minute(0, 11), '100', '3')]);
    await s.advanceTo(minute(0, 12, 30));
    s.venue.trade(at(50, minute(0, 12, 30), '1'));
    await s.advanceTo(minute(0, 13) + 200);
    // The venue's REST API fails the first fetch of the skipped kline: it is fetched again 2 s later.
    s.venue.rest.failures = 1;
    s.venue.kline(SYMBOL, bar(minute(0, 12), '100', '5'), true, s.clock.now());
    await s.advanceTo(minute(0, 13, 5));
    assert.deepEqual(
      s.venue.rest.candleWindows.slice(-2),
      [
        ['1m', minute(0, 11), minute(0, 11)],
        ['1m', minute(0, 11), minute(0, 11)],
      ],
      'the skipped minute, fetched again after the failure',
    );
    assert.equal(s.ingest.stats().klineMismatches, 2, '00:11 (fetched) and 00:12 (streamed) were short');
    assert.deepEqual(
      s
        .published('revised')
        .slice(-2)
        .sort((a, b) => a.time - b.time),
      [
        { time: minute(0, 11), volume: '3' },
        { time: minute(0, 12), volume: '5' },
      ],
      "both revised to the venue's",
    );
    assert.deepEqual(
      s.publishedSeqs().sort((a, b) => a - b),
      [10, 20, 30, 40, 50],
    );
  });

  it("fetches the venue's kline of a minute closed with the last state seen of it (Bitget's final row lost)", async (t) => {
    const s = setup(t, { venue: new FakeVenue('bitget', { contiguousTradeSeq: false }) });
    const at = (id: string, time: number, size: string) => trade('bitget', { id, time, size });
    await s.goLive();
    s.venue.trade(at('a', minute(0, 10, 35), '1'));
    await s.advanceTo(minute(0, 10, 40));
    const stale = bar(minute(0, 10), '100', '1');
    s.venue.kline(SYMBOL, stale, false, s.clock.now());
    // The stream is silent from 00:10:50 to 00:11:05: a trade and the final row of 00:10 are lost.
    s.venue.miss(at('b', minute(0, 10, 55), '2'));
    s.venue.rest.bars.set('1m', [bar(minute(0, 10), '100', '3')]);
    await s.advanceTo(minute(0, 11, 5));
    s.venue.kline(SYMBOL, stale, true, s.clock.now(), true);
    await s.advanceTo(minute(0, 11, 10));
    assert.deepEqual(s.venue.rest.candleWindows.at(-1), ['1m', minute(0, 10), minute(0, 10)]);
    assert.equal(s.ingest.stats().klineMismatches, 1, 'the fetched kline, not the stale state, is compared');
    assert.deepEqual(s.published('revised').at(-1), { time: minute(0, 10), volume: '3' });
    assert.deepEqual(tradeIds(s.record.trades), [at('a', 0, '1').id, at('b', 0, '1').id]);
  });

  it('fetches the trades an outage missed when the venue answers again, though numbered trades went on meanwhile', async (t) => {
    const s = setup(t, { venue: new FakeVenue('okx', { contiguousTradeSeq: false }) });
    const at = (seq: number, time: number) => trade('okx', { seq, time });
    await s.goLive();
    s.venue.trade(at(10, T0 + 1000));
    await s.advanceTo(T0 + 2000);
    s.venue.disconnect(s.clock.now());
    s.venue.miss(at(20, T0 + 3000), at(30, T0 + 4000));
    await s.advanceTo(T0 + 5000);
    // The venue's REST API fails the first fetch: the stream goes on, the fetch is retried 2 s later.
    s.venue.rest.failures = 1;
    s.venue.connect(s.clock.now());
    await s.advanceTo(T0 + 5500);
    s.venue.trade(at(40, T0 + 6000));
    await s.advanceTo(T0 + 8000);
    assert.deepEqual(s.publishedSeqs(), [10, 40, 20, 30], 'the missed ones, though lower than 40');
    assert.deepEqual(s.published('live').at(-1), { time: minute(0, 10), volume: '4' });
    assert.deepEqual(s.ingest.stats().instruments[SYMBOL]?.openGaps, []);
  });

  it('counts a trade of a minute that history already holds once, whether the stream or a backfill brings it again', async (t) => {
    // Bitget and dYdX: ids are no sequence, so only the time can tell that a trade is in a seeded bar. The stream
    // opened during 00:09 and held its trades until the history loaded at 00:10:30, whose 00:09 kline holds them.
    const s = setup(t, { venue: new FakeVenue('dydx', { contiguousTradeSeq: false }) });
    const at = (id: string, time: number, size = '1') => trade('dydx', { id, time, size });
    s.venue.rest.bars.set('1m', [...minutes(0, 8).map((time) => bar(time)), bar(minute(0, 9), '100', '7')]);
    s.venue.miss(at('v', minute(0, 9, 10), '4'));
    s.venue.rest.holdTrades();
    const started = s.ingest.start();
    s.venue.connect(minute(0, 9, 40));
    await settle();
    s.venue.trade(at('w', minute(0, 9, 40), '2'), at('x', minute(0, 9, 50)), at('y', minute(0, 10, 20)));
    s.venue.rest.release();
    await started;
    await s.advanceTo(T0 + 1000);
    assert.deepEqual(tradeIds(s.record.trades), ['w', 'x', 'y'], 'every trade is still published once');
    assert.deepEqual(
      s
        .stored()
        .slice(-2)
        .map((b) => [b.time, b.volume]),
      [
        [minute(0, 9), '7'],
        [minute(0, 10), '1'],
      ],
      "the seeded 00:09 holds its trades once: the held ones are not added to the venue's kline again",
    );
    assert.deepEqual(s.published('revised'), [], 'no bar of history is revised');

    // A quiet instrument whose newest trade applied is one of those held: after a reconnect the trades since it are
    // fetched, 00:09's among them (x, which the stream missed). x is published, but 00:09 holds it already.
    const r = setup(t, { venue: new FakeVenue('dydx', { contiguousTradeSeq: false }) });
    r.venue.rest.bars.set('1m', [...minutes(0, 8).map((time) => bar(time)), bar(minute(0, 9), '100', '7')]);
    r.venue.miss(at('v', minute(0, 9, 10), '4'));
    r.venue.rest.holdTrades();
    const rStarted = r.ingest.start();
    r.venue.connect(minute(0, 9, 30));
    await settle();
    r.venue.trade(at('w', minute(0, 9, 40), '2'));
    r.venue.miss(at('x', minute(0, 9, 50)));
    r.venue.rest.release();
    await rStarted;
    await r.advanceTo(T0 + 1000);
    r.venue.disconnect(r.clock.now());
    r.venue.miss(at('z', T0 + 2000, '3'));
    await r.advanceTo(T0 + 5000);
    r.venue.connect(r.clock.now());
    await r.advanceTo(T0 + 6000);
    assert.ok(
      r.venue.rest.calls.includes(`trades {"startTime":${minute(0, 9, 40)},"endTime":${T0 + 5000}}`),
      'the trades since the newest one applied',
    );
    assert.deepEqual(tradeIds(r.record.trades), ['w', 'x', 'z']);
    assert.deepEqual(
      r
        .stored()
        .slice(-2)
        .map((b) => [b.time, b.volume]),
      [
        [minute(0, 9), '7'],
        [minute(0, 10), '3'],
      ],
    );
    assert.deepEqual(r.published('revised'), []);
  });

  it('backfills after a stream gap on a socket that stayed open', async (t) => {
    const s = setup(t);
    await s.goLive();
    s.venue.trade(trade('binance', { seq: 301, time: T0 + 1000 }));
    s.venue.miss(trade('binance', { seq: 302, time: T0 + 2000 }));
    s.venue.event({ kind: 'gap', at: T0 + 3000, from: T0 + 1000, to: T0 + 3000, reason: 'silent' });
    await s.advanceTo(T0 + 3000);
    assert.deepEqual(s.publishedSeqs(), [301, 302]);
    assert.equal(s.ingest.stats().backfills, 1);
  });

  it('reports the connection in one place: its status, not a copy of it', async (t) => {
    const s = setup(t);
    await s.goLive();
    const stats = s.ingest.stats();
    assert.equal(stats.venue, 'binance');
    assert.equal('connected' in stats, false);
    assert.equal(stats.connection?.connected, true);
    s.venue.disconnect(s.clock.now());
    assert.equal(s.ingest.stats().connection?.connected, false);
  });

  it('goes live with each instrument as soon as its own history is applied, while the others still load', async (t) => {
    const ETH = 'ETH/USDT';
    const venue = new FakeVenue('binance');
    venue.rest.bars.set(
      '1m',
      minutes(0, 9).map((time) => bar(time)),
    );
    // The venue's REST answers per instrument; ETH/USDT's history is held back until the test lets it through.
    let releaseEth!: () => void;
    const ethHeld = new Promise<void>((resolve) => (releaseEth = resolve));
    const rest = venue.rest;
    const fetchCandles = rest.fetchCandles.bind(rest);
    const fetchTrades = rest.fetchTrades.bind(rest);
    rest.fetchCandles = async (symbol, interval, query) => {
      if (symbol === ETH) await ethHeld;
      return fetchCandles(symbol, interval, query);
    };
    rest.fetchTrades = async (symbol, query) =>
      (await fetchTrades(symbol, query)).filter((x) => x.symbol === symbol);
    const { clock, ingest, store, record } = setup(t, {
      venue,
      symbols: [SYMBOL, ETH],
      historyConcurrency: 1,
    });
    let started = false;
    const starting = ingest.start().then(() => (started = true));
    venue.connect(T0);
    await settle();

    venue.trade(trade('binance', { seq: 1, time: T0 + 500 }));
    venue.trade({ ...trade('binance', { seq: 1, time: T0 + 600 }), symbol: ETH });
    // The publish timer (every 100 ms) flushes what changed; nothing is flushed by hand.
    clock.advance(1000);
    await settle();
    const live = (symbol: string): number[] =>
      record.candles
        .filter((u) => u.symbol === symbol && u.interval === '1m' && u.state === 'live')
        .map((u) => u.bar.time);
    assert.equal(started, false, 'ETH/USDT is still loading its history');
    assert.deepEqual(live(SYMBOL), [minute(0, 10)], 'BTC/USDT is live meanwhile, on the clock of the venue');
    assert.deepEqual(live(ETH), [], 'ETH/USDT publishes nothing before its history');
    assert.equal(ingest.stats().instruments[ETH]?.accepted, 0, 'its trades are held');

    releaseEth();
    await starting;
    assert.deepEqual(live(ETH), [minute(0, 10)], 'the held trade follows its history');
    assert.deepEqual(
      store.recentSync(ETH, '1m', 1000).map((x) => x.bar.time),
      [...minutes(0, 9), minute(0, 10)],
      'its history is stored, then its live bar',
    );
  });

  it("applies an instrument's start-up history only when its turn comes, its live trades held until then", async (t) => {
    // The turns given out by hand: in `tickwire all` the venues' shared turn budget gives them out.
    const waiting: (() => void)[] = [];
    const s = setup(t, {
      historyTurn: () => new Promise<void>((resolve) => waiting.push(resolve)),
    });
    s.venue.rest.bars.set(
      '1m',
      minutes(0, 9).map((time) => bar(time)),
    );
    let started = false;
    const starting = s.ingest.start().then(() => (started = true));
    s.venue.connect(T0);
    await settle();
    assert.equal(waiting.length, 1, 'the history has arrived and waits for its turn');

    s.venue.trade(trade('binance', { seq: 1, time: T0 + 500 }));
    s.clock.advance(1000);
    await settle();
    assert.equal(started, false);
    assert.deepEqual(s.stored(), [], 'nothing of the history is applied or stored before its turn');
    assert.deepEqual(s.published('live'), [], 'nor anything published');
    assert.equal(s.ingest.stats().instruments[SYMBOL]?.accepted, 0, 'the live trade is held');

    (waiting.shift() as () => void)();
    await starting;
    assert.deepEqual(
      s.stored(),
      [
        ...minutes(0, 9).map((time) => ({ time, volume: '1', backfilled: true })),
        { time: minute(0, 10), volume: '1', backfilled: false },
      ],
      'the history, then the held trade in its live bar',
    );
    assert.deepEqual(s.published('live'), [{ time: minute(0, 10), volume: '1' }]);
  });

  it('stops its timers and its stream on close', async (t) => {
    const s = setup(t);
    await s.goLive();
    assert.ok(s.clock.pending > 0);
    await s.ingest.close();
    assert.equal(s.clock.pending, 0);
    assert.equal(s.venue.streamOpen, false);
  });
});

function tradeIds(batches: readonly { trades: readonly { id: string }[] }[]): string[] {
  return batches.flatMap((b) => b.trades.map((t) => t.id));
}
