/**
 * Run as a process of its own (loaded-packages.integration.test.ts): starts `tickwire all` in this process with the
 * environment's configuration, stops it, and prints the npm packages it loaded as a JSON array.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.ts';
import { copyPgliteTemplate } from '../store/pglite-dirs.test-support.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { startAll } from './run-all.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-loaded-'));
try {
  await copyPgliteTemplate(join(dataDir, 'pglite'));
  const system = await startAll(loadConfig({ ...process.env, DATA_DIR: dataDir }), silentLogger());
  await system.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
// CommonJS packages (ioredis, pg, ws, pino) are in require's cache, also when imported from ES modules.
const packages = new Set<string>();
for (const path of Object.keys(createRequire(import.meta.url).cache)) {
  const name = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1];
  if (name !== undefined) packages.add(name);
}
process.stdout.write(JSON.stringify([...packages].sort()) + '\n');
