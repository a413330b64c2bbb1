import type { Bus } from '../bus/bus.ts';
import type { AlertInput } from '../domain/alert.ts';
import type { Clock, Timer } from '../util/clock.ts';

export interface BusOutageOptions {
  readonly bus: Bus;
  readonly clock: Clock;
  /** Raises an alert about this gateway (to its own alerts subscribers, not over the bus it lost). */
  readonly alert: (input: AlertInput) => void;
  /** Re-sends the rooms' current bars from the store. */
  readonly resync: () => Promise<void>;
  /** How long after the bus is back to resync: the ingest's buffered writes of the outage land first. */
  readonly resyncAfterMs: number;
}

/**
 * The bus between processes (Redis) can drop: clients stay connected, are told on the alerts channel, and get the
 * current bars again once it is back. Returns what stops watching.
 */
export function watchBusOutages(o: BusOutageOptions): () => void {
  let downAt: number | null = null;
  let resyncTimer: Timer | undefined;
  const stopStatus = o.bus.onStatus((status) => {
    if (status.state === 'down' && downAt === null) {
      downAt = o.clock.now();
      o.alert({
        severity: 'critical',
        kind: 'redis_down',
        message: 'the gateway lost the bus; clients stay connected while it reconnects',
        details: { error: status.error ?? null, process: 'gateway' },
      });
    } else if (status.state === 'up' && downAt !== null) {
      const downMs = o.clock.now() - downAt;
      downAt = null;
      o.alert({
        severity: 'info',
        kind: 'redis_recovered',
        message: `the gateway is back on the bus after ${downMs} ms; current bars are re-sent`,
        details: { downMs, process: 'gateway' },
      });
      o.clock.clearTimer(resyncTimer);
      resyncTimer = o.clock.setTimeout(() => void o.resync(), o.resyncAfterMs);
    }
  });
  return () => {
    stopStatus();
    o.clock.clearTimer(resyncTimer);
  };
}
