import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../telemetry/logger.ts';
import { MIGRATIONS, runMigrations, type Migration } from './migrations.ts';
import { freshPgliteDir, removePgliteDirs } from './pglite-dirs.test-support.ts';
import { openPgliteWorker } from './pglite-worker-client.ts';

// On PGlite in its worker thread, as Tickwire runs it: each test on a copy of the shared empty (not yet migrated)
// database, rather than seconds of initdb. Concurrent starters on a real PostgreSQL:
// postgres-candle-store.integration.test.ts.
describe('runMigrations', () => {
  const logger = silentLogger();
  after(() => removePgliteDirs());

  it('applies every migration once, in order, and records each', async () => {
    const client = await openPgliteWorker({ dataDir: await freshPgliteDir() });
    try {
      const first = await runMigrations(client, logger);
      assert.deepEqual(first, { applied: ['candles', 'trades', 'upstreams', 'accounts'], timescale: false });
      const second = await runMigrations(client, logger);
      assert.deepEqual(second, { applied: [], timescale: false });
      const { rows } = await client.query<{ version: number; name: string }>(
        'SELECT version, name FROM tickwire_migrations ORDER BY version',
      );
      assert.deepEqual(rows, [
        { version: 1, name: 'candles' },
        { version: 2, name: 'trades' },
        { version: 3, name: 'upstreams' },
        { version: 4, name: 'accounts' },
      ]);
    } finally {
      await client.close();
    }
  });

  it('applies nothing when one migration fails: the run is one transaction', async () => {
    const client = await openPgliteWorker({ dataDir: await freshPgliteDir() });
    const broken: Migration = {
      version: 99,
      name: 'broken',
      async up(tx) {
        await tx.query('CREATE TABLE half_done (x int)');
        await tx.query('SELECT no_such_function()');
      },
    };
    try {
      await assert.rejects(runMigrations(client, logger, [...MIGRATIONS, broken]), /no_such_function/);
      const { rows } = await client.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables
         WHERE table_name IN ('candles', 'trades', 'half_done', 'tickwire_migrations')`,
      );
      assert.deepEqual(rows, []);
      assert.deepEqual((await runMigrations(client, logger)).applied, [
        'candles',
        'trades',
        'upstreams',
        'accounts',
      ]);
    } finally {
      await client.close();
    }
  });
});
