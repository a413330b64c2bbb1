/**
 * Venue faults end to end: the simulator injects each fault into a running system (Binance builds the candles,
 * OKX serves a checksummed book). For each one the system recovers by itself, the error shows in the connection
 * status and the logs, and the candles a client ends up with have no bar missing or doubled and equal the venue's.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import WebSocket from 'ws';
import type { VenueIngest } from '../../src/ingest/venue-ingest.ts';
import {
  assertContinuousAsVenue,
  chart,
  clockNearBoundary,
  MINUTE,
  until,
  venueKlines,
  type Message,
  startSimulatedSystem,
} from './helpers.ts';

describe('venue faults, end to end', () => {
  it('recovers from every injected fault with a continuous, exact candle stream and visible errors', async (t) => {
    const logs: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of String(chunk).split('\n'))
          if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const logged = (msg: string): boolean => logs.some((l) => l['msg'] === msg);

    // A minute ends about 30 s after the start, after the faults below have run (11 s on a quiet machine here).
    const now = clockNearBoundary(30_000);
    const { sim, system } = await startSimulatedSystem(t, {
      historyDays: 1,
      venues: ['binance', 'okx'],
      seed: 5,
      now,
      logger,
      candles: { closeGraceMs: 500 },
      gateway: { throttleMs: 200 },
      // This test is about one venue recovering by itself; failover to OKX is tested in failover.test.ts.
      failover: { enabled: false },
    });
    const [binance, okx] = system.ingests as [VenueIngest, VenueIngest];
    assert.equal(binance.stats().venue, 'binance');
    assert.equal(okx.stats().venue, 'okx');

    const ws = new WebSocket(system.gateway.url);
    const messages: Message[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d)) as Message));
    await new Promise((resolve) => ws.once('open', resolve));
    t.after(() => ws.close());
    ws.send(JSON.stringify({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 20 }));
    ws.send(
      JSON.stringify({ type: 'subscribe', channel: 'book', venue: 'okx', symbol: 'BTC/USDT', depth: 5 }),
    );
    await until(() => messages.some((m) => m.type === 'initial'), 10_000, 'initial');
    await until(() => messages.some((m) => m.type === 'book'), 10_000, 'a book from OKX');
    const startMinute = Math.floor(now() / MINUTE) * MINUTE;

    // Malformed frames: counted, logged once, the stream goes on.
    sim.faults.malformedFrames('binance', 3);
    await until(
      () => (binance.stats().connection?.malformed_frames ?? 0) >= 3,
      10_000,
      'malformed frames counted',
    );

    // The venue's periodic recycle (serverShutdown, then close): reconnect and resubscribe.
    const reconnects = binance.stats().connection?.reconnect_count ?? 0;
    sim.faults.forceRecycle('binance');
    await until(
      () => (binance.stats().connection?.reconnect_count ?? 0) > reconnects,
      15_000,
      'recycle reconnect',
    );
    await until(() => binance.stats().connection?.is_healthy === true, 15_000, 'healthy after recycle');

    // A drop while the REST API answers 429 twice: the backfill waits out Retry-After and completes.
    const backfills = binance.stats().backfills;
    sim.faults.restFailures({ status: 429, count: 2, retryAfterSec: 1 }, 'binance');
    sim.faults.dropConnections('binance');
    await until(() => binance.stats().backfills > backfills, 20_000, 'backfill after 429s');
    assert.ok(logged('stream disconnected'));

    // A refused subscription on OKX after a drop: visible, retried, healthy again.
    sim.faults.rejectSubscriptions('okx', 1);
    sim.faults.dropConnections('okx');
    await until(() => (okx.stats().connection?.rejected_subscriptions ?? 0) >= 1, 15_000, 'refusal counted');
    assert.ok(logs.some((l) => String(l['msg']).startsWith('subscription refused')));
    await until(() => okx.stats().connection?.is_healthy === true, 20_000, 'OKX healthy again');

    // A corrupt book checksum: only that book resyncs, and it is served again.
    sim.faults.corruptChecksum('okx', 'BTC/USDT');
    await until(
      () => okx.stats().books.some((b) => (b.resyncs['checksum'] ?? 0) >= 1 && b.state === 'synced'),
      20_000,
      'book resync after a bad checksum',
    );
    assert.ok(logged('book resync'));
    const booksBefore = messages.filter((m) => m.type === 'book').length;
    await until(
      () => messages.filter((m) => m.type === 'book').length > booksBefore,
      10_000,
      'book served again',
    );

    // Let the minute in progress close, then compare every closed bar with the venue's klines.
    const lastMinute = Math.floor(now() / MINUTE) * MINUTE;
    const lastIso = new Date(lastMinute).toISOString();
    await until(
      () => chart(messages).some((b) => b.time === lastIso && b.closed),
      75_000,
      'the last minute to close',
    );
    const klines = await venueKlines(sim.urls.binance.restUrl, 60);
    await until(
      () =>
        chart(messages)
          .filter((b) => b.closed)
          .every((b) => b.close === Number(klines.get(b.time)?.[4])),
      5000,
      'revisions to settle',
    );
    const closed = chart(messages).filter((b) => b.closed);
    assert.ok(
      closed.some((b) => Date.parse(b.time) === startMinute),
      'covers the whole run',
    );
    assertContinuousAsVenue(closed, klines);
    assert.deepEqual(binance.stats().instruments['BTC/USDT']?.openGaps, []);
  });
});
