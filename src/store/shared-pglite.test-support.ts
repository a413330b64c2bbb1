/**
 * One embedded database per test file, for the suites that test what runs over the database (the CandleStore
 * contract, the buffered and tiered stores, the upstream record) rather than opening it. Opening one, a worker
 * thread that loads PGlite and starts PostgreSQL in WebAssembly on a copied data directory, costs about a second of
 * CPU; the contract suites opened one per test (docs/PERFORMANCE.md, "Test suite"). Opening itself, the lock file,
 * reopening and migrating are tested where they are the subject (pglite-candle-store.integration.test.ts and others),
 * on databases of their own.
 *
 * Each test gets a store of its own over the shared database: closing that store closes only its view of the
 * database, whose later statements are refused as a closed database refuses them; the database stays open for the
 * next test and closes once the file's tests are done.
 */
import { after } from 'node:test';
import type { Logger } from '../telemetry/logger.ts';
import { runMigrations } from './migrations.ts';
import { freshPgliteDir, removePgliteDirs } from './pglite-dirs.test-support.ts';
import { openPgliteWorker } from './pglite-worker-client.ts';
import { SqlCandleStore } from './sql-candle-store.ts';
import type { SqlClient } from './sql-client.ts';

export interface SharedPglite {
  /** A new store over the shared database; its close() leaves the database open. */
  store(): Promise<SqlCandleStore>;
  /** Empties every table but the migrations' record: the shared database as a freshly migrated one. */
  empty(): Promise<void>;
  /** Runs `text` on the shared database (for a test's own look at its rows). */
  query<T>(text: string, params?: readonly unknown[]): Promise<{ rows: T[] }>;
}

/**
 * The file's shared database, opened (copied from the empty template and migrated) on first use. After the file's
 * tests it is closed and every data directory of the file deleted (removePgliteDirs, which the file then need not
 * call). Call once, at the top level of a test file.
 */
export function sharedPglite(logger: Logger): SharedPglite {
  let opened: Promise<SqlClient> | undefined;
  const client = (): Promise<SqlClient> =>
    (opened ??= (async () => {
      const db = await openPgliteWorker({ dataDir: await freshPgliteDir() });
      await runMigrations(db, logger);
      return db;
    })());
  // One hook for both, in this order: the database closes before its directory goes.
  after(async () => {
    if (opened) await (await opened).close();
    await removePgliteDirs();
  });
  return {
    async store() {
      return new SqlCandleStore(view(await client()));
    },
    async empty() {
      const db = await client();
      const { rows } = await db.query<{ name: string }>(
        `SELECT quote_ident(tablename) AS name FROM pg_tables
         WHERE schemaname = current_schema() AND tablename <> 'tickwire_migrations'`,
      );
      if (rows.length > 0) await db.query(`TRUNCATE ${rows.map((r) => r.name).join(', ')}`);
    },
    async query<T>(text: string, params?: readonly unknown[]) {
      return (await client()).query<T>(text, params);
    },
  };
}

/**
 * `db` for one store. As the worker client does: closing is idempotent and resolves once the statements sent before
 * it are answered; statements sent after it are refused.
 */
function view(db: SqlClient): SqlClient {
  let closed = false;
  const sent = new Set<Promise<unknown>>();
  const refused = (): Promise<never> => Promise.reject(new Error('the embedded database is closed'));
  function track<T>(call: Promise<T>): Promise<T> {
    sent.add(call);
    const settled = (): void => void sent.delete(call);
    call.then(settled, settled);
    return call;
  }
  return {
    query: (text, params) => (closed ? refused() : track(db.query(text, params))),
    transaction: (fn) => (closed ? refused() : track(db.transaction(fn))),
    async close() {
      closed = true;
      await Promise.allSettled([...sent]);
    },
  };
}
