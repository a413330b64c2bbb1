/**
 * Data directories for the PGlite test suites. Creating a PGlite database (its initdb) takes seconds, so a test
 * process does it once, into a template, and each fresh directory is a copy of it; opening a copy takes well
 * under a second. Every directory lives under one temporary folder that `removePgliteDirs` deletes.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

let root: Promise<{ base: string; template: string }> | undefined;
let count = 0;

function prepare(): Promise<{ base: string; template: string }> {
  root ??= (async () => {
    const base = await mkdtemp(join(tmpdir(), 'tickwire-pglite-'));
    const template = join(base, 'template');
    const db = await PGlite.create({ dataDir: template });
    await db.close();
    return { base, template };
  })();
  return root;
}

/** A new, empty PGlite data directory (not yet migrated). */
export async function freshPgliteDir(): Promise<string> {
  const { base, template } = await prepare();
  const dir = join(base, `db-${++count}`);
  await cp(template, dir, { recursive: true });
  return dir;
}

/** A path under the suite's temporary folder where nothing exists yet. */
export async function unusedPath(name: string): Promise<string> {
  const { base } = await prepare();
  return join(base, `${name}-${++count}`);
}

/** Deletes every directory this process made. */
export async function removePgliteDirs(): Promise<void> {
  if (!root) return;
  const { base } = await root;
  await rm(base, { recursive: true, force: true });
}
