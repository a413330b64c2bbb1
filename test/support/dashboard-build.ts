/**
 * The built dashboard the browser suites serve. `npm run build` (which `npm ci` runs) writes it to dist/dashboard;
 * a suite run after editing the page's sources must not test an older build, so when a source the page bundles
 * (dashboard/, the client library, the protocol types) is newer than that build, the suite builds the sources
 * itself into a directory of its own (Vite, with the page's own configuration).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITE_CONFIG = join(REPO_ROOT, 'dashboard', 'vite.config.ts');
export const PACKAGE_DASHBOARD_DIR = join(REPO_ROOT, 'dist', 'dashboard');
/** What the page is built from. */
const PAGE_SOURCES = ['dashboard', 'src/client', 'src/protocol', 'src/domain'].map((dir) =>
  join(REPO_ROOT, dir),
);

/** The newest modification time of the files under `dir` (0 when there is none). */
async function newestUnder(dir: string): Promise<number> {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/**
 * The directory of an up-to-date build: dist/dashboard when it is newer than every source of the page, else a
 * fresh build in a temporary directory removed when the test ends.
 */
export async function dashboardBuild(t: { after(cleanup: () => Promise<void>): void }): Promise<string> {
  const index = join(PACKAGE_DASHBOARD_DIR, 'index.html');
  if (existsSync(index)) {
    const builtAt = (await stat(index)).mtimeMs;
    const sources = await Promise.all(PAGE_SOURCES.map(newestUnder));
    if (sources.every((mtime) => mtime <= builtAt)) return PACKAGE_DASHBOARD_DIR;
  }
  const outDir = await mkdtemp(join(tmpdir(), 'tickwire-dashboard-build-'));
  t.after(() => rm(outDir, { recursive: true, force: true }));
  await build({ configFile: VITE_CONFIG, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  return outDir;
}
