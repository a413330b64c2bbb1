import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBus } from '../bus/memory-bus.ts';
import type { Candle, CandleUpdate } from '../domain/candle.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { Interval } from '../domain/interval.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { CompositeCandles, type CandleSource } from './composite-candles.ts';
import { bar, minute, recordBus } from './fake-venue.test-support.ts';

const SYMBOL = 'BTC/USDT';

function update(
  venue: VenueId,
  time: number,
  state: CandleUpdate['state'],
  fields: { price?: string; backfilled?: boolean } = {},
): CandleUpdate {
  return {
    symbol: SYMBOL,
    interval: '1m',
    state,
    bar: bar(time, fields.price),
    sources: [venue],
    backfilled: fields.backfilled ?? false,
  };
}

function setup(active: VenueId) {
  const bus = new MemoryBus();
  const store = new MemoryCandleStore();
  const record = recordBus(bus);
  const state = { active };
  const candles = new CompositeCandles({
    store,
    bus,
    logger: silentLogger(),
    activeOf: () => state.active,
  });
  const stored = (): [number, VenueId[]][] =>
    store.recentSync(SYMBOL, '1m', 100).map((s) => [s.bar.time, [...s.sources]]);
  const published = (): [number, CandleUpdate['state'], VenueId[], boolean][] =>
    record.candles.map((u) => [u.bar.time, u.state, [...u.sources], u.backfilled === true]);
  return { candles, store, state, stored, published };
}

/** A venue's own bars: the 1m ones given, none of the other intervals. */
function source(bars: readonly Candle[]): CandleSource & { asked: [Interval, number][] } {
  const asked: [Interval, number][] = [];
  return {
    asked,
    barsSince(_symbol, interval, since) {
      asked.push([interval, since]);
      return interval === '1m' ? bars.filter((b) => b.time + 60_000 > since) : [];
    },
  };
}

describe('CompositeCandles', () => {
  it("stores and publishes only the active source's bars", async () => {
    const s = setup('binance');
    await s.candles.write('binance', [update('binance', minute(0, 10), 'live')], true);
    await s.candles.write('okx', [update('okx', minute(0, 10), 'live', { price: '101' })], true);
    assert.deepEqual(s.stored(), [[minute(0, 10), ['binance']]]);
    assert.deepEqual(s.published(), [[minute(0, 10), 'live', ['binance'], false]]);
  });

  it('tells a venue whether its bars are the ones published, so that another venue need not build live bars', () => {
    const s = setup('binance');
    assert.equal(s.candles.publishes('binance', SYMBOL), true);
    assert.equal(s.candles.publishes('okx', SYMBOL), false);
    s.state.active = 'okx';
    assert.equal(s.candles.publishes('binance', SYMBOL), false);
    assert.equal(s.candles.publishes('okx', SYMBOL), true);
  });

  it('stores start-up history without publishing it', async () => {
    const s = setup('binance');
    await s.candles.write(
      'binance',
      [update('binance', minute(0, 9), 'closed', { backfilled: true })],
      false,
    );
    assert.deepEqual(s.stored(), [[minute(0, 9), ['binance']]]);
    assert.deepEqual(s.published(), []);
  });

  it("re-publishes the new source's bars from the minute the old one was last alive on a switch: closed ones as revisions, the live one as live", async () => {
    const s = setup('binance');
    await s.candles.write('binance', [update('binance', minute(0, 8), 'closed')], true);
    // okx builds its bars all along; one of them came over REST.
    await s.candles.write('okx', [update('okx', minute(0, 9), 'closed', { backfilled: true })], true);
    assert.deepEqual(s.published(), [[minute(0, 8), 'closed', ['binance'], false]]);

    s.state.active = 'okx';
    const okx = source([bar(minute(0, 8)), bar(minute(0, 9)), bar(minute(0, 10))]);
    await s.candles.takeOver(SYMBOL, 'okx', okx, minute(0, 9, 30));
    assert.deepEqual(okx.asked[0], ['1m', minute(0, 9)], 'from the start of the minute last alive');
    assert.deepEqual(s.published().slice(1), [
      [minute(0, 9), 'revised', ['okx'], true],
      [minute(0, 10), 'live', ['okx'], false],
    ]);
    assert.deepEqual(s.stored(), [
      [minute(0, 8), ['binance']],
      [minute(0, 9), ['okx']],
      [minute(0, 10), ['okx']],
    ]);
    assert.equal(s.candles.stats().takeovers, 1);
  });

  it('remembers the provenance of the newest 16 backfilled bars, whatever order the history arrives in', async () => {
    const s = setup('binance');
    // 20 backfilled minutes from okx: the newest batch first (as the history loads), then a late older one and
    // one inside the kept range again.
    const backfilled = (from: number, to: number): CandleUpdate[] =>
      Array.from({ length: to - from }, (_, i) =>
        update('okx', minute(0, from + i), 'closed', { backfilled: true }),
      );
    await s.candles.write('okx', backfilled(10, 20), false);
    await s.candles.write('okx', backfilled(0, 10), false);
    await s.candles.write('okx', backfilled(12, 13), false);
    s.state.active = 'okx';
    const okx = source(Array.from({ length: 21 }, (_, i) => bar(minute(0, i))));
    await s.candles.takeOver(SYMBOL, 'okx', okx, minute(0, 0));
    const marked = s
      .published()
      .filter(([, , , flag]) => flag)
      .map(([time]) => time);
    assert.deepEqual(
      marked,
      Array.from({ length: 16 }, (_, i) => minute(0, 4 + i)),
      'minutes 4..19 keep their provenance; the live minute 20 was not backfilled',
    );
  });

  it('drops a takeover whose source is no longer active when its turn comes', async () => {
    const s = setup('binance');
    await s.candles.takeOver(SYMBOL, 'okx', source([bar(minute(0, 10))]), minute(0, 10));
    assert.deepEqual(s.published(), []);
    assert.equal(s.candles.stats().takeovers, 0);
  });

  it('decides which venue is active when a write runs, so that an old batch never lands after a takeover', async () => {
    const s = setup('binance');
    // A slow store: the first write holds the queue while the failover switches.
    let releaseStore!: () => void;
    const held = new Promise<void>((resolve) => (releaseStore = resolve));
    const write = s.store.write.bind(s.store);
    s.store.write = async (updates) => {
      await held;
      return write(updates);
    };
    const first = s.candles.write('binance', [update('binance', minute(0, 9), 'closed')], true);
    const late = s.candles.write('binance', [update('binance', minute(0, 10), 'live')], true);
    s.state.active = 'okx';
    const takeover = s.candles.takeOver(SYMBOL, 'okx', source([bar(minute(0, 10))]), minute(0, 10));
    releaseStore();
    await Promise.all([first, late, takeover]);
    assert.deepEqual(s.published(), [[minute(0, 10), 'live', ['okx'], false]]);
    assert.deepEqual(s.stored(), [[minute(0, 10), ['okx']]]);
  });
});
