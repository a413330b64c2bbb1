import { after, before, describe } from 'node:test';
import pg from 'pg';
import { createTestDatabase, serviceSkip } from '../../test/support/services.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { runAccountStoreContract } from './account-store.contract.ts';
import { SqlAccountStore } from './account-sql-store.ts';
import { runMigrations } from './migrations.ts';
import { pgPoolClient } from './pg-pool-client.ts';
import { freshPgliteDir, removePgliteDirs } from './pglite-dirs.test-support.ts';
import { openPgliteWorker, type PgliteWorkerClient } from './pglite-worker-client.ts';
import type { SqlClient } from './sql-client.ts';

const logger = silentLogger();

describe('SqlAccountStore on PGlite', () => {
  let client: PgliteWorkerClient;
  before(async () => {
    // A copy of the shared empty database: an in-memory one would run PGlite's initdb, seconds of CPU.
    client = await openPgliteWorker({ dataDir: await freshPgliteDir() });
    await runMigrations(client, logger);
  });
  after(async () => {
    await client.close();
    await removePgliteDirs();
  });
  runAccountStoreContract('SqlAccountStore on PGlite', () => Promise.resolve(new SqlAccountStore(client)));
});

describe('SqlAccountStore on PostgreSQL', { skip: await serviceSkip('postgres') }, () => {
  let db: { url: string; drop(): Promise<void> };
  let client: SqlClient;
  before(async () => {
    db = await createTestDatabase();
    client = pgPoolClient(new pg.Pool({ connectionString: db.url, max: 2 }), () => undefined);
    await runMigrations(client, logger);
  });
  after(async () => {
    await client.close();
    await db.drop();
  });
  runAccountStoreContract('SqlAccountStore on PostgreSQL', () =>
    Promise.resolve(new SqlAccountStore(client)),
  );
});
