import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TickwireError } from '../domain/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { runMigrations } from './migrations.ts';
import { SqlCandleStore } from './sql-candle-store.ts';
import { pgliteClient } from './pglite-client.ts';
import { pgliteStartParams } from './pglite-settings.ts';
import type { SqlClient } from './sql-client.ts';
import { describeError as describe } from './pglite-worker-messages.ts';
import { openPgliteWorker } from './pglite-worker-client.ts';
import { processRunning } from '../util/process-running.ts';

export interface PgliteCandleStoreOptions {
  /** Folder of the database files; created when missing. The app passes `<storage.dataDir>/pglite`. */
  readonly dataDir: string;
  readonly logger: Logger;
  /**
   * Where PGlite runs: 'worker' (default), a worker thread of its own, so that reads and writes never stop the
   * event loop; 'main', this thread, kept as the baseline of `npm run bench history`.
   */
  readonly thread?: 'worker' | 'main';
}

/** Name of the file, inside the data directory, that says which process has the database open. */
export const LOCK_FILE = 'tickwire.lock';

/** Lock files this process holds, by absolute path: a second open in the same process is refused too. */
const held = new Set<string>();

/**
 * Opens the embedded candle store: PostgreSQL compiled to WebAssembly (PGlite), persisted under `dataDir`, with
 * the schema migrated. Nothing to install; one process at a time. PGlite runs each statement synchronously in
 * the thread that calls it, so by default it runs in a worker thread (pglite-worker.ts): a read of thousands of
 * bars then never holds up the server's event loop. A crash of that worker is logged, and every read and write
 * after it fails with STORE_UNAVAILABLE (writes stay buffered by BufferedCandleStore) until the process restarts.
 *
 * PGlite itself does not stop two processes from opening one directory, which would corrupt it, so the store
 * holds a lock file there (the owner's pid) while open. A lock whose process no longer runs (a crash) is taken
 * over. Throws a TickwireError STORE_UNAVAILABLE when the directory is in use, cannot be created, or does not
 * hold a usable database.
 */
export async function openPgliteCandleStore(options: PgliteCandleStoreOptions): Promise<SqlCandleStore> {
  const dir = resolve(options.dataDir);
  const { logger } = options;
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw unavailable(dir, `cannot create it: ${describe(err)}`, err);
  }
  const release = await lock(dir);
  let client: SqlClient | undefined;
  try {
    client = await openClient(dir, options);
    const migrated = await runMigrations(client, logger);
    logger.info(
      { dataDir: dir, applied: migrated.applied, thread: options.thread ?? 'worker' },
      'store: embedded database (PGlite) ready',
    );
    const opened = client;
    return new SqlCandleStore({
      ...opened,
      async close() {
        try {
          await opened.close();
        } finally {
          await release();
        }
      },
    });
  } catch (err) {
    await client?.close().catch(() => undefined);
    await release();
    throw unavailable(dir, `not a usable database: ${describe(err)}`, err);
  }
}

async function openClient(dir: string, options: PgliteCandleStoreOptions): Promise<SqlClient> {
  if (options.thread === 'main') {
    // Loaded only here, so that a process whose database runs in the worker never loads PGlite in this thread.
    const { PGlite } = await import('@electric-sql/pglite');
    return pgliteClient(await PGlite.create({ dataDir: dir, startParams: pgliteStartParams(PGlite) }));
  }
  return openPgliteWorker({
    dataDir: dir,
    onFailure: (err) => options.logger.error({ err, dataDir: dir }, 'store: embedded database worker failed'),
  });
}

/** Takes the directory's lock file; returns the function that gives it back. */
async function lock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  if (held.has(path)) throw unavailable(dir, 'it is already open in this process');
  // Two rounds: the second follows the removal of a stale lock.
  for (let round = 0; round < 2; round++) {
    try {
      const file = await open(path, 'wx');
      try {
        await file.writeFile(`${process.pid}\n`);
      } finally {
        await file.close();
      }
      held.add(path);
      return async () => {
        held.delete(path);
        await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw unavailable(dir, `cannot write its lock file: ${describe(err)}`, err);
      }
    }
    const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    // Our own pid in a lock we do not hold is a lock of an earlier run (a container's process is often pid 1).
    if (owner !== process.pid && processRunning(owner)) {
      throw unavailable(
        dir,
        `it is in use by process ${owner} (if that is not a Tickwire process, delete ${path} and start again)`,
      );
    }
    await rm(path, { force: true });
  }
  throw unavailable(dir, `another process took its lock file ${path} at the same moment`);
}

function unavailable(dir: string, why: string, cause?: unknown): TickwireError {
  return new TickwireError(
    'STORE_UNAVAILABLE',
    `embedded database directory ${dir}: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}
