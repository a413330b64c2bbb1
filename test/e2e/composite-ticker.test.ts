/**
 * The composite ticker end to end: Binance and OKX quote BTC/USDT from the simulator; a client that subscribes
 * to `ticker` without a venue gets one price per instrument resolved with CONFLICT_RESOLUTION, and when a venue
 * goes silent the price is resolved from the venues that are still fresh.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordingClient } from '../../src/sim/test-kit.ts';
import { until, startSimulatedSystem } from './helpers.ts';

interface TickerFrame {
  type: 'ticker';
  venue?: string;
  symbol: string;
  last: number;
  resolution?: string;
  sources?: string[];
  baseVenue?: string;
  fallback?: boolean;
  time: number;
}

const isTicker = (f: unknown): f is TickerFrame => (f as { type?: unknown }).type === 'ticker';

describe('composite ticker', () => {
  it('resolves one price across venues with the median and drops a venue that went stale', async (t) => {
    const { sim, system } = await startSimulatedSystem(t, {
      venues: ['binance', 'okx'],
      seed: 5,
      failover: { conflictResolution: 'average', staleAfterMs: 1500 },
    });
    const client = new RecordingClient(system.gateway.url);
    t.after(() => client.close());
    await client.opened;
    client.send({ type: 'subscribe', channel: 'ticker', symbol: 'BTC/USDT' });
    client.send({ type: 'subscribe', channel: 'ticker', venue: 'binance', symbol: 'BTC/USDT' });
    client.send({ type: 'subscribe', channel: 'ticker', venue: 'okx', symbol: 'BTC/USDT' });
    await client.waitFor(
      (f): f is { type: 'subscribed' } =>
        (f as { type?: string; venue?: string }).type === 'subscribed' && !('venue' in (f as object)),
    );
    const composites = (): TickerFrame[] =>
      client.frames.filter(isTicker).filter((f) => f.venue === undefined);
    await until(
      () => composites().some((f) => f.sources?.length === 2),
      20_000,
      'a composite ticker made from both venues',
    );
    const both = composites().find((f) => f.sources?.length === 2) as TickerFrame;
    assert.equal(both.resolution, 'average');
    assert.deepEqual([...(both.sources ?? [])].sort(), ['binance', 'okx']);
    assert.equal(both.fallback, false);
    // The median of two agreeing quotes is their midpoint: between the two venues' prices of that moment.
    const latest = (venue: string): number | undefined =>
      client.frames
        .filter(isTicker)
        .filter((f) => f.venue === venue && f.time <= both.time + 5000)
        .at(-1)?.last;
    const [b, o] = [latest('binance'), latest('okx')];
    assert.ok(b !== undefined && o !== undefined, 'both venues quoted');
    assert.ok(Math.abs(both.last - (b + o) / 2) / both.last < 0.01, `${both.last} near mid of ${b} and ${o}`);

    // OKX goes silent: once its quote is stale, the composite is Binance's alone.
    sim.faults.pauseStream('okx');
    const pausedAt = client.frames.length;
    await until(
      () =>
        client.frames
          .slice(pausedAt)
          .filter(isTicker)
          .some((f) => f.venue === undefined && f.sources?.join() === 'binance'),
      20_000,
      'the composite without the silent venue',
    );
    sim.faults.resumeStream('okx');
  });
});
