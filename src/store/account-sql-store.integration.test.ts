import { after, before, describe } from 'node:test';
import pg from 'pg';
import { createTestDatabase, serviceSkip } from '../../test/support/services.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { runAccountStoreContract } from './account-store.contract.ts';
import { SqlAccountStore } from './account-sql-store.ts';
import { runMigrations } from './migrations.ts';
import { pgPoolClient } from './pg-pool-client.ts';
import { openPgliteWorker, type PgliteWorkerClient } from './pglite-worker-client.ts';
import type { SqlClient } from './sql-client.ts';

const logger = silentLogger();

describe('SqlAccountStore on PGlite', () => {
  let client: PgliteWorkerClient;
  before(async () => {
    client = await openPgliteWorker();
    await runMigrations(client, logger);
  });
  after(() => client.close());
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
