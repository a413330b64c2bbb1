/**
 * The package as npm ships it, made in a temporary folder: the files `files` lists copied to a staging folder,
 * the sources compiled into it as `npm run build` does, and `npm pack` run there. The repository's own dist/ is left as it is.
 *
 * Compiling and packing cost about 17 s of CPU, and two test files need the same tarball, so it is made once per
 * content of what goes into it (packCacheKey) and kept under the system's temporary folder; a test file that finds
 * it made for the same content uses it, and one that finds it being made waits for it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { processRunning } from '../../src/util/process-running.ts';

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
/**
 * What the compile reads besides the staged files: the sources, the compiler's settings, and the installed
 * dependencies' versions (their types shape the emitted declarations) and the compiler's own.
 */
const COMPILE_INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const CACHE_ROOT = join(tmpdir(), 'tickwire-pack-cache');
/** Made packages older than this are removed when a new one is made. */
const CACHE_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export interface PackedTickwire {
  /** The tarball's path: read it, never change it (other test files may be reading it). */
  readonly tarball: string;
  /** The paths inside it, relative to the package root. */
  readonly files: readonly string[];
}

/** The files staged for packing: the repository's entries that `npm pack` reads, dist/ aside. */
function stagedEntries(): string[] {
  return [...PACKING_FILES, ...MANIFEST.files.filter((f) => f !== 'dist')].filter((entry) =>
    existsSync(join(REPO_ROOT, entry)),
  );
}

/**
 * A digest of everything the tarball is made from: every file (path and content) of the staged entries and of the
 * compile's inputs, TypeScript's version and Node's, and this file (how it is made). Equal keys make equal
 * tarballs.
 */
export function packCacheKey(): string {
  const hash = createHash('sha256');
  const add = (path: string): void => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path).sort()) add(join(path, name));
    } else if (stat.isFile()) {
      hash.update(`${relative(REPO_ROOT, path)}\0${stat.size}\0`);
      hash.update(readFileSync(path));
    }
  };
  for (const entry of [...new Set([...stagedEntries(), ...COMPILE_INPUTS])].sort()) {
    if (existsSync(join(REPO_ROOT, entry))) add(join(REPO_ROOT, entry));
  }
  const typescript = JSON.parse(
    readFileSync(join(REPO_ROOT, 'node_modules', 'typescript', 'package.json'), 'utf8'),
  ) as { version: string };
  hash.update(`typescript ${typescript.version}\0node ${process.version}\0`);
  // And how it is made: this file.
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  return hash.digest('hex').slice(0, 32);
}

/**
 * Tickwire built and packed from the repository as it is now: made by packTickwireInto on the first call for this
 * content, the same tarball afterwards (in this process or another one). Concurrent callers wait for the one
 * making it; a maker that died leaves its lock behind, which the next caller takes over.
 */
export async function packTickwire(): Promise<PackedTickwire> {
  const key = packCacheKey();
  const done = join(CACHE_ROOT, key);
  const lock = `${done}.lock`;
  mkdirSync(CACHE_ROOT, { recursive: true });
  for (;;) {
    const made = readMade(done);
    if (made) return made;
    try {
      mkdirSync(lock);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!lockHolderRuns(lock)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    try {
      writeFileSync(join(lock, 'pid'), String(process.pid));
      const made = readMade(done);
      if (made) return made;
      pruneCache(key);
      const work = mkdtempSync(join(CACHE_ROOT, `${key}.making-`));
      try {
        const packed = await packTickwireInto(work);
        writeFileSync(
          join(work, 'packed.json'),
          JSON.stringify({ tarball: relative(work, packed.tarball), files: packed.files }),
        );
        rmSync(join(work, 'stage'), { recursive: true, force: true });
        try {
          renameSync(work, done);
        } catch (err) {
          // Two callers that both took over a dead maker's lock may both make it: the first one's stands.
          if (!readMade(done)) throw err;
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** The package made in `dir`, or undefined while there is none. */
function readMade(dir: string): PackedTickwire | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, 'packed.json'), 'utf8');
  } catch {
    return undefined;
  }
  const made = JSON.parse(text) as { tarball: string; files: string[] };
  return { tarball: join(dir, made.tarball), files: made.files };
}

/**
 * Whether the process that holds `lock` still runs. A lock without its pid is being taken, unless it has been
 * without one for seconds (its taker died in between).
 */
function lockHolderRuns(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    try {
      return Date.now() - statSync(lock).mtimeMs < 10_000;
    } catch {
      return false;
    }
  }
  return processRunning(pid);
}

/** Removes the made packages of other content older than CACHE_MAX_AGE_MS. */
function pruneCache(key: string): void {
  for (const name of readdirSync(CACHE_ROOT)) {
    if (name.startsWith(key) || name.endsWith('.lock')) continue;
    const path = join(CACHE_ROOT, name);
    if (Date.now() - statSync(path).mtimeMs > CACHE_MAX_AGE_MS)
      rmSync(path, { recursive: true, force: true });
  }
}

/** Builds and packs Tickwire into `work` (an empty folder the caller owns). */
async function packTickwireInto(work: string): Promise<PackedTickwire> {
  const stage = join(work, 'stage');
  mkdirSync(stage);
  for (const entry of stagedEntries()) {
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
