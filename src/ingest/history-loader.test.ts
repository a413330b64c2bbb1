import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY_MS, MINUTE_MS, WEEK_MS } from '../domain/interval.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { bar, FakeVenue, minute, settle, T0, trade } from './fake-venue.test-support.ts';
import { HistoryLoader, historyUpdates, type StartupHistory } from './history-loader.ts';

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
  it('asks for the closed minutes back to the start of the week, historyBars of every higher interval, then the trades of the minute in progress', async () => {
    const wednesday = T0 + 2 * DAY_MS;
    const s = setup(wednesday);
    const weekStart = minute(0, 0);
    const liveMinute = wednesday - 30_000;
    s.venue.rest.bars.set('1m', [bar(weekStart), bar(liveMinute - MINUTE_MS)]);
    s.venue.rest.bars.set('1W', [bar(weekStart - WEEK_MS)]);
    s.venue.miss(trade('binance', { seq: 7, time: liveMinute + 1000 }));
    assert.equal(await s.load(), true);

    // January 2024 (day 0: 31 December 2023).
    const at = (day: number, hh: number, mm: number): number => Date.UTC(2024, 0, day, hh, mm);
    assert.deepEqual(s.venue.rest.candleWindows, [
      ['1m', weekStart, at(3, 0, 9)],
      ['5m', at(2, 23, 55), at(3, 0, 5)],
      ['15m', at(2, 23, 15), at(2, 23, 45)],
      ['1h', at(2, 21, 0), at(2, 23, 0)],
      ['4h', at(2, 12, 0), at(2, 20, 0)],
      ['1D', at(0, 0, 0), at(2, 0, 0)],
      ['1W', weekStart - 3 * WEEK_MS, weekStart - WEEK_MS],
    ]);
    const [history] = s.loaded;
    assert.equal(history?.liveMinute, liveMinute);
    assert.deepEqual(
      history?.minutes.map((b) => b.time),
      [weekStart, liveMinute - MINUTE_MS],
    );
    assert.deepEqual(
      history?.higher.map(([interval, bars]) => [interval, bars.length]),
      [
        ['5m', 0],
        ['15m', 0],
        ['1h', 0],
        ['4h', 0],
        ['1D', 0],
        ['1W', 1],
      ],
    );
    assert.deepEqual(
      history?.recentTrades.map((t) => t.seq),
      [7],
    );
    const updates = history ? historyUpdates(history, 'binance') : [];
    assert.equal(updates.length, 3);
    assert.ok(
      updates.every((u) => u.state === 'closed' && u.backfilled === true && u.sources.join() === 'binance'),
    );
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
    assert.deepEqual(s.venue.rest.calls, ['candles 1m'], 'not retried');
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
