import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { VenueId } from '../domain/instrument.ts';
import { startSimulator } from '../sim/simulator.ts';
import { waitUntil } from '../sim/test-kit.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { createVenueAdapter } from '../venues/registry.ts';
import type { MarketStream } from '../venues/venue.ts';
import { FailoverController, type FailoverEvent, type FailoverOptions } from './failover.ts';
import { SourceHealth } from './source-health.ts';

const T0 = 1_700_000_000_000;
const EVAL_MS = 250;

/**
 * A fake-clock harness: venues that are "up" send a message every 100 ms; the controller is evaluated every
 * 250 ms, as the ingest's timer does.
 */
class Harness {
  now = T0;
  readonly events: FailoverEvent[] = [];
  readonly controller: FailoverController;
  private readonly up = new Set<VenueId>();
  private readonly frozen = new Set<VenueId>();

  constructor(venues: readonly VenueId[], options: Partial<FailoverOptions> = {}) {
    this.controller = new FailoverController({
      instrument: 'BTC/USDT',
      sources: venues.map((v) => new SourceHealth(v)),
      primary: venues[0]!,
      startupGraceMs: 1000,
      ...options,
    });
    this.controller.on((e) => this.events.push(e));
  }

  h(venue: VenueId): SourceHealth {
    return this.controller.source(venue)!;
  }

  connect(venue: VenueId): void {
    this.up.add(venue);
    this.h(venue).onConnection(true, this.now);
    this.h(venue).onMessage(this.now);
    this.controller.evaluate(this.now);
  }

  disconnect(venue: VenueId): void {
    this.up.delete(venue);
    this.h(venue).onConnection(false, this.now);
    this.controller.evaluate(this.now);
  }

  /** The connection stays up but the symbol sends nothing. */
  freeze(venue: VenueId): void {
    this.frozen.add(venue);
  }

  unfreeze(venue: VenueId): void {
    this.frozen.delete(venue);
  }

  /** Advances the clock in 50 ms steps, delivering messages and running the evaluation timer. */
  advance(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += 50;
      if ((this.now - T0) % 100 === 0)
        for (const v of this.up) if (!this.frozen.has(v)) this.h(v).onMessage(this.now);
      if ((this.now - T0) % EVAL_MS === 0) this.controller.evaluate(this.now);
    }
  }

  switches(): FailoverEvent[] {
    return this.events.filter((e) => e.type === 'sourceSwitch');
  }

  failures(): FailoverEvent[] {
    return this.events.filter((e) => e.type === 'failover_failed');
  }
}

function threeVenues(options: Partial<FailoverOptions> = {}): Harness {
  const h = new Harness(['binance', 'okx', 'bitget'], options);
  h.connect('binance');
  h.connect('okx');
  h.connect('bitget');
  h.advance(1000);
  return h;
}

test('starts on the primary and stays there while it is healthy', () => {
  const h = threeVenues();
  h.advance(30_000);
  assert.equal(h.controller.activeSource, 'binance');
  assert.deepEqual(h.switches(), []);
  assert.deepEqual(h.events, [], 'a source that starts healthy raises no health event');
});

test('a disconnect of the active source switches at once, in the same evaluation', () => {
  const h = threeVenues();
  const at = h.now;
  h.disconnect('binance');
  assert.equal(h.controller.activeSource, 'okx');
  const [sw] = h.switches();
  assert.deepEqual(sw, {
    type: 'sourceSwitch',
    instrument: 'BTC/USDT',
    from: 'binance',
    to: 'okx',
    reason: 'binance disconnected',
    at,
    detectMs: 0,
  });
  h.advance(5000);
  assert.equal(h.switches().length, 1, 'one event per transition, no storm while the fault lasts');
  assert.deepEqual(
    h.events.filter((e) => e.type === 'sourceHealth'),
    [
      {
        type: 'sourceHealth',
        instrument: 'BTC/USDT',
        source: 'binance',
        healthy: false,
        reason: 'disconnected',
        at,
      },
    ],
  );
});

