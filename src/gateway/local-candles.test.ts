import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { MemoryBus } from '../bus/memory-bus.ts';
import type { Interval } from '../domain/interval.ts';
import { CompositeCandles, localCandleSource } from '../ingest/composite-candles.ts';
import { bar, FakeVenue, minute, recordBus, settle, T0, trade } from '../ingest/fake-venue.test-support.ts';
import { VenueIngest } from '../ingest/venue-ingest.ts';
import { MemoryCandleStore } from '../store/memory-candle-store.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { BusIntake } from './bus-intake.ts';
import { CandleRooms } from './candle-rooms.ts';
import { ClientErrors } from './client-errors.ts';
import { ParsedSink } from './parsed-sink.test-support.ts';
import { unlimitedTurns } from '../util/turn-budget.test-support.ts';

const SYMBOL = 'BTC/USDT';
/** A bar's time as the protocol writes it. */
const at = (hh: number, mm: number): string => new Date(minute(hh, mm)).toISOString();

/**
 * One venue's ingest (its composite candles) and a gateway's candle rooms on one in-process bus; `local`: the rooms
 * tell the composite which series they hold, as `tickwire all` without Redis wires them.
 */
async function setup(t: TestContext, local: boolean) {
  const clock = new ManualClock(T0);
  const bus = new MemoryBus();
  const logger = silentLogger();
  const venue = new FakeVenue('binance');
  venue.rest.bars.set(
    '1m',
    Array.from({ length: 10 }, (_, i) => bar(minute(0, i))),
  );
  const store = new MemoryCandleStore();
  const candles = new CompositeCandles({ store, bus, logger, activeOf: () => venue.venue });
  const ingest = new VenueIngest({
    adapter: venue,
    symbols: [SYMBOL],
    candles,
    bus,
    logger,
    closeGraceMs: 2000,
    historyBars: 3,
    clock,
  });
  const rooms = new CandleRooms({
    store,
    clock,
    logger,
    errors: new ClientErrors(),
    throttleMs: 1000,
    closeGraceMs: 2000,
    historyStatus: { view: () => ({ instruments: [] }), inStartup: () => false },
    ...(local ? { localCandles: localCandleSource(candles) } : {}),
    writeTurns: unlimitedTurns(),
  });
  const stopListening = rooms.listen(new BusIntake(bus, logger));
  const record = recordBus(bus);
  t.after(async () => {
    stopListening();
    rooms.stop();
    await ingest.close();
  });
  const started = ingest.start();
  venue.connect(clock.now());
  await settle();
  await started;
  let seq = 100;
  /** A trade at `price` now, then time moves on by `ms` and every timer's work finishes. */
  const tradeAndWait = async (price: string, ms: number): Promise<void> => {
    venue.trade(trade('binance', { seq: ++seq, time: clock.now(), price }));
    await settle();
    clock.advance(ms);
    await settle();
    await ingest.flush();
    await settle();
  };
  return { clock, rooms, record, store, tradeAndWait };
}

/** The same trades and the same subscriber, in a room opened late: what the client got, what the bus carried. */
async function scenario(t: TestContext, local: boolean) {
  const s = await setup(t, local);
  const sub = (interval: Interval) =>
    ({ type: 'subscribe', symbol: SYMBOL, interval, initialBars: 3 }) as const;
  // No room yet: the live bar of 00:10 moves, then 00:11 opens.
  await s.tradeAndWait('101', 1000);
  await s.tradeAndWait('102', 1000);
  await s.tradeAndWait('103', 29_000);
  await s.tradeAndWait('104', 1000);
  const before = s.record.candles.length;

  const client = new ParsedSink();
  s.rooms.subscribe(client, sub('1m'));
  await settle();
  await s.tradeAndWait('105', 1000);
  await s.tradeAndWait('106', 1000);
  // Into 00:12: 00:11 closes with 107 and 00:12 opens.
  await s.tradeAndWait('107', 60_000);
  await s.tradeAndWait('108', 2000);
  // The room's throttle lets the newest state out.
  s.clock.advance(1000);
  await settle();
  const whileWatched = s.record.candles.slice(before);

  s.rooms.unsubscribe(client, { type: 'unsubscribe', symbol: SYMBOL, interval: '1m' });
  const afterClose = s.record.candles.length;
  await s.tradeAndWait('109', 1000);
  await s.tradeAndWait('110', 1000);
  const stored = s.store.recentSync(SYMBOL, '1m', 1000).map((c) => [c.bar.time, String(c.bar.close)]);
  return {
    got: client.got,
    before,
    whileWatched,
    afterCloseCount: s.record.candles.length - afterClose,
    stored,
  };
}

describe('candles of the in-process composite, published while a gateway room holds their series', () => {
  it('publishes nothing unwatched, and a room opened later gets the same initial and updates', async (t) => {
    const gated = await scenario(t, true);
    const every = await scenario(t, false);

    assert.equal(gated.before, 0, 'no candle update is published while no room holds its series');
    assert.ok(every.before > 0, 'without the rooms saying what they hold, every update is published');

    // The client cannot tell the difference: the same `initial` (from the store) and the same `update`s.
    assert.deepEqual(gated.got, every.got);
    const types = gated.got.map((m) => m['type']);
    assert.equal(types[0], 'initial');
    const initialBars = gated.got[0]?.['bars'] as { time: string; close: number }[];
    assert.deepEqual(
      initialBars.map((b) => [b.time, b.close]),
      [
        [at(0, 9), 100],
        [at(0, 10), 103],
        [at(0, 11), 104],
      ],
      'initial holds what was stored while nothing was published',
    );
    const updates = gated.got
      .filter((m) => m['type'] === 'update')
      .map((m) => {
        const b = m['bar'] as { time: string; close: number; closed: boolean };
        return [b.time, b.close, b.closed];
      });
    assert.deepEqual(updates.at(-1), [at(0, 12), 108, false]);
    assert.ok(
      updates.some(([time, close, closed]) => time === at(0, 11) && close === 107 && closed === true),
      'the bar that closed while the room was open was sent closed',
    );

    // While the room was open only its series was published; after it closed, nothing.
    assert.ok(gated.whileWatched.length > 0);
    assert.deepEqual(
      new Set(gated.whileWatched.map((u) => `${u.symbol}:${u.interval}`)),
      new Set([`${SYMBOL}:1m`]),
    );
    assert.ok(
      new Set(every.whileWatched.map((u) => u.interval)).size > 1,
      'every interval is published without',
    );
    assert.equal(gated.afterCloseCount, 0, 'nothing is published after the last room closed');
    assert.ok(every.afterCloseCount > 0);

    // Every bar is stored either way.
    assert.deepEqual(gated.stored, every.stored);
  });
});
