import { fileURLToPath } from 'node:url';

/**
 * The built dashboard of this package: dist/dashboard at the package root. This file runs as
 * src/apps/dashboard-dir.ts (through tsx) or as dist/apps/dashboard-dir.js (the built package, `npx tickwire`,
 * `npm run demo`), two levels below the root either way, so one relative path finds it from both. It may hold no
 * build yet; the gateway then says so at `/`.
 */
export function packageDashboardDir(): string {
  return fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));
}
