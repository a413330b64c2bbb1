import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { createPgliteDatabase } from './pglite-create.ts';
import { removePgliteDirs, unusedPath } from './pglite-dirs.test-support.ts';
import { openPgliteWorker } from './pglite-worker-client.ts';

/** Resident MB of every anonymous mapping of this process (Linux /proc). */
function anonymousMappingsMb(): number[] {
  const sizes: number[] = [];
  let anonymous = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) anonymous = mapping[1] === '';
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && anonymous) sizes.push(Number(rss[1]) / 1024);
  }
  return sizes;
}

describe('creating the embedded database', () => {
  after(removePgliteDirs);

  it('creates a database in an empty folder, which the worker opens and keeps', async () => {
    const dir = await unusedPath('created');
    await mkdir(dir);
    await createPgliteDatabase(dir);
    const first = await openPgliteWorker({ dataDir: dir });
    await first.query('CREATE TABLE kept (n int)');
    await first.query('INSERT INTO kept VALUES (42)');
    await first.close();
    // A folder that holds a database is left as it is.
    await createPgliteDatabase(dir);
    const again = await openPgliteWorker({ dataDir: dir });
    try {
      assert.deepEqual((await again.query<{ n: number }>('SELECT n FROM kept')).rows, [{ n: 42 }]);
    } finally {
      await again.close();
    }
  });

  it('leaves none of the creation in the process that opens a new database', async (t) => {
    if (process.platform !== 'linux') return t.skip('reads /proc/self/smaps');
    const dir = await unusedPath('fresh');
    await mkdir(dir);
    const client = await openPgliteWorker({ dataDir: dir });
    try {
      // Created in the worker, initdb's and the temporary server's WebAssembly memories stayed resident here
      // (165 and 128 MB); the open database's own memory holds about 30 MB of its 128 MB mapping.
      const largest = Math.max(...anonymousMappingsMb());
      assert.ok(largest < 100, `an anonymous mapping holds ${largest.toFixed(0)} MB`);
      assert.deepEqual((await client.query<{ one: number }>('SELECT 1 AS one')).rows, [{ one: 1 }]);
    } finally {
      await client.close();
    }
  });

  it("rejects with the child's error when the folder cannot hold a database", async () => {
    const file = await unusedPath('not-a-folder');
    await mkdir(file.slice(0, file.lastIndexOf('/')), { recursive: true });
    await writeFile(file, 'a file, not a folder\n');
    await assert.rejects(
      createPgliteDatabase(file),
      /creating the embedded database failed \(child process exit 1\): \S/,
    );
  });
});