test('a frozen symbol switches within staleAfterMs + one evaluation period of its last message', () => {
  const h = threeVenues();
  h.freeze('binance');
  const lastMessage = h.h('binance').status(h.now).lastUpdate!;
  h.advance(15_000);
  const [sw] = h.switches();
  assert.ok(sw && sw.type === 'sourceSwitch');
  assert.equal(sw.to, 'okx');
  assert.equal(sw.reason, 'binance stale');
  const observable = lastMessage + 10_000;
  assert.ok(sw.at >= observable, 'not before the staleness limit');
  assert.ok(
    sw.at - observable <= EVAL_MS,
    `switched ${sw.at - observable} ms after the fault was observable`,
  );
});

test('high latency and an error burst on the active source switch at the next evaluation', () => {
  const h = threeVenues();
  h.h('binance').onLatency(6000, 'ping', h.now);
  h.advance(EVAL_MS);
  assert.equal(h.controller.activeSource, 'okx');
  const first = h.switches()[0];
  assert.ok(first?.type === 'sourceSwitch' && first.detectMs === EVAL_MS, 'detected at the next evaluation');
  assert.equal(h.switches()[0]?.type === 'sourceSwitch' && h.switches()[0]?.reason, 'binance high-latency');
  for (let i = 0; i < 5; i++) h.h('okx').onError(h.now);
  h.advance(EVAL_MS);
  assert.equal(h.controller.activeSource, 'bitget');
});

test('ranking: healthy first, then the primary, then lowest latency, then freshest', () => {
  // Lowest latency wins among healthy non-primary alternatives.
  let h = threeVenues();
  h.h('okx').onLatency(400, 'ping');
  h.h('bitget').onLatency(80, 'ping');
  h.disconnect('binance');
  assert.equal(h.controller.activeSource, 'bitget');

  // A healthy alternative beats a lower-latency unhealthy one.
  h = threeVenues();
  h.h('okx').onLatency(400, 'ping');
  h.h('bitget').onLatency(80, 'ping');
  h.freeze('bitget');
  h.advance(10_000);
  h.disconnect('binance');
  assert.equal(h.controller.activeSource, 'okx');

  // Equal latency: the freshest last message wins.
  h = new Harness(['binance', 'okx', 'bitget']);
  h.connect('binance');
  h.connect('okx');
  h.connect('bitget');
  h.freeze('okx');
  h.advance(2000);
  h.disconnect('binance');
  assert.equal(h.controller.activeSource, 'bitget');

  // The primary is preferred over an equally healthy, faster alternative when the active one fails.
  h = threeVenues({ holdDownMs: 60_000 });
  h.disconnect('binance');
  assert.equal(h.controller.activeSource, 'okx');
  h.connect('binance');
  h.h('bitget').onLatency(1, 'ping');
  h.h('binance').onLatency(900, 'ping');
  h.advance(1000);
  h.disconnect('okx');
  assert.equal(
    h.controller.activeSource,
    'binance',
    'primary first, hold-down or not, once the active one fails',
  );
});

test('switches back to the primary only after it stayed healthy for the hold-down', () => {
  const h = threeVenues({ holdDownMs: 3000 });
  h.disconnect('binance');
  h.advance(5000);
  h.connect('binance');
  const back = h.now;
  h.advance(2750);
  assert.equal(h.controller.activeSource, 'okx', 'still inside the hold-down');
  h.advance(500);
  assert.equal(h.controller.activeSource, 'binance');
  const last = h.switches().at(-1);
  assert.ok(last && last.type === 'sourceSwitch');
  assert.equal(last.detectMs, undefined, 'switching back is no fault detection');
  assert.deepEqual([last.from, last.to, last.reason], ['okx', 'binance', 'primary recovered']);
  assert.ok(last.at - back >= 3000 && last.at - back <= 3000 + EVAL_MS);
});

