/**
 * Makes a new embedded database: a copy of the template the build made (pglite-template.ts) when there is one,
 * otherwise (a registry install, which does not ship it, or a run from the sources) created in a short-lived
 * child process, so that the process which then serves it never holds what creating it took.
 *
 * PGlite creates a database by running initdb and a second, temporary PostgreSQL in WebAssembly beside the one it
 * keeps: in the thread that does it that left two WebAssembly memories (165 and 128 MB resident) until that
 * thread's isolate happened to collect them (100 s and more on a busy machine), and a 64 MB malloc arena that
 * glibc never gives back. Opening an existing database needs none of that: in a child process, all of it goes
 * back to the system when the child exits; the worker thread then opens the database as it opens one at any
 * later start (docs/PERFORMANCE.md, "Idle stack memory").
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { pgliteSettingParams } from './pglite-settings.ts';
import { builtTemplateDir, copyPgliteTemplate, holdsDatabase } from './pglite-template.ts';

/**
 * The child: creates the database in argv[1] with the start parameters in argv[2] (JSON), then closes it cleanly
 * (a checkpoint), so that the next open finds a finished database. Plain JavaScript: no TypeScript loader needed.
 * It ends when its stdin does, i.e. with the process that started it, as creating in the worker thread did: a
 * creation left running could meet a second one in the same folder from that process's restart.
 */
const CREATE_SOURCE = `
process.stdin.on('end', () => process.exit(1)).resume();
const [dataDir, params, pgliteUrl] = process.argv.slice(1);
const { PGlite } = await import(pgliteUrl);
const db = await PGlite.create({ dataDir, startParams: [...PGlite.defaultStartParams, ...JSON.parse(params)] });
await db.close();
process.exit(0);
`;

/** How much of the child's stderr is kept to explain a failure. */
const STDERR_TAIL_CHARS = 2000;

/**
 * Makes the embedded database in `dataDir` (which must exist) unless it already holds one: a copy of `template`
 * (by default the one the build made) when that holds a database, else created in a child process. Rejects with
 * the child's error output when it could not be created.
 */
export async function createPgliteDatabase(dataDir: string, template = builtTemplateDir()): Promise<void> {
  if (await holdsDatabase(dataDir)) return;
  if (await copyPgliteTemplate(template, dataDir)) return;
  await createInChildProcess(dataDir);
}

/** Creates the embedded database in `dataDir` (which must exist and hold none) in a child process. */
export async function createInChildProcess(dataDir: string): Promise<void> {
  const pgliteUrl = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  const args = [
    // Liftoff only, as in the worker (pglite-worker-client.ts): the child is gone within seconds, and the
    // optimizing compiler's background threads would compete with the starting server for the CPU meanwhile.
    '--liftoff-only',
    '--input-type=module',
    '-e',
    CREATE_SOURCE,
    dataDir,
    JSON.stringify(pgliteSettingParams()),
    pgliteUrl,
  ];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });
  const code = await new Promise<number | string>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown'));
  });
  if (code !== 0) {
    throw new Error(`creating the embedded database failed (child process exit ${code}): ${stderr.trim()}`);
  }
}
