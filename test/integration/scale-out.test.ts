/**
 * Tickwire scaled out, as real processes: two `ingest` (one active, one standby) and two `gateway`, sharing one
 * Redis and one PostgreSQL database, fed by the simulator's Binance. A client of either gateway gets the same
 * stream; when the active ingest is killed with -9 the standby takes over within 10 s, backfills the gap, and the
 * candles the clients hold stay continuous and equal to the venue's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSimulator } from '../../src/sim/simulator.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { assertContinuousAsVenue, MINUTE, venueKlines } from '../e2e/helpers.ts';
import { createTestDatabase, serviceSkip, TEST_REDIS_URL, testRedisPrefix } from '../support/services.ts';
import { eventually, getJson, RecordingSocket, spawnRole, type RoleProcess, cleanups } from './helpers.ts';

const LATEST_KILL_MS_INTO_MINUTE = 45_000;

const skip = (await serviceSkip('postgres')) || (await serviceSkip('redis'));

describe('scale-out: ingest high availability and several gateways', { skip }, () => {
  it('serves the same stream from two gateways and survives kill -9 of the active ingest', async (t) => {
    const defer = cleanups(t);
    const db = await createTestDatabase();
    defer(() => db.drop());
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 21,
      historyDays: 1,
      tradesPerSecond: 20,
      // Tickwire asks a venue for the trades of the minute in progress and of an outage's gap: half an hour
      // of individual trades covers the test, where the default two hours cost CPU at start.
      tradeWindowMs: 30 * 60_000,
      logger: silentLogger(),
    });
    defer(() => sim.close());
    const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: testRedisPrefix() };
    const processes: RoleProcess[] = [];
    defer(async () => {
      await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    });
    const start = (role: 'ingest' | 'gateway'): RoleProcess => {
      const p = spawnRole(role, sim, env);
      processes.push(p);
      return p;
    };

    const ingestA = start('ingest');
    const healthA = `http://127.0.0.1:${(await ingestA.line(/health http:\/\/[^:]+:(\d+)\/health/))[1]}/health`;
    await eventually(async () => (await getJson(healthA))['state'] === 'active', 30_000, 'ingest A active');
    const ingestB = start('ingest');
    const healthB = `http://127.0.0.1:${(await ingestB.line(/health http:\/\/[^:]+:(\d+)\/health/))[1]}/health`;
    assert.equal((await getJson(healthB))['state'], 'standby', 'the second ingest waits');

    const gateways = [start('gateway'), start('gateway')];
    const urls = await Promise.all(
      gateways.map(async (g) => (await g.line(/WebSocket API (ws:\/\/\S+),/))[1]!),
    );
    const clients = await Promise.all(urls.map((url) => RecordingSocket.open(url)));
    defer(() => clients.forEach((c) => c.close()));
    for (const c of clients) {
      c.send({ type: 'subscribe', symbol: 'BTC/USDT', interval: '1m', initialBars: 30 });
      c.send({ type: 'subscribe', channel: 'alerts' });
    }
    await eventually(
      () => clients.every((c) => c.messages.some((m) => m.type === 'update')),
      20_000,
      'updates',
    );

    // Kill the active ingest at most 45 s into a minute: the standby takes over (under 10 s) before that minute
    // ends, so the minute of the kill is finished and closed by the new ingest, from the venue's history and
    // stream. Later in a minute, wait for the next one to begin.
    const msIntoMinute = Date.now() % MINUTE;
    if (msIntoMinute > LATEST_KILL_MS_INTO_MINUTE)
      await new Promise((r) => setTimeout(r, MINUTE - msIntoMinute + 1000));
    const killedAt = Date.now();
    await ingestA.stop('SIGKILL');
    // How fast the standby takes over is the leader lock's own tested promise (its ttl, on an injected clock);
    // here, on a machine that may be busy, it only has to happen.
    await eventually(
      async () => (await getJson(healthB))['state'] === 'active',
      60_000,
      'the standby to take over',
    );
    const takeoverMs = Date.now() - killedAt;
    t.diagnostic(`standby active ${takeoverMs} ms after kill -9 of the active ingest`);

    // Wait for the minute of the kill to close under the new ingest, on both gateways.
    const killMinute = Math.floor(killedAt / MINUTE) * MINUTE;
    const killIso = new Date(killMinute).toISOString();
    await eventually(
      () => clients.every((c) => c.chart().some((b) => b.time === killIso && b.closed)),
      MINUTE + 20_000,
      'the minute of the kill to close on both gateways',
    );
    // Late trades of that minute may still arrive as a revision: wait for the venue's bar.
    const klines = await venueKlines(sim.urls.binance.restUrl, 60);
    const venueClose = Number(klines.get(killIso)?.[4]);
    await eventually(
      () => clients.every((c) => c.chart().find((b) => b.time === killIso)?.close === venueClose),
      10_000,
      'the venue close of the minute of the kill',
    );
    const charts = clients.map((c) => c.chart().filter((b) => b.closed));
    for (const chart of charts) assertContinuousAsVenue(chart, klines);
    const common = (bars: (typeof charts)[number]) =>
      bars.filter((b) => Date.parse(b.time) >= killMinute - 5 * MINUTE).map((b) => JSON.stringify(b));
    assert.deepEqual(common(charts[0]!), common(charts[1]!), 'both gateways show the same bars');
    for (const c of clients) {
      assert.equal(c.closedWith, null, 'clients stayed connected');
      assert.ok(c.alerts('ingest_active').some((a) => (a['details'] as Record<string, unknown>)['takeover']));
    }
  });
});
