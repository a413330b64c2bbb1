/**
 * The package as npm ships it, made in a temporary folder: the files `files` lists copied to a staging folder,
 * the sources compiled into it as `npm run build` does, and `npm pack` run there. The repository's own dist/ is left as it is.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MANIFEST = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  readonly version: string;
  readonly files: readonly string[];
  readonly exports: Readonly<Record<string, unknown>>;
  readonly dependencies: Readonly<Record<string, string>>;
};
export const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** What decides the tarball's contents besides `files`; copied to the staging folder when present. */
const PACKING_FILES = ['package.json', 'README.md', 'LICENSE', '.npmignore', '.gitignore'];

export interface PackedTickwire {
  /** The tarball's path. */
  readonly tarball: string;
  /** The paths inside it, relative to the package root. */
  readonly files: readonly string[];
}

/** Builds and packs Tickwire into `work` (an empty folder the caller owns). */
export async function packTickwire(work: string): Promise<PackedTickwire> {
  const stage = join(work, 'stage');
  mkdirSync(stage);
  for (const entry of [...PACKING_FILES, ...MANIFEST.files.filter((f) => f !== 'dist')]) {
    if (existsSync(join(REPO_ROOT, entry)))
      cpSync(join(REPO_ROOT, entry), join(stage, entry), { recursive: true });
  }
  // The compile step of `npm run build`, on its own: `npm run typecheck` checks the sources, so without checking
  // again it emits the same files sooner.
  await run(
    process.execPath,
    [TSC, '-p', 'tsconfig.build.json', '--outDir', join(stage, 'dist'), '--noCheck'],
    {
      cwd: REPO_ROOT,
    },
  );
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: stage,
  });
  const [result] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  assert.ok(result, stdout);
  return { tarball: join(work, result.filename), files: result.files.map((f) => f.path) };
}
