import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TickwireError } from '../domain/errors.ts';
import { silentLogger } from '../telemetry/logger.ts';
import {
  expected,
  makeUpdate,
  plain,
  runCandleStoreContract,
  uniqueSymbol,
} from './candle-store.contract.ts';
import { LOCK_FILE, openPgliteCandleStore } from './pglite-candle-store.ts';
import { freshPgliteDir, unusedPath } from './pglite-dirs.test-support.ts';
import { openPgliteWorker } from './pglite-worker-client.ts';
import { sharedPglite } from './shared-pglite.test-support.ts';

const logger = silentLogger();

// The contract's stores share one database, as they do on PostgreSQL; opening is tested below.
const shared = sharedPglite(logger);
runCandleStoreContract('SqlCandleStore on PGlite', () => shared.store());

function isUnavailable(pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof TickwireError, `expected a TickwireError, got ${String(err)}`);
    assert.equal(err.code, 'STORE_UNAVAILABLE');
    assert.match(err.message, pattern);
    return true;
  };
}

/**
 * Another Node process that opens the store in `dir` and keeps it open until its stdin closes. Resolves once it
 * has the store open.
 */
async function openInOtherProcess(dir: string): Promise<{ pid: number; stop(): Promise<void> }> {
  const script = `
    const { openPgliteCandleStore } = await import(process.argv[1]);
    const { silentLogger } = await import(process.argv[2]);
    const store = await openPgliteCandleStore({ dataDir: process.argv[3], logger: silentLogger() });
    process.stdout.write('open\\n');
    process.stdin.resume();
    process.stdin.on('end', () => store.close().then(() => process.exit(0)));
  `;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
      fileURLToPath(new URL('./pglite-candle-store.ts', import.meta.url)),
      fileURLToPath(new URL('../telemetry/logger.ts', import.meta.url)),
      dir,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      if (data.toString().includes('open')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the other process ended (code ${String(code)})`)));
  });
  return {
    pid: child.pid as number,
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}

describe('openPgliteCandleStore', () => {
  it('creates a missing data directory and keeps the bars across close and reopen', async () => {
    const dir = join(await unusedPath('new'), 'nested', 'pglite');
    const symbol = uniqueSymbol();
    const updates = [0, 1].map((i) => makeUpdate(symbol, 60_000 * i, { close: `0.${i}00000001` }));
    const first = await openPgliteCandleStore({ dataDir: dir, logger });
    await first.write(updates);
    await first.close();
    const second = await openPgliteCandleStore({ dataDir: dir, logger });
    try {
      assert.deepEqual((await second.recent(symbol, '1m', 10)).map(plain), updates.map(expected));
    } finally {
      await second.close();
    }
  });

  it('migrates once: reopening applies nothing and keeps one record per migration', async () => {
    const dir = await freshPgliteDir();
    await (await openPgliteCandleStore({ dataDir: dir, logger })).close();
    await (await openPgliteCandleStore({ dataDir: dir, logger })).close();
    // Read through the worker client, which reuses the process's compiled WebAssembly (PGlite in this thread
    // would compile it again).
    const db = await openPgliteWorker({ dataDir: dir });
    try {
      const { rows } = await db.query<{ version: number; name: string }>(
        'SELECT version, name FROM tickwire_migrations ORDER BY version',
      );
      assert.deepEqual(
        rows.map((r) => [r.version, r.name]),
        [
          [1, 'candles'],
          [2, 'trades'],
          [3, 'upstreams'],
          [4, 'accounts'],
        ],
      );
    } finally {
      await db.close();
    }
  });

  it('refuses a directory that another process has open, and opens it once that process closed it', async () => {
    const dir = await freshPgliteDir();
    const other = await openInOtherProcess(dir);
    try {
      await assert.rejects(
        openPgliteCandleStore({ dataDir: dir, logger }),
        isUnavailable(new RegExp(`in use by process ${other.pid}`)),
      );
    } finally {
      await other.stop();
    }
    await (await openPgliteCandleStore({ dataDir: dir, logger })).close();
  });

  it('refuses a second open of the same directory in one process', async () => {
    const dir = await freshPgliteDir();
    const store = await openPgliteCandleStore({ dataDir: dir, logger });
    try {
      await assert.rejects(
        openPgliteCandleStore({ dataDir: dir, logger }),
        isUnavailable(/already open in this process/),
      );
    } finally {
      await store.close();
    }
  });

  it('takes over the lock file of a process that no longer runs', async () => {
    const dir = await freshPgliteDir();
    // Above Linux's largest pid (2^22), so no process has it.
    await writeFile(join(dir, LOCK_FILE), '2147483000\n');
    const store = await openPgliteCandleStore({ dataDir: dir, logger });
    try {
      assert.equal((await readFile(join(dir, LOCK_FILE), 'utf8')).trim(), String(process.pid));
    } finally {
      await store.close();
    }
  });

  it('refuses a data directory that is a file', async () => {
    const path = await unusedPath('file');
    await writeFile(path, 'not a directory');
    await assert.rejects(openPgliteCandleStore({ dataDir: path, logger }), isUnavailable(/cannot create it/));
  });
});
