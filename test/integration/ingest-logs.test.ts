/**
 * The `ingest` role's GET /api/logs, against real Redis and PostgreSQL: the same endpoint as the gateway's
 * (src/gateway/logs-endpoint.ts), served from the process's ring of recent warnings and errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startIngestProcess } from '../../src/apps/run-ingest.ts';
import { startSimulator } from '../../src/sim/simulator.ts';
import { LogRing } from '../../src/telemetry/log-ring.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createTestDatabase, serviceSkip, TEST_REDIS_URL, testRedisPrefix } from '../support/services.ts';
import { cleanups, roleConfig } from './helpers.ts';

const skip = (await serviceSkip('postgres')) || (await serviceSkip('redis'));

interface LogsBody {
  logs?: { level: string; msg: string; fields: Record<string, unknown> }[];
  error?: { code: string };
}

describe('ingest process: GET /api/logs', { skip }, () => {
  it('serves its recent warnings and errors, redacted, filtered by level, and refuses a bad level', async (t) => {
    const defer = cleanups(t);
    const db = await createTestDatabase();
    defer(() => db.drop());
    const sim = await startSimulator({ symbols: ['BTC/USDT'], seed: 29, historyDays: 1, tradesPerSecond: 1 });
    defer(() => sim.close());
    const config = roleConfig(sim, {
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      redisPrefix: testRedisPrefix(),
    });
    const recentLogs = new LogRing(50);
    const logger = createLogger({ destination: { write: () => undefined }, recent: recentLogs });
    const ingest = await startIngestProcess(config, logger, { recentLogs });
    defer(() => ingest.close());
    logger.warn({ password: 'hunter2' }, 'ingest: a warning for the operators');
    logger.error({ venue: 'binance' }, 'ingest: an error for the operators');
    const base = `http://127.0.0.1:${ingest.port}/api/logs`;

    const all = await fetch(base);
    assert.equal(all.status, 200);
    assert.match(all.headers.get('content-type') ?? '', /application\/json/);
    const body = (await all.json()) as LogsBody;
    const mine = (body.logs ?? []).filter((l) => l.msg.endsWith('for the operators'));
    assert.deepEqual(
      mine.map((l) => [l.level, l.msg]),
      [
        ['warn', 'ingest: a warning for the operators'],
        ['error', 'ingest: an error for the operators'],
      ],
    );
    assert.equal(mine[0]?.fields['password'], '[Redacted]');

    const errors = (await (await fetch(`${base}?level=error`)).json()) as LogsBody;
    assert.ok(errors.logs?.every((l) => l.level === 'error' || l.level === 'fatal'));
    assert.ok(errors.logs?.some((l) => l.msg === 'ingest: an error for the operators'));

    const bad = await fetch(`${base}?level=debug`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as LogsBody).error?.code, 'INVALID_LEVEL');
    assert.equal((await fetch(base, { method: 'POST' })).status, 405);
  });
});
