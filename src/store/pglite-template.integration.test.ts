import assert from 'node:assert/strict';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../telemetry/logger.ts';
import { runMigrations } from './migrations.ts';
import { createPgliteDatabase } from './pglite-create.ts';
import { freshPgliteDir, removePgliteDirs, unusedPath } from './pglite-dirs.test-support.ts';
import { copyPgliteTemplate, holdsDatabase } from './pglite-template.ts';
import { openPgliteWorker } from './pglite-worker-client.ts';

/** A file no database holds, put into the template: its presence in a data directory shows a copy made it. */
const TEMPLATE_SIGN = 'made-from-template';

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Opens the database in `dir`, migrates it and reads the migrations back. */
async function migratedVersions(dir: string): Promise<number[]> {
  const client = await openPgliteWorker({ dataDir: dir });
  try {
    await runMigrations(client, silentLogger());
    const { rows } = await client.query<{ version: number }>(
      'SELECT version FROM tickwire_migrations ORDER BY version',
    );
    return rows.map((row) => row.version);
  } finally {
    await client.close();
  }
}

describe('the ready-made embedded database', () => {
  let template: string;

  before(async () => {
    template = await freshPgliteDir();
    await writeFile(join(template, TEMPLATE_SIGN), 'copied, not created\n');
  });
  after(removePgliteDirs);

  it('is copied into a new data directory, which opens and takes the migrations', async () => {
    const dir = await unusedPath('copied');
    await mkdir(dir);
    await createPgliteDatabase(dir, template);
    assert.ok(await exists(join(dir, TEMPLATE_SIGN)), 'the data directory is a copy of the template');
    assert.deepEqual(await migratedVersions(dir), [1, 2, 3, 4]);
  });

  it('does not take a copy cut short (no PG_VERSION) for a database: copies again over it', async () => {
    const dir = await unusedPath('half-copied');
    await mkdir(dir);
    await copyPgliteTemplate(template, dir);
    await rm(join(dir, 'PG_VERSION'));
    // What a copy cut short leaves: some of the files, one of them truncated, and no mark.
    await writeFile(join(dir, 'global', 'pg_control'), '');
    assert.equal(await holdsDatabase(dir), false);
    await createPgliteDatabase(dir, template);
    assert.ok(await holdsDatabase(dir));
    assert.deepEqual(await migratedVersions(dir), [1, 2, 3, 4]);
  });

  it('writes no PG_VERSION when a copy fails part-way', async () => {
    const dir = await unusedPath('copy-fails');
    await mkdir(dir);
    // The template's `base` folder cannot be copied over a file of that name.
    await writeFile(join(dir, 'base'), 'in the way\n');
    await assert.rejects(copyPgliteTemplate(template, dir));
    assert.equal(await holdsDatabase(dir), false);
  });

  it('creates the database when there is no template', async () => {
    const dir = await unusedPath('no-template');
    await mkdir(dir);
    await createPgliteDatabase(dir, await unusedPath('absent-template'));
    assert.equal(await exists(join(dir, TEMPLATE_SIGN)), false, 'created, not copied');
    assert.deepEqual(await migratedVersions(dir), [1, 2, 3, 4]);
  });

  it('leaves a data directory that holds a database as it is', async () => {
    const dir = await unusedPath('kept');
    await mkdir(dir);
    await createPgliteDatabase(dir, template);
    await rm(join(dir, TEMPLATE_SIGN));
    await createPgliteDatabase(dir, template);
    assert.equal(await exists(join(dir, TEMPLATE_SIGN)), false, 'not copied again');
  });
});
