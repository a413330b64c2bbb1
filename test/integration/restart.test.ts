/**
 * Restart: Tickwire stops, the market goes on, Tickwire starts again on the same database. The minutes it was
 * down are fetched from the venue before live bars resume: in the database and in a new client's history, every
 * minute is there once, equal to the venue's kline. Runs against PostgreSQL and the embedded PGlite.
 */
import { systemClock } from '../../src/util/clock.ts';
import { copyPgliteTemplate } from '../../src/store/pglite-dirs.test-support.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startAll } from '../../src/apps/run-all.ts';
import type { Config } from '../../src/config/config.ts';
import { startSimulator } from '../../src/sim/simulator.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { assertContinuousAsVenue, MINUTE, venueKlines } from '../e2e/helpers.ts';
import { createTestDatabase, serviceSkip } from '../support/services.ts';
import { eventually, RecordingSocket, roleConfig, cleanups } from './helpers.ts';

/** Runs Tickwire on `config`, stops it, lets `downMs` of market time pass, and starts it again. */
async function restartAcrossDowntime(
  defer: (fn: () => unknown) => void,
  makeConfig: (sim: Awaited<ReturnType<typeof startSimulator>>) => Config,
): Promise<void> {
  // Simulator and Tickwire share a clock that the test moves forward while Tickwire is down.
  let offset = 0;
  const now = (): number => Date.now() + offset;
  const sim = await startSimulator({
    symbols: ['BTC/USDT'],
    seed: 41,
    historyDays: 1,
    tradesPerSecond: 20,
    // Tickwire asks a venue for the trades of the minute in progress and of an outage's gap: half an hour
    // of individual trades covers the test, where the default two hours cost CPU at start.
    tradeWindowMs: 30 * 60_000,
    now,
  });
  defer(() => sim.close());
  const config = makeConfig(sim);

  const first = await startAll(config, silentLogger(), { clock: { ...systemClock, now } });
  const before = await RecordingSocket.open(first.gateway.url);
  before.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 5 });
  await eventually(() => before.messages.some((m) => m.type === 'update'), 60_000, 'first run live');
  before.close();
  await first.close();
  const stoppedAt = now();

  // Three minutes of market while Tickwire is down.
  offset += 3 * MINUTE;

  const second = await startAll(config, silentLogger(), { clock: { ...systemClock, now } });
  defer(() => second.close());
  // The restart is complete once the venue's history (the downtime included) is loaded and it streams again.
  await second.live;
  const after = await RecordingSocket.open(second.gateway.url);
  defer(() => after.close());
  after.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 20 });
  await eventually(() => after.messages.some((m) => m.type === 'initial'), 20_000, 'initial after restart');
  // The bars closed so far; the venue's klines are fetched after, so that each of them is final there too.
  const closed = after.chart().filter((b) => b.closed);
  const klines = await venueKlines(sim.urls.binance.restUrl, 60);
  const down = Math.floor(stoppedAt / MINUTE) * MINUTE;
  assert.ok(Date.parse(closed[0]!.time) < down, 'history reaches back before the downtime');
  assertContinuousAsVenue(closed, klines);
  assert.ok(
    closed.filter((b) => Date.parse(b.time) >= down).length >= 3,
    'the minutes of the downtime are there',
  );
}

const pgSkip = await serviceSkip('postgres');

describe('restart', () => {
  it(
    'PostgreSQL: the downtime is backfilled from the venue, no minute missing or doubled',
    { skip: pgSkip },
    async (t) => {
      const defer = cleanups(t);
      const db = await createTestDatabase();
      defer(() => db.drop());
      await restartAcrossDowntime(defer, (sim) => roleConfig(sim, { databaseUrl: db.url }));
    },
  );

  it('embedded PGlite: history is kept in the data directory across the restart', async (t) => {
    const defer = cleanups(t);
    const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-restart-'));
    defer(() => rmSync(dataDir, { recursive: true, force: true }));
    await copyPgliteTemplate(join(dataDir, 'pglite'));
    await restartAcrossDowntime(defer, (sim) => roleConfig(sim, { dataDir }));
  });
});
