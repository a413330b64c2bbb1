/**
 * `tickwire all` warms its connection path before it listens, as the gateway role does (src/gateway/warm-up.ts): a
 * restarted process is met by its clients reconnecting at once. The warm-up is logged, and nothing of it stays in
 * the real gateway: no connection, room or count of its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startAll } from '../../src/apps/run-all.ts';
import { WARM_UP_CONNECTIONS } from '../../src/gateway/gateway.ts';
import { startSimulator } from '../../src/sim/simulator.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createTestDatabase, serviceSkip } from '../support/services.ts';
import { cleanups, roleConfig } from './helpers.ts';

const skip = await serviceSkip('postgres');

describe('tickwire all: connection warm-up', { skip }, () => {
  it('warms its connection path before it listens and keeps nothing of it', async (t) => {
    const defer = cleanups(t);
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 61,
      historyDays: 1,
      tradesPerSecond: 10,
      tradeWindowMs: 30 * 60_000,
    });
    defer(() => sim.close());
    const db = await createTestDatabase();
    defer(() => db.drop());
    const records: { msg?: string; connections?: number }[] = [];
    const logger = createLogger({
      level: 'info',
      format: 'json',
      destination: { write: (line) => void records.push(JSON.parse(line) as { msg?: string }) },
    });
    const system = await startAll(roleConfig(sim, { databaseUrl: db.url }), logger);
    defer(() => system.close());

    const warmed = records.find((r) => r.msg === 'gateway: connection path warmed up');
    assert.ok(warmed, 'the warm-up ran and was logged before startAll resolved');
    assert.equal(warmed.connections, WARM_UP_CONNECTIONS);
    const stats = system.gateway.stats();
    assert.equal(stats.connections, 0);
    assert.equal(stats.gateway.connectionsOpened, 0);
    assert.equal(stats.gateway.initialsSent, 0);
    assert.equal(stats.broadcaster.totalRooms, 0);
  });
});
