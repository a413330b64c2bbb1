import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBus } from '../bus/memory-bus.ts';
import type { BusStatus } from '../bus/bus.ts';
import type { AlertInput } from '../domain/alert.ts';
import { ManualClock } from '../util/clock.ts';
import { watchBusOutages } from './bus-outage.ts';

/** The in-process bus, with its status moved by hand as a Redis bus's would be. */
class FlakyBus extends MemoryBus {
  private readonly statusHandlers = new Set<(status: BusStatus) => void>();
  override onStatus(handler: (status: BusStatus) => void): () => void {
    this.statusHandlers.add(handler);
    return () => this.statusHandlers.delete(handler);
  }
  set(status: BusStatus): void {
    for (const handler of this.statusHandlers) handler(status);
  }
}

function setup() {
  const clock = new ManualClock(1_000_000);
  const bus = new FlakyBus();
  const alerts: AlertInput[] = [];
  let resyncs = 0;
  const stop = watchBusOutages({
    bus,
    clock,
    alert: (a) => alerts.push(a),
    resync: async () => {
      resyncs++;
    },
    resyncAfterMs: 1250,
  });
  return { clock, bus, alerts, resyncs: () => resyncs, stop };
}

describe('watchBusOutages', () => {
  it('raises one alert per outage and one on recovery, then resyncs once the writes had time to land', () => {
    const { clock, bus, alerts, resyncs } = setup();
    bus.set({ state: 'down', error: 'ECONNREFUSED' });
    bus.set({ state: 'down', error: 'ECONNREFUSED' });
    clock.advance(4000);
    bus.set({ state: 'up' });
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.severity]),
      [
        ['redis_down', 'critical'],
        ['redis_recovered', 'info'],
      ],
    );
    assert.deepEqual(alerts[0]?.details, { error: 'ECONNREFUSED', process: 'gateway' });
    assert.deepEqual(alerts[1]?.details, { downMs: 4000, process: 'gateway' });
    clock.advance(1249);
    assert.equal(resyncs(), 0);
    clock.advance(1);
    assert.equal(resyncs(), 1);
    bus.set({ state: 'up' });
    clock.advance(5000);
    assert.equal(alerts.length, 2, 'up while up is no recovery');
    assert.equal(resyncs(), 1);
  });

  it('a stop cancels a pending resync', () => {
    const { clock, bus, resyncs, stop } = setup();
    bus.set({ state: 'down' });
    bus.set({ state: 'up' });
    stop();
    clock.advance(5000);
    assert.equal(resyncs(), 0);
    assert.equal(clock.pending, 0);
  });
});
