/**
 * Data directories for the tests that run the embedded store. Creating a PGlite database (its initdb) takes
 * seconds, so it is done once per PGlite version into a template under the system's temporary folder, shared by
 * every test process, and each fresh directory is a copy of it: opening a copy takes well under a second.
 * The template appears by an atomic rename, so a process never copies a half-made one. Every directory a
 * process makes lives under one temporary folder that `removePgliteDirs` deletes; the template stays as a cache.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { pgliteVersion } from './pglite-template.ts';

const run = promisify(execFile);

let template: Promise<string> | undefined;
let base: Promise<string> | undefined;
let count = 0;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The shared, empty (not yet migrated) database to copy; made on first use. */
function sharedTemplate(): Promise<string> {
  template ??= (async () => {
    const path = join(tmpdir(), `tickwire-pglite-template-${pgliteVersion()}`);
    if (await exists(path)) return path;
    const making = await mkdtemp(`${path}.making-`);
    try {
      const db = await PGlite.create({ dataDir: making });
      await db.close();
      await rename(making, path);
    } catch (err) {
      // Another process renamed its template into place first: use that one.
      if (!(await exists(path))) throw err;
    } finally {
      await rm(making, { recursive: true, force: true });
    }
    return path;
  })();
  return template;
}

function processFolder(): Promise<string> {
  base ??= mkdtemp(join(tmpdir(), 'tickwire-pglite-'));
  return base;
}

/** Makes `target` (which must not exist) a new, empty PGlite data directory, not yet migrated. */
export async function copyPgliteTemplate(target: string): Promise<void> {
  const source = await sharedTemplate();
  if (await exists(target)) throw new Error(`copyPgliteTemplate: ${target} already exists`);
  await mkdir(dirname(target), { recursive: true });
  // `cp -R` rather than fs.cp: the template is about a thousand files, which fs.cp copies with about 0.7 s of CPU
  // and cp with less than half of that; the suites copy it for most tests that run the embedded store.
  await run('cp', ['-R', source, target]);
}

/** A new, empty PGlite data directory (not yet migrated). */
export async function freshPgliteDir(): Promise<string> {
  const dir = join(await processFolder(), `db-${++count}`);
  await copyPgliteTemplate(dir);
  return dir;
}

/** A path under the suite's temporary folder where nothing exists yet. */
export async function unusedPath(name: string): Promise<string> {
  return join(await processFolder(), `${name}-${++count}`);
}

/** Deletes every directory this process made. */
export async function removePgliteDirs(): Promise<void> {
  if (!base) return;
  await rm(await base, { recursive: true, force: true });
}
