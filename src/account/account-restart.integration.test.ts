import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase, serviceSkip } from '../../test/support/services.ts';
import { SqlAccountStore } from '../store/account-sql-store.ts';
import { runMigrations } from '../store/migrations.ts';
import { pgPoolClient } from '../store/pg-pool-client.ts';
import { freshPgliteDir, removePgliteDirs } from '../store/pglite-dirs.test-support.ts';
import { openPgliteWorker } from '../store/pglite-worker-client.ts';
import type { SqlClient } from '../store/sql-client.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ManualClock } from '../util/clock.ts';
import { AccountHub } from './account-hub.ts';
import { ScriptedAccountSource } from './account-source.test-support.ts';
import { fill, fillsEvent, plainPerformance, position, snapshotEvent } from './account.test-support.ts';

const logger = silentLogger();
const MIN = 60_000;
const MIDNIGHT = Date.UTC(2024, 6, 10);
const ACCOUNT = { id: 'demo-bitget', venue: 'bitget' } as const;

/**
 * Runs an account across a UTC midnight, stops, reopens the database and a new hub: the performance read back
 * from the stored fills and equity curve equals the one before the restart.
 */
async function restartKeepsPerformance(openClient: () => Promise<SqlClient>): Promise<void> {
  const clock = new ManualClock(MIDNIGHT - 30 * MIN);
  let client = await openClient();
  let source = new ScriptedAccountSource(ACCOUNT);
  let hub = await AccountHub.open({ sources: [source], store: new SqlAccountStore(client), clock, logger });
  const btc = (unrealized: string, size = '1') => position('BTC/USDT', { size, unrealized, mark: '105' });
  source.emit(snapshotEvent('10000', [btc('0')], clock.now()));
  source.emit(
    fillsEvent([fill('1', { side: 'buy', price: '100', size: '1', fee: '0.5', time: clock.now() })]),
  );
  clock.advance(5 * MIN);
  source.emit(snapshotEvent('12000', [btc('200')], clock.now()));
  clock.advance(5 * MIN);
  source.emit(snapshotEvent('9000', [btc('-100')], clock.now()));
  clock.advanceTo(MIDNIGHT + 10 * MIN);
  source.emit(
    fillsEvent([
      fill('2', { side: 'sell', price: '104', size: '0.5', fee: '0.25', time: clock.now() }),
      fill('3', { side: 'sell', price: '99', size: '0.5', fee: '0.25', time: clock.now() + 1 }),
      fill('4', { side: 'buy', price: '100', size: '1', fee: '0.5', time: clock.now() + 2 }),
    ]),
  );
  source.emit(snapshotEvent('9500', [btc('50')], clock.now()));
  const before = plainPerformance(hub.view(ACCOUNT.id)!.performance);
  // Hand-computed: trip 1 = (104 − 100) × 0.5 + (99 − 100) × 0.5 − 1 = 0.5, a win; fees 1.5; realized 1.5;
  // drawdown (12000 − 9000) / 12000 = 0.25; daily = (1.5 − 1) + (50 − (−100)) = 150.5.
  assert.deepEqual(
    [
      before['wins'],
      before['losses'],
      before['feesPaid'],
      before['realizedPnl'],
      before['maxDrawdown'],
      before['dailyPnl'],
    ],
    [1, 0, '1.5', '1.5', '0.25', '150.5'],
  );
  await hub.close();
  await client.close();

  client = await openClient();
  source = new ScriptedAccountSource(ACCOUNT);
  hub = await AccountHub.open({ sources: [source], store: new SqlAccountStore(client), clock, logger });
  try {
    source.emit(snapshotEvent('9500', [btc('50')], clock.now()));
    assert.deepEqual(plainPerformance(hub.view(ACCOUNT.id)!.performance), before);
    assert.deepEqual(
      (await hub.fills(ACCOUNT.id, { limit: 2 })).map((f) => f.fillId),
      ['3', '4'],
    );
  } finally {
    await hub.close();
    await client.close();
  }
}

describe('account performance survives a restart on PGlite', () => {
  after(() => removePgliteDirs());
  it('restores fees, realized PnL, win rate, drawdown and daily PnL from the stored history', async () => {
    const dir = await freshPgliteDir();
    await restartKeepsPerformance(async () => {
      const client = await openPgliteWorker({ dataDir: dir });
      await runMigrations(client, logger);
      return client;
    });
  });
});

describe(
  'account performance survives a restart on PostgreSQL',
  { skip: await serviceSkip('postgres') },
  () => {
    let db: { url: string; drop(): Promise<void> };
    before(async () => {
      db = await createTestDatabase();
    });
    after(() => db.drop());
    it('restores fees, realized PnL, win rate, drawdown and daily PnL from the stored history', async () => {
      await restartKeepsPerformance(async () => {
        const client = pgPoolClient(new pg.Pool({ connectionString: db.url, max: 2 }), () => undefined);
        await runMigrations(client, logger);
        return client;
      });
    });
  },
);
