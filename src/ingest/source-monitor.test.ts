import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { MemoryBus } from '../bus/memory-bus.ts';
import { configSchema, DEFAULT_CONFIG } from '../config/config.ts';
import type { VenueId } from '../domain/instrument.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { FakeVenue, recordBus, T0 } from './fake-venue.test-support.ts';
import { SourceMonitor, type SourceSwitch } from './source-monitor.ts';

const SYMBOL = 'BTC/USDT';
const FAILOVER = configSchema.parse({ ...DEFAULT_CONFIG, venues: ['binance', 'okx'] }).failover;

function setup(t: TestContext) {
  const clock = new ManualClock(T0);
  const bus = new MemoryBus();
  const record = recordBus(bus);
  const venues: Record<string, FakeVenue> = { binance: new FakeVenue('binance'), okx: new FakeVenue('okx') };
  const monitor = new SourceMonitor({
    failover: FAILOVER,
    bus,
    logger: silentLogger(),
    venuesBySymbol: new Map([[SYMBOL, ['binance', 'okx'] as VenueId[]]]),
    connectionOf: (venue) => venues[venue]?.status() ?? null,
    clock,
  });
  t.after(() => monitor.close());
  const switches: SourceSwitch[] = [];
  monitor.onSwitch((change) => switches.push(change));
  const binance = monitor.observer('binance');
  const okx = monitor.observer('okx');
  /** Both venues connect now and deliver a first message. */
  const connectBoth = (): void => {
    for (const observer of [binance, okx]) {
      observer.status({ kind: 'connected', at: clock.now() });
      observer.data(SYMBOL, clock.now(), clock.now());
    }
  };
  const alertKinds = (): string[] => record.alerts.map((a) => `${a.kind} ${a.venue ?? ''}`.trim());
  const source = (venue: VenueId) =>
    monitor
      .view()
      .instruments.find((i) => i.symbol === SYMBOL)
      ?.sources.find((s) => s.exchange === venue);
  return { clock, venues, monitor, switches, binance, okx, connectBoth, alertKinds, source, record };
}

describe('SourceMonitor', () => {
  it('fails over at once when the active source disconnects, tells the switch with when the old one was last alive, and alerts', (t) => {
    const s = setup(t);
    s.monitor.start();
    s.connectBoth();
    s.clock.advance(1000);
    s.binance.data(SYMBOL, s.clock.now(), s.clock.now());
    s.okx.data(SYMBOL, s.clock.now(), s.clock.now());
    assert.equal(s.monitor.activeSource(SYMBOL), 'binance');

    s.clock.advance(500);
    s.binance.status({ kind: 'disconnected', at: s.clock.now(), reason: 'closed by server' });
    assert.equal(s.monitor.activeSource(SYMBOL), 'okx', 'switched in the same call, not on the next tick');
    assert.deepEqual(s.switches, [
      { symbol: SYMBOL, from: 'binance', to: 'okx', at: T0 + 1500, fromLastAlive: T0 + 1000 },
    ]);
    assert.deepEqual(s.alertKinds().sort(), ['failover', 'source_disconnected binance']);
    const failover = s.record.alerts.find((a) => a.kind === 'failover');
    assert.equal(failover?.severity, 'warning');
    assert.equal(failover?.time, T0 + 1500);
    assert.equal(s.source('binance')?.connected, false);
  });

  it('evaluates on its clock: a source that goes silent turns stale and is left for a healthy one', (t) => {
    const s = setup(t);
    s.monitor.start();
    s.connectBoth();
    assert.equal(s.monitor.view().inStartupGrace, true);
    // binance falls silent; okx goes on delivering every second.
    const staleAt = T0 + FAILOVER.staleAfterMs;
    while (s.clock.now() + 1000 < staleAt) {
      s.clock.advance(1000);
      s.okx.data(SYMBOL, s.clock.now(), s.clock.now());
    }
    assert.equal(s.monitor.activeSource(SYMBOL), 'binance', 'not stale yet');
    s.clock.advanceTo(staleAt + FAILOVER.evaluateEveryMs);
    assert.equal(s.monitor.activeSource(SYMBOL), 'okx');
    assert.deepEqual(s.alertKinds().sort(), ['failover', 'source_stale binance']);
    assert.equal(s.monitor.view().inStartupGrace, false);
  });

  it("reads each connection's new malformed frames as errors and its ping latency at every evaluation", (t) => {
    const s = setup(t);
    s.monitor.start();
    s.connectBoth();
    s.venues['binance']?.setConnection({ malformedFrames: FAILOVER.maxErrors });
    s.venues['okx']?.setConnection({ latencyMs: 42 });
    s.clock.advance(FAILOVER.evaluateEveryMs);
    s.clock.advance(FAILOVER.evaluateEveryMs);
    assert.equal(s.source('binance')?.errors, FAILOVER.maxErrors, 'each frame counted once');
    assert.equal(s.source('binance')?.healthy, false);
    assert.equal(s.source('okx')?.latency, 42);
    const errors = s.record.alerts.find((a) => a.kind === 'source_errors');
    assert.deepEqual(errors?.details, {
      reason: 'error-rate',
      maxErrors: FAILOVER.maxErrors,
      errorWindowMs: FAILOVER.errorWindowMs,
    });
  });

  it("shows a venue's sources as loading history until the ingest says it has loaded", (t) => {
    const s = setup(t);
    s.monitor.start();
    s.connectBoth();
    assert.equal(s.source('okx')?.loadingHistory, true);
    s.monitor.historyLoaded('okx');
    assert.equal(s.source('okx')?.loadingHistory, undefined);
    assert.equal(s.source('binance')?.loadingHistory, true);
  });

  it("marks one instrument's history as loaded without its venue's others", (t) => {
    const s = setup(t);
    s.monitor.start();
    s.connectBoth();
    s.monitor.historyLoaded('binance', 'ETH/USDT');
    assert.equal(s.source('binance')?.loadingHistory, true, 'another instrument of the venue');
    s.monitor.historyLoaded('binance', SYMBOL);
    assert.equal(s.source('binance')?.loadingHistory, undefined);
    assert.equal(s.source('okx')?.loadingHistory, true, 'the same instrument on another venue');
  });

  it('stops evaluating and alerting on close', (t) => {
    const s = setup(t);
    s.monitor.start();
    s.connectBoth();
    s.monitor.close();
    assert.equal(s.clock.pending, 0);
    s.binance.status({ kind: 'disconnected', at: s.clock.now(), reason: 'shutdown' });
    s.clock.advance(60_000);
    assert.deepEqual(s.record.alerts, []);
    assert.deepEqual(s.switches, []);
  });
});
