import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketStart, DAY_MS, INTERVAL_MS, MINUTE_MS, WEEK_MS } from '../domain/interval.ts';

const weekStartOf = (t: number): number => bucketStart('1W', t);
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { bar, FakeVenue, settle, T0, trade } from './fake-venue.test-support.ts';
import { HistoryLoader, historyUpdates, olderPieces, type StartupHistory } from './history-loader.ts';

function setup(now: number) {
  const clock = new ManualClock(now);
  const venue = new FakeVenue('binance');
  const loader = new HistoryLoader({
    venue: 'binance',
    rest: venue.rest,
    historyBars: 3,
    logger: silentLogger(),
    clock,
  });
  const loaded: StartupHistory[] = [];
  const load = (): Promise<boolean> =>
    loader.load('BTC/USDT', async (history) => {
      loaded.push(history);
    });
  return { clock, venue, loader, loaded, load };
}

describe('HistoryLoader', () => {
  it('asks, to go live, for the minutes since the hour at least 30 minutes back and the few closed bars of the longer intervals the open bars are made of, then the trades of the minute in progress', async () => {
    const wednesday = T0 + 2 * DAY_MS;
    const s = setup(wednesday);
    const liveMinute = wednesday - 30_000;
    // January 2024 (day 1: Monday the 1st); the live minute is Wednesday 00:10.
    const at = (day: number, hh: number, mm: number): number => Date.UTC(2024, 0, day, hh, mm);
    s.venue.rest.bars.set('1m', [bar(at(2, 22, 59)), bar(at(2, 23, 0)), bar(liveMinute - MINUTE_MS)]);
    s.venue.rest.bars.set('1h', [bar(at(2, 19, 0)), bar(at(2, 20, 0)), bar(at(2, 22, 0))]);
    s.venue.rest.bars.set('1D', [bar(at(1, 0, 0)), bar(at(2, 0, 0))]);
    s.venue.miss(trade('binance', { seq: 7, time: liveMinute + 1000 }));
    assert.equal(await s.load(), true);

    assert.deepEqual(s.venue.rest.candleWindows, [
      ['1m', at(2, 23, 0), at(3, 0, 9)],
      // 5m, 15m: from 23:00 on, the engine rolls them up from the minutes. 1W: the open week is built.
      ['1h', at(2, 20, 0), at(2, 23, 0)],
      ['4h', at(2, 0, 0), at(2, 20, 0)],
      ['1D', at(1, 0, 0), at(2, 0, 0)],
    ]);
    const [history] = s.loaded;
    assert.equal(history?.liveMinute, liveMinute);
    assert.deepEqual(
      history?.minutes.map((b) => b.time),
      [at(2, 23, 0), liveMinute - MINUTE_MS],
    );
    assert.deepEqual(
      history?.higher.map(([interval, bars]) => [interval, bars.map((b) => b.time)]),
      [
        ['5m', []],
        ['15m', []],
        ['1h', [at(2, 20, 0), at(2, 22, 0)]],
        ['4h', []],
        ['1D', [at(1, 0, 0), at(2, 0, 0)]],
        ['1W', []],
      ],
    );
    assert.deepEqual(
      history?.recentTrades.map((t) => t.seq),
      [7],
    );
    assert.equal(history?.bars, 6);
    const updates = history ? historyUpdates(history, 'binance') : [];
    assert.equal(updates.length, 6);
    assert.ok(
      updates.every((u) => u.state === 'closed' && u.backfilled === true && u.sources.join() === 'binance'),
    );
  });

  it('on a Monday just after midnight, also asks for the closed week that the oldest live minute belongs to', async () => {
    const s = setup(T0);
    assert.equal(await s.load(), true);
    const windows = new Map(s.venue.rest.candleWindows.map(([i, from, to]) => [i, [from, to]]));
    assert.deepEqual(windows.get('1W'), [
      T0 - 30_000 - 10 * MINUTE_MS - WEEK_MS,
      T0 - 30_000 - 10 * MINUTE_MS - WEEK_MS,
    ]);
  });

  it('plans the background history in pieces that end where the start-up bars begin: higher intervals first, then the minutes newest first, a day each', () => {
    const liveMinute = Date.UTC(2024, 0, 3, 14, 37);
    const pieces = olderPieces(liveMinute, 1000);
    const iso = (t: number): string => new Date(t).toISOString().slice(0, 16);
    const higher = pieces.filter((p) => p.interval !== '1m');
    assert.deepEqual(
      higher.map((p) => [p.interval, (p.to - p.from) / INTERVAL_MS[p.interval], iso(p.to)]),
      [
        // The start-up has the minutes from 14:00 (5m and 15m are rolled up from them), the hours from 12:00,
        // the 4h bars from 00:00, the days from Monday.
        ['5m', 1000 - 7, '2024-01-03T14:00'],
        ['15m', 1000 - 2, '2024-01-03T14:00'],
        ['1h', 1000 - 2, '2024-01-03T12:00'],
        ['4h', 1000 - 3, '2024-01-03T00:00'],
        ['1D', 1000 - 2, '2024-01-01T00:00'],
        ['1W', 1000, '2024-01-01T00:00'],
      ],
    );
    const minutes = pieces.filter((p) => p.interval === '1m').map((p) => [iso(p.from), iso(p.to)]);
    assert.deepEqual(minutes, [
      ['2024-01-03T00:00', '2024-01-03T14:00'],
      ['2024-01-02T00:00', '2024-01-03T00:00'],
      ['2024-01-01T00:00', '2024-01-02T00:00'],
    ]);
    // With more 1m bars asked for than the week holds, further back, still a day a piece.
    const longer = olderPieces(liveMinute, 5000).filter((p) => p.interval === '1m');
    assert.equal(longer.length, 4, 'three days and the rest of Sunday');
    assert.equal(longer.at(-1)?.from, liveMinute - 5000 * MINUTE_MS);
    assert.ok(longer.every((p) => p.to - p.from <= DAY_MS));
  });

  it('loads the background history piece by piece, retrying a failed piece alone and keeping the pieces done', async () => {
    const wednesday = T0 + 2 * DAY_MS;
    const s = setup(wednesday);
    const liveMinute = wednesday - 30_000;
    const oldest = Date.UTC(2024, 0, 2, 23, 0);
    s.venue.rest.bars.set('1m', [bar(weekStartOf(wednesday)), bar(oldest - MINUTE_MS), bar(oldest)]);
    const written: [string, number[]][] = [];
    const loading = s.loader.loadOlder('BTC/USDT', liveMinute, async (updates) => {
      written.push([updates[0]?.interval ?? 'none', updates.map((u) => u.bar.time)]);
      // The request after the second piece fails.
      if (written.length === 2) s.venue.rest.failures = 1;
    });
    await settle();
    assert.equal(written.length, 2);
    assert.equal(s.clock.pending, 1, 'waiting to retry the third piece');
    s.clock.advance(1000);
    assert.equal(await loading, true);

    const pieces = olderPieces(liveMinute, 3);
    const windows = s.venue.rest.candleWindows;
    assert.equal(windows.length, pieces.length + 1, 'one request per piece, and the failed one again');
    assert.deepEqual(windows[3], windows[2], 'the failed piece alone is asked again');
    assert.equal(written.length, pieces.length);
    const minutes = written.filter(([i]) => i === '1m').flatMap(([, times]) => times);
    assert.deepEqual(
      minutes,
      [oldest - MINUTE_MS, weekStartOf(wednesday)],
      'newest day first; the minutes the instrument went live with are not written again',
    );
  });

  it('hands a large background piece to the store in slices, in order, every bar once', async () => {
    const wednesday = T0 + 2 * DAY_MS;
    const s = setup(wednesday);
    const liveMinute = wednesday - 30_000;
    // The newest 1m piece is Tuesday up to 23:00 (the minutes the instrument went live with follow): 600 of its bars.
    const oldest = Date.UTC(2024, 0, 2, 23, 0);
    const times = Array.from({ length: 600 }, (_, i) => oldest - (600 - i) * MINUTE_MS);
    s.venue.rest.bars.set(
      '1m',
      times.map((t) => bar(t)),
    );
    const slices: number[][] = [];
    const loading = s.loader.loadOlder('BTC/USDT', liveMinute, async (updates) => {
      if (updates[0]?.interval === '1m') slices.push(updates.map((u) => u.bar.time));
    });
    assert.equal(await loading, true);
    assert.deepEqual(
      slices.map((slice) => slice.length),
      [240, 240, 120],
    );
    assert.deepEqual(slices.flat(), times);
  });

  it("stores a large background piece's slices after the first under its slice turn", async () => {
    const clock = new ManualClock(T0 + 2 * DAY_MS);
    const venue = new FakeVenue('binance');
    const oldest = Date.UTC(2024, 0, 2, 23, 0);
    venue.rest.bars.set(
      '1m',
      Array.from({ length: 600 }, (_, i) => bar(oldest - (600 - i) * MINUTE_MS)),
    );
    const events: string[] = [];
    const loader: HistoryLoader = new HistoryLoader({
      venue: 'binance',
      rest: venue.rest,
      historyBars: 3,
      logger: silentLogger(),
      clock,
      sliceTurn: async (owner): Promise<void> => {
        assert.equal(owner, loader);
        events.push('turn');
      },
    });
    const loading = loader.loadOlder('BTC/USDT', T0 + 2 * DAY_MS - 30_000, async (updates) => {
      if (updates[0]?.interval === '1m') events.push(`write ${updates.length}`);
    });
    assert.equal(await loading, true);
    assert.deepEqual(events, ['write 240', 'turn', 'write 240', 'turn', 'write 120']);
  });

  it('fetches each background piece only once the store has room for it', async () => {
    const clock = new ManualClock(T0 + 2 * DAY_MS);
    const venue = new FakeVenue('binance');
    const rooms: (() => void)[] = [];
    const loader = new HistoryLoader({
      venue: 'binance',
      rest: venue.rest,
      historyBars: 3,
      logger: silentLogger(),
      clock,
      room: () => new Promise<void>((resolve) => rooms.push(resolve)),
    });
    let written = 0;
    const loading = loader.loadOlder('BTC/USDT', T0 + 2 * DAY_MS - 30_000, async () => {
      written++;
    });
    await settle();
    assert.deepEqual(venue.rest.calls, [], 'nothing fetched while the store has no room');
    assert.equal(rooms.length, 1);
    rooms.shift()?.();
    await settle();
    assert.equal(venue.rest.calls.length, 1);
    assert.equal(written, 1);
    assert.equal(rooms.length, 1, 'the next piece waits for room again');
    const pieces = olderPieces(T0 + 2 * DAY_MS - 30_000, 3).length;
    for (let i = 1; i < pieces; i++) {
      rooms.shift()?.();
      await settle();
    }
    assert.equal(await loading, true);
    assert.equal(venue.rest.calls.length, pieces);
    assert.equal(written, pieces);
  });

  it('writes nothing of a background piece that arrives after close', async () => {
    const s = setup(T0 + 2 * DAY_MS);
    const written: number[] = [];
    const loading = s.loader.loadOlder('BTC/USDT', T0 + 2 * DAY_MS - 30_000, async (updates) => {
      written.push(updates.length);
    });
    // The first request is under way (its answer is a microtask away) when the loader closes.
    s.loader.close();
    assert.equal(await loading, false);
    assert.deepEqual(written, []);
    assert.equal(s.venue.rest.calls.length, 1);
  });

  it('writes no further slice of a large background piece once closed', async () => {
    const wednesday = T0 + 2 * DAY_MS;
    const s = setup(wednesday);
    const oldest = Date.UTC(2024, 0, 2, 23, 0);
    const times = Array.from({ length: 600 }, (_, i) => oldest - (600 - i) * MINUTE_MS);
    s.venue.rest.bars.set(
      '1m',
      times.map((t) => bar(t)),
    );
    const slices: number[] = [];
    const loading = s.loader.loadOlder('BTC/USDT', wednesday - 30_000, async (updates) => {
      if (updates[0]?.interval !== '1m') return;
      slices.push(updates.length);
      // The loader closes while the first slice is being written (a shutdown under way).
      s.loader.close();
    });
    assert.equal(await loading, false);
    assert.deepEqual(slices, [240], 'the slice under way, none after it');
  });

  it('applies nothing of a start-up history that arrives after close', async () => {
    const s = setup(T0);
    const loading = s.load();
    // The requests are under way (their answers are microtasks away) when the loader closes.
    s.loader.close();
    assert.equal(await loading, false);
    assert.deepEqual(s.loaded, []);
  });

  it('on close, wakes a load that waits to retry and ends it', async () => {
    const s = setup(T0);
    s.venue.rest.failures = 1;
    const loading = s.load();
    await settle();
    assert.equal(s.clock.pending, 1, 'waiting to retry');
    s.loader.close();
    assert.equal(await loading, false);
    assert.equal(s.clock.pending, 0);
    assert.deepEqual(
      s.venue.rest.calls,
      ['candles 1m', 'candles 1h', 'candles 4h', 'candles 1D', 'candles 1W'],
      'one attempt (its requests at once), not retried',
    );
    assert.deepEqual(s.loaded, []);
  });

  it('repeats the whole load when applying it fails', async () => {
    const s = setup(T0);
    let applyFailures = 1;
    const loading = s.loader.load('BTC/USDT', async (history) => {
      if (applyFailures-- > 0) throw new Error('store unavailable');
      s.loaded.push(history);
    });
    await settle();
    s.clock.advance(1000);
    assert.equal(await loading, true);
    assert.equal(s.loaded.length, 1);
    assert.equal(s.venue.rest.calls.filter((c) => c === 'candles 1m').length, 2);
  });

  it('refuses a historyBars that is not a positive integer', () => {
    assert.throws(
      () =>
        new HistoryLoader({
          venue: 'binance',
          rest: new FakeVenue('binance').rest,
          historyBars: 0,
          logger: silentLogger(),
          clock: new ManualClock(T0),
        }),
      /HistoryLoader: historyBars must be a positive integer, got 0/,
    );
  });
});
