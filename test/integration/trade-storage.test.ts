/**
 * STORE_TRADES: with trade storage on, every trade the ingest applies reaches the `trades` table once, with the
 * venue's id, exact price and size; with it off (the default), the table stays empty.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { startAll } from '../../src/apps/run-all.ts';
import { configSchema } from '../../src/config/config.ts';
import { startSimulator } from '../../src/sim/simulator.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createTestDatabase, serviceSkip } from '../support/services.ts';
import { eventually, roleConfig, cleanups } from './helpers.ts';

const skip = await serviceSkip('postgres');

describe('trade storage', { skip }, () => {
  it('stores every trade once when STORE_TRADES is on, none when it is off', async (t) => {
    const defer = cleanups(t);
    const sim = await startSimulator({
      symbols: ['BTC/USDT'],
      seed: 51,
      historyDays: 1,
      tradesPerSecond: 30,
      // Tickwire asks a venue for the trades of the minute in progress and of an outage's gap: half an hour
      // of individual trades covers the test, where the default two hours cost CPU at start.
      tradeWindowMs: 30 * 60_000,
    });
    defer(() => sim.close());
    for (const storeTrades of [true, false]) {
      const db = await createTestDatabase();
      defer(() => db.drop());
      const base = roleConfig(sim, { databaseUrl: db.url });
      const config = configSchema.parse({ ...base, storage: { ...base.storage, storeTrades } });
      const system = await startAll(config, silentLogger());
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const count = async (): Promise<number> =>
        Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM trades')).rows[0]?.n);
      const applied = (): number => system.ingests[0]?.stats().instruments['BTC/USDT']?.tradesApplied ?? 0;
      if (storeTrades) {
        await eventually(async () => (await count()) >= 50, 20_000, '50 stored trades');
      } else {
        await eventually(() => applied() >= 50, 20_000, '50 applied trades');
      }
      await system.close();
      const stored = await count();
      if (!storeTrades) {
        await client.end();
        assert.equal(stored, 0, 'trades are not stored by default');
        continue;
      }
      const dupes = await client.query(
        'SELECT id FROM trades GROUP BY venue, symbol, id, time HAVING count(*) > 1',
      );
      assert.equal(dupes.rowCount, 0, 'no trade twice');
      const row = (
        await client.query<{
          venue: string;
          symbol: string;
          id: string;
          price: string;
          size: string;
          side: string;
        }>('SELECT venue, symbol, id, price::text, size::text, side FROM trades ORDER BY time DESC LIMIT 1')
      ).rows[0];
      assert.equal(row?.venue, 'binance');
      assert.equal(row?.symbol, 'BTC/USDT');
      assert.match(row?.id ?? '', /^\d+$/, 'the venue trade id');
      assert.match(row?.price ?? '', /^\d+(\.\d+)?$/);
      assert.ok(row?.side === 'buy' || row?.side === 'sell');
      await client.end();
    }
  });
});
