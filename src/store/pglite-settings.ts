/**
 * PostgreSQL settings the embedded database starts with, on top of PGlite's own start parameters.
 *
 * - `shared_buffers`: PostgreSQL's page cache, inside PGlite's WebAssembly memory, where every page it ever held
 *   stays resident. initdb writes 128MB into postgresql.conf; the candle store reads the newest pages of a few
 *   hundred series over and over (they fit in far less), and a page that falls out is read back from the files,
 *   which the operating system caches anyway. 16MB saves about 90 MB of resident memory per process with no
 *   measurable cost to the write and read batches of the candle store (docs/PERFORMANCE.md, "Idle stack memory").
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = Object.freeze({ shared_buffers: '16MB' });

/**
 * How many nice levels the database's thread (pglite-worker.ts) runs below the server's thread. Its work is
 * background work (bars written behind, history stored while the API serves), and on a busy machine it competed
 * with the event loop for a core. In the first 12 s of the demo stack, while history loads and the database's
 * thread runs about a third of a core, the server's thread waited 0.94–1.06 s for a core with this against
 * 1.04–1.18 s without (four alternated pairs), and 1.69–1.91 s against 1.95–2.21 s with a busy loop taking the
 * other core (six pairs). The database's thread then waits longer itself, for the same CPU time
 * (docs/PERFORMANCE.md, "Start-up").
 */
export const PGLITE_THREAD_NICE_STEPS = 10;

/** PGLITE_SETTINGS as start parameters (`-c name=value`; these win over postgresql.conf). */
export function pgliteSettingParams(): string[] {
  return Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/** PGlite's start parameters with PGLITE_SETTINGS added. */
export function pgliteStartParams(pglite: { readonly defaultStartParams: readonly string[] }): string[] {
  return [...pglite.defaultStartParams, ...pgliteSettingParams()];
}