test('a primary that flaps during the hold-down does not take over', () => {
  const h = threeVenues({ holdDownMs: 3000 });
  h.disconnect('binance');
  for (let i = 0; i < 5; i++) {
    h.connect('binance');
    h.advance(2000);
    h.disconnect('binance');
    h.advance(500);
  }
  assert.equal(h.controller.activeSource, 'okx');
  assert.equal(h.switches().length, 1, 'only the first failover');
  h.connect('binance');
  h.advance(3250);
  assert.equal(h.controller.activeSource, 'binance');
});

test('failover_failed once when no source is healthy; again only after a recovery in between', () => {
  const h = new Harness(['binance', 'okx']);
  h.connect('binance');
  h.connect('okx');
  h.advance(1000);
  h.disconnect('okx');
  h.disconnect('binance');
  assert.equal(h.controller.activeSource, 'binance', 'nothing better to switch to');
  h.advance(10_000);
  const failures = h.failures();
  assert.equal(failures.length, 1);
  assert.deepEqual(failures[0], {
    type: 'failover_failed',
    instrument: 'BTC/USDT',
    active: 'binance',
    reason: 'no healthy source: binance disconnected, okx disconnected',
    at: failures[0]!.at,
  });
  assert.equal(h.controller.snapshot(h.now).failed, true);
  h.connect('okx');
  assert.equal(h.controller.activeSource, 'okx');
  assert.equal(h.controller.snapshot(h.now).failed, false);
  h.disconnect('okx');
  assert.equal(h.failures().length, 2);
});

test('with no healthy source, the least degraded one is used (connected but slow beats disconnected)', () => {
  const h = threeVenues();
  h.h('okx').onLatency(8000, 'ping');
  h.disconnect('bitget');
  h.disconnect('binance');
  assert.equal(h.controller.activeSource, 'okx');
  assert.equal(h.failures().length, 1);
  const sw = h.switches()[0];
  assert.ok(sw && sw.type === 'sourceSwitch');
  assert.match(sw.reason, /^binance disconnected; no healthy source/);
  h.h('okx').onLatency(100, 'ping');
  h.advance(EVAL_MS);
  assert.equal(h.switches().length, 1, 'recovering in place is no switch');
  assert.equal(h.controller.snapshot(h.now).failed, false);
});

test('a single source reports failover_failed when it fails and never switches', () => {
  const h = new Harness(['dydx']);
  h.connect('dydx');
  h.advance(1000);
  h.disconnect('dydx');
  h.advance(5000);
  assert.equal(h.failures().length, 1);
  assert.equal(h.switches().length, 0);
});

test('with failover disabled the primary stays active and health is still reported', () => {
  const h = threeVenues({ enabled: false });
  h.disconnect('binance');
  h.advance(20_000);
  assert.equal(h.controller.activeSource, 'binance');
  assert.equal(h.switches().length, 0);
  assert.equal(h.failures().length, 0);
  assert.equal(h.events.filter((e) => e.type === 'sourceHealth').length, 1);
  const snap = h.controller.snapshot(h.now);
  assert.equal(snap.failoverEnabled, false);
  assert.equal(snap.healthy, false);
});

test('start-up grace: a primary that has not connected yet is not abandoned, then is after the grace', () => {
  const h = new Harness(['binance', 'okx'], { startupGraceMs: 5000 });
  h.controller.evaluate(h.now);
  h.connect('okx');
  h.advance(4000);
  assert.equal(h.controller.activeSource, 'binance');
  assert.deepEqual(h.events, [], 'no alarm while venues are still connecting');
  h.advance(1000);
  assert.equal(h.controller.activeSource, 'okx');
  h.connect('binance');
  h.advance(3000);
  assert.equal(h.controller.activeSource, 'binance', 'and back once the primary is up for the hold-down');
});

