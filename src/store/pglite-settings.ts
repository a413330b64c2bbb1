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

/** PGLITE_SETTINGS as start parameters (`-c name=value`; these win over postgresql.conf). */
export function pgliteSettingParams(): string[] {
  return Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

/** PGlite's start parameters with PGLITE_SETTINGS added. */
export function pgliteStartParams(pglite: { readonly defaultStartParams: readonly string[] }): string[] {
  return [...pglite.defaultStartParams, ...pgliteSettingParams()];
}
