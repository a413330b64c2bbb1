/**
 * Build step (`npm run build`, after tsc): makes the ready-made empty embedded database that a new data directory
 * is copied from (pglite-template.ts), in `dist/pglite-template-<PGlite version>/`. Kept when it is already there
 * for this PGlite version; templates of other versions and the leftovers of a build cut short are removed. The
 * template appears by a rename, so a start never copies a half-made one.
 */
import { chmod, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInChildProcess } from './pglite-create.ts';
import { builtTemplateDir, holdsDatabase } from './pglite-template.ts';

const TEMPLATE_PREFIX = 'pglite-template-';

/**
 * A server may run as another user than the build (the Dockerfile builds as root and runs as `node`), and it only
 * reads the template: mkdtemp made the folder for its owner only, and PostgreSQL writes a few files so.
 */
async function makeReadableByAll(folder: string): Promise<void> {
  const entries = await readdir(folder, { recursive: true });
  for (const path of [folder, ...entries.map((entry) => join(folder, entry))]) {
    const { mode } = await stat(path);
    await chmod(path, mode | 0o444 | (mode & 0o111 ? 0o111 : 0));
  }
}

async function makePgliteTemplate(target: string): Promise<void> {
  const parent = dirname(target);
  for (const name of await readdir(parent)) {
    if (name.startsWith(TEMPLATE_PREFIX) && name !== basename(target)) {
      await rm(join(parent, name), { recursive: true, force: true });
    }
  }
  if (await holdsDatabase(target)) return;
  await rm(target, { recursive: true, force: true });
  const making = await mkdtemp(`${target}.making-`);
  try {
    // The same child and start parameters as a server start without a template.
    await createInChildProcess(making);
    await makeReadableByAll(making);
    await rename(making, target);
  } finally {
    await rm(making, { recursive: true, force: true });
  }
}

await makePgliteTemplate(builtTemplateDir());