test('health events: one per transition of each source, including recovery', () => {
  const h = threeVenues();
  h.freeze('bitget');
  h.advance(12_000);
  h.unfreeze('bitget');
  h.advance(1000);
  const health = h.events.filter((e) => e.type === 'sourceHealth');
  assert.deepEqual(
    health.map((e) => e.type === 'sourceHealth' && [e.source, e.healthy, e.reason]),
    [
      ['bitget', false, 'stale'],
      ['bitget', true, null],
    ],
  );
});

test('snapshot: the health endpoint fields and per-source detail', () => {
  const h = threeVenues();
  h.disconnect('bitget');
  const snap = h.controller.snapshot(h.now);
  assert.equal(snap.healthy, true);
  assert.equal(snap.activeSource, 'binance');
  assert.equal(snap.connectedSources, 2);
  assert.equal(snap.totalSources, 3);
  assert.deepEqual(
    snap.sources.map((s) => [s.exchange, s.connected, s.healthy]),
    [
      ['binance', true, true],
      ['okx', true, true],
      ['bitget', false, false],
    ],
  );
});

test('a listener that throws neither stops the switch nor the other listeners', () => {
  const errors: unknown[] = [];
  const h = new Harness(['binance', 'okx'], { onListenerError: (e) => errors.push(e) });
  h.controller.on(() => {
    throw new Error('boom');
  });
  const seen: FailoverEvent[] = [];
  h.controller.on((e) => seen.push(e));
  h.connect('binance');
  h.connect('okx');
  h.disconnect('binance');
  assert.equal(h.controller.activeSource, 'okx');
  assert.ok(seen.some((e) => e.type === 'sourceSwitch'));
  assert.ok(errors.length >= 1);
});

test('rejects a primary that is not a source, duplicate venues, no sources and bad timings', () => {
  const s = (v: VenueId): SourceHealth => new SourceHealth(v);
  assert.throws(
    () => new FailoverController({ instrument: 'BTC/USDT', sources: [s('okx')], primary: 'binance' }),
    /primary binance is not one of the sources \(okx\)/,
  );
  assert.throws(
    () => new FailoverController({ instrument: 'X/Y', sources: [s('okx'), s('okx')], primary: 'okx' }),
    /listed twice/,
  );
  assert.throws(
    () => new FailoverController({ instrument: 'X/Y', sources: [], primary: 'okx' }),
    /no sources/,
  );
  assert.throws(
    () => new FailoverController({ instrument: 'X/Y', sources: [s('okx')], primary: 'okx', holdDownMs: -1 }),
    /holdDownMs/,
  );
});

/*
 * Against the exchange simulator on loopback with the real venue adapters. Simulator, adapters and controller share
 * one ManualClock (the controller evaluated every 250 ms on it, as the ingest's timer does): the fault is injected,
 * and the switch must follow within the 2 s detection-plus-switch budget of that clock, however slow the machine.
 */
