/**
 * The `ingest` role's own GET /health, against real Redis and PostgreSQL: judged like the gateway's (200 `ok`
 * only while every instrument has a live source, 503 otherwise), with the ingest's role, lock state and lock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startIngestProcess } from '../../src/apps/run-ingest.ts';
import type { Config } from '../../src/config/config.ts';
import { startSimulator } from '../../src/sim/simulator.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createTestDatabase, serviceSkip, TEST_REDIS_URL, testRedisPrefix } from '../support/services.ts';
import { cleanups, roleConfig } from './helpers.ts';

const skip = (await serviceSkip('postgres')) || (await serviceSkip('redis'));

interface IngestHealth {
  status: string;
  role: string;
  state: string;
  reasons: string[];
  instruments: { symbol: string; state: string }[];
}

/** Polls `url` until the ingest is active and the body's status is `status` (or `ms` passed); the last answer. */
async function healthOnce(
  url: string,
  status: string,
  ms: number,
): Promise<{ code: number; body: IngestHealth }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await fetch(url);
    const answer = { code: res.status, body: (await res.json()) as IngestHealth };
    const done = answer.body.status === status && answer.body.state === 'active';
    if (done || Date.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ingest process: GET /health', { skip }, () => {
  it('answers 200 ok while its source is live and 503 degraded (stale) while the venue sends nothing', async (t) => {
    const defer = cleanups(t);
    const db = await createTestDatabase();
    defer(() => db.drop());
    const sim = await startSimulator({ symbols: ['BTC/USDT'], seed: 23, historyDays: 1, tradesPerSecond: 5 });
    defer(() => sim.close());
    const base = roleConfig(sim, {
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      redisPrefix: testRedisPrefix(),
    });
    const config: Config = { ...base, failover: { ...base.failover, staleAfterMs: 1000 } };
    const ingest = await startIngestProcess(config, silentLogger());
    defer(() => ingest.close());
    const url = `http://127.0.0.1:${ingest.port}/health`;

    const live = await healthOnce(url, 'ok', 60_000);
    assert.equal(live.code, 200, JSON.stringify(live.body));
    assert.equal(live.body.role, 'ingest');
    assert.equal(live.body.state, 'active');
    assert.deepEqual(live.body.reasons, []);
    assert.deepEqual(live.body.instruments[0]?.state, 'live');

    sim.faults.pauseStream('binance');
    const stale = await healthOnce(url, 'degraded', 30_000);
    assert.equal(stale.code, 503, JSON.stringify(stale.body));
    assert.equal(stale.body.status, 'degraded');
    assert.equal(stale.body.instruments[0]?.state, 'stale');
    assert.deepEqual(stale.body.reasons, ['BTC/USDT: no live source (binance stale)']);

    sim.faults.resumeStream('binance');
    const back = await healthOnce(url, 'ok', 30_000);
    assert.equal(back.code, 200, JSON.stringify(back.body));
  });
});
