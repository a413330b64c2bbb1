/**
 * The ready-made empty embedded database: made once when Tickwire is built (make-pglite-template.ts, into
 * `dist/pglite-template-<PGlite version>/`) and copied into a new data directory at its first start, instead of
 * running PGlite's initdb there (seconds of CPU and hundreds of MB; docs/PERFORMANCE.md, "Start-up from a
 * ready-made database"). A copy of a database PGlite made is the database it would make: its files hold no path,
 * and the settings Tickwire adds are start parameters, not written into them (pglite-settings.ts).
 */
import { readFileSync } from 'node:fs';
import { access, copyFile, cp, open, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The file that marks a folder as holding a database (PostgreSQL's PG_VERSION, the mark PGlite itself looks for).
 * A copy writes it last, so that a copy cut short is never taken for a database.
 */
export const DATABASE_MARK = 'PG_VERSION';

/** True once `dataDir` holds a database. */
export async function holdsDatabase(dataDir: string): Promise<boolean> {
  try {
    await access(join(dataDir, DATABASE_MARK));
    return true;
  } catch {
    return false;
  }
}

/** The installed version of @electric-sql/pglite: a template is only good for the version that made it. */
export function pgliteVersion(): string {
  // The package does not export its package.json; find it above its entry point.
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
    } catch {
      // not this folder; look in its parent
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the version of @electric-sql/pglite');
    dir = parent;
  }
}

/** The name of the template folder for the installed PGlite. */
export function templateFolderName(): string {
  return `pglite-template-${pgliteVersion()}`;
}

/**
 * Where the build puts the template: `dist/pglite-template-<version>/` beside the compiled `dist/store/`. Run from
 * the sources (src/store/), this names `src/pglite-template-<version>/`, which does not exist, and a new database
 * is created instead.
 */
export function builtTemplateDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', templateFolderName());
}

/**
 * Copies the database in `template` into `dataDir` (which must exist; files there from a copy cut short are
 * overwritten), the mark last, once the rest is on the disk (fsync). Resolves to false, copying nothing, when
 * `template` holds no database.
 */
export async function copyPgliteTemplate(template: string, dataDir: string): Promise<boolean> {
  if (!(await holdsDatabase(template))) return false;
  const mark = join(template, DATABASE_MARK);
  await cp(template, dataDir, { recursive: true, filter: (source) => source !== mark });
  // The files reach the disk before the mark does: written back by the kernel in its own order, a mark on disk
  // could otherwise vouch, after a power cut, for files that never got there.
  await syncTree(dataDir);
  await copyFile(mark, join(dataDir, DATABASE_MARK));
  await syncPath(join(dataDir, DATABASE_MARK));
  await syncFolder(dataDir);
  return true;
}

/** Files synced at once: a few libuv threads do the work, and every one holds a descriptor meanwhile. */
const SYNC_BATCH = 32;

/** fsync of every file under `dir`, then of every folder (which holds the files' names) and `dir` itself. */
async function syncTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const folders = entries.filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name));
  await inBatches(files, syncPath);
  await inBatches([...folders, dir], syncFolder);
}

async function inBatches(paths: readonly string[], sync: (path: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < paths.length; i += SYNC_BATCH)
    await Promise.all(paths.slice(i, i + SYNC_BATCH).map(sync));
}

/** fsync of one file. */
async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * fsync of a folder, which makes its entries durable (Linux and the BSDs open a folder read-only for it); a system
 * or file system that cannot sync a folder this way (Windows, some network file systems) is left to its own.
 */
async function syncFolder(path: string): Promise<void> {
  try {
    await syncPath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw err;
  }
}
