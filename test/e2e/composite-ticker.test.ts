/**
 * The composite ticker end to end: Binance, OKX and Bitget quote BTC/USDT from the simulator, one underlying
 * market within each venue's small basis; a client that subscribes to `ticker` without a venue gets one price per
 * instrument resolved with CONFLICT_RESOLUTION (the `average` median uses every venue, none is an outlier), and
 * when a venue goes silent the price is resolved from the venues that are still fresh.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BASIS_LIMIT_BPS } from '../../src/sim/market/market.ts';
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

/** Two venues' quotes of about one moment: each within its bounded basis, plus the move of a few seconds. */
const AGREEMENT_BPS = 2 * BASIS_LIMIT_BPS + 10;

describe('composite ticker', () => {
  it('resolves one price from every venue with the median and drops a venue that went stale', async (t) => {
    const { sim, system } = await startSimulatedSystem(t, {
      venues: ['binance', 'okx', 'bitget'],
      seed: 5,
      failover: { conflictResolution: 'average', staleAfterMs: 1500 },
    });
    const client = new RecordingClient(system.gateway.url);
    t.after(() => client.close());
    await client.opened;
    client.send({ type: 'subscribe', channel: 'ticker', symbol: 'BTC/USDT' });
    client.send({ type: 'subscribe', channel: 'ticker', venue: 'binance', symbol: 'BTC/USDT' });
    client.send({ type: 'subscribe', channel: 'ticker', venue: 'okx', symbol: 'BTC/USDT' });
    client.send({ type: 'subscribe', channel: 'ticker', venue: 'bitget', symbol: 'BTC/USDT' });
    await client.waitFor(
      (f): f is { type: 'subscribed' } =>
        (f as { type?: string; venue?: string }).type === 'subscribed' && !('venue' in (f as object)),
    );
    const composites = (): TickerFrame[] =>
      client.frames.filter(isTicker).filter((f) => f.venue === undefined);
    await until(
      () => composites().some((f) => f.sources?.length === 3),
      20_000,
      'a composite ticker made from all three venues',
    );
    const all = composites().find((f) => f.sources?.length === 3) as TickerFrame;
    assert.equal(all.resolution, 'average');
    assert.deepEqual([...(all.sources ?? [])].sort(), ['binance', 'bitget', 'okx']);
    assert.equal(all.fallback, false);
    // Every composite resolved from more than one venue: they agree, so none is dropped as an outlier.
    const later = composites().filter((f) => f.time >= all.time);
    assert.ok(
      later.every((f) => (f.sources?.length ?? 0) > 1),
      'every composite from several venues',
    );
    // The venues' quotes of that moment agree within their basis, and the median lies among them.
    const latest = (venue: string): number | undefined =>
      client.frames
        .filter(isTicker)
        .filter((f) => f.venue === venue && f.time <= all.time + 2000)
        .at(-1)?.last;
    const quotes = ['binance', 'okx', 'bitget'].map(latest);
    assert.ok(
      quotes.every((q) => q !== undefined),
      'every venue quoted',
    );
    const prices = quotes as number[];
    const spreadBps = ((Math.max(...prices) - Math.min(...prices)) / all.last) * 10_000;
    assert.ok(spreadBps < AGREEMENT_BPS, `venues ${prices.join(', ')} are ${spreadBps.toFixed(1)} bps apart`);
    assert.ok(
      Math.abs(all.last - prices.sort((a, b) => a - b)[1]!) / all.last < AGREEMENT_BPS / 10_000,
      `${all.last} near the median of ${prices.join(', ')}`,
    );

    // OKX goes silent: once its quote is stale, the composite is Binance's alone.
    sim.faults.pauseStream('okx');
    const pausedAt = client.frames.length;
    await until(
      () =>
        client.frames
          .slice(pausedAt)
          .filter(isTicker)
          .some(
            (f) =>
              f.venue === undefined &&
              [...(f.sources ?? [])].sort().join() === 'binance,bitget' &&
              !(f.sources ?? []).includes('okx'),
          ),
      20_000,
      'the composite without the silent venue',
    );
    sim.faults.resumeStream('okx');
  });
});