test('simulator: disconnect, frozen symbol and primary recovery switch within the 2 s budget', async (t) => {
  const symbol = 'BTC/USDT';
  const clock = new ManualClock(Date.UTC(2026, 2, 11, 10));
  const sim = await startSimulator({
    symbols: [symbol],
    historyDays: 1,
    tradesPerSecond: 20,
    // Tickwire asks a venue for the trades of the minute in progress and of an outage's gap: half an hour
    // of individual trades covers the test, where the default two hours cost CPU at start.
    tradeWindowMs: 30 * 60_000,
    seed: 7,
    now: clock.now,
  });
  const streams: MarketStream[] = [];
  t.after(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await sim.close();
  });
  const venues = ['binance', 'okx'] as const;
  const controller = new FailoverController({
    instrument: symbol,
    sources: venues.map((v) => new SourceHealth(v, { staleAfterMs: 1500 })),
    primary: 'binance',
    holdDownMs: 500,
    startupGraceMs: 5000,
  });
  const events: FailoverEvent[] = [];
  controller.on((e) => events.push(e));
  /** Exchange time of the newest trade each venue delivered. */
  const delivered = new Map<VenueId, number>();
  for (const venue of venues) {
    const health = controller.source(venue)!;
    const adapter = createVenueAdapter(venue, sim.urls[venue], silentLogger(), clock);
    streams.push(
      adapter.openMarketStream(
        [symbol],
        {
          trade: (trade) => {
            health.onData(trade.receivedAt, trade.time);
            delivered.set(venue, Math.max(delivered.get(venue) ?? 0, trade.time));
          },
          status: (status) => {
            health.onStatus(status);
            controller.evaluate(clock.now());
          },
          event: (event) => health.onStreamEvent(event),
        },
        { channels: ['trades'] },
      ),
    );
  }
  clock.setInterval(() => controller.evaluate(clock.now()), EVAL_MS);

  /**
   * Moves the clock 50 ms at a time (the simulator trading up to it) until `done()`. Before each step it waits
   * until every venue in `flowing` has delivered what the simulator made a second ago, so that a slow machine
   * never lets the clock run ahead of the sockets and make a live source look stale.
   */
  const driveUntil = async (done: () => boolean, flowing: readonly VenueId[]): Promise<void> => {
    for (let steps = 0; !done(); steps++) {
      assert.ok(steps < 1_000, 'the awaited switch did not come within 50 s of the clock');
      for (const venue of flowing) {
        await waitUntil(() => (delivered.get(venue) ?? 0) >= clock.now() - 1000, 10_000);
      }
      clock.advance(50);
      sim.advance();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const healthy = (v: VenueId): boolean => controller.source(v)!.check(clock.now()) === null;
  await waitUntil(() => healthy('binance') && healthy('okx'), 10_000);
  await driveUntil(() => delivered.has('binance') && delivered.has('okx'), []);

  const switches = (): number => events.filter((e) => e.type === 'sourceSwitch').length;
  const switchAfter = async (
    inject: () => void,
    count: number,
    flowing: readonly VenueId[],
  ): Promise<FailoverEvent & { type: 'sourceSwitch' }> => {
    inject();
    await driveUntil(() => switches() >= count, flowing);
    const sw = events.filter((e) => e.type === 'sourceSwitch')[count - 1];
    assert.ok(sw?.type === 'sourceSwitch');
    return sw;
  };

  // Disconnect of the primary: measured from the moment of the drop; the clock stands still until the switch.
  const dropAt = clock.now();
  assert.ok(sim.faults.dropConnections('binance') >= 1);
  await waitUntil(() => switches() >= 1, 10_000);
  const off = events.find((e) => e.type === 'sourceSwitch');
  assert.ok(off?.type === 'sourceSwitch');
  assert.deepEqual([off.from, off.to, off.reason], ['binance', 'okx', 'binance disconnected']);
  assert.ok(off.at - dropAt < 2000, `disconnect → switch took ${off.at - dropAt} ms`);

  // The primary reconnects on its own and takes over after the hold-down.
  const back = await switchAfter(() => undefined, 2, ['okx']);
  assert.deepEqual([back.from, back.to, back.reason], ['okx', 'binance', 'primary recovered']);

  // A frozen symbol on the primary: stale after 1.5 s of silence, switched well within 2 s of that.
  const frozen = await switchAfter(() => sim.faults.freezeSymbol('binance', symbol), 3, ['okx']);
  assert.deepEqual([frozen.from, frozen.to, frozen.reason], ['binance', 'okx', 'binance stale']);
  assert.ok(
    frozen.detectMs !== undefined && frozen.detectMs < 2000,
    `stale detection took ${frozen.detectMs} ms`,
  );
  const recovered = await switchAfter(() => sim.faults.unfreezeSymbol('binance', symbol), 4, ['okx']);
  assert.equal(recovered.to, 'binance');
  assert.equal(events.filter((e) => e.type === 'failover_failed').length, 0);
  t.diagnostic(`disconnect → switch ${off.at - dropAt} ms; stale observable → switch ${frozen.detectMs} ms`);
});
