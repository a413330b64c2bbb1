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

/** PGlite's start parameters with PGLITE_SETTINGS added (`-c name=value`; these win over postgresql.conf). */
export function pgliteStartParams(pglite: { readonly defaultStartParams: readonly string[] }): string[] {
  const params = [...pglite.defaultStartParams];
  for (const [name, value] of Object.entries(PGLITE_SETTINGS)) params.push('-c', `${name}=${value}`);
  return params;
}
